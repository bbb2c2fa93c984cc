// Live progress of a long write over a real executor process: `stage_progress` events for the
// destination with DuckDB's percent up to 100 and rows ending at the input's row count, thinned
// to a few a second, the overall `progress` moving during the write; and the `aqueducts` CLI
// printing the same progress lines for a remote run as for a local one.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "executor/test_harness.h"
#include "protocol/events.h"

namespace aqueducts::executor::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int64_t kRows = 2'000'000;

class ProgressStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(MakeTempDir("progress"));
    std::ofstream csv(*dir_ / "big.csv");
    csv << "id,v,name,d\n";
    for (int64_t i = 0; i < kRows; i++) {
      csv << i << ',' << (i * 7919) % 1000 << ",name " << i << ',' << i / 7.0 << '\n';
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  void SetUp() override {
    executor_ = ExecutorProcess::Start();
    ASSERT_NE(executor_, nullptr) << "the executor did not start";
  }
  static std::string Body(const std::string& out) {
    json pipeline = {
        {"version", "v2"},
        {"sources", json::array({{{"type", "file"},
                                  {"name", "big"},
                                  {"format", {{"type", "csv"}}},
                                  {"location", (*dir_ / "big.csv").string()}}})},
        {"stages",
         json::array({json::array({{{"name", "pass"}, {"query", "SELECT * FROM big"}}})})},
        {"destination",
         {{"type", "file"},
          {"name", "out"},
          {"format", {{"type", "parquet"}}},
          {"location", (*dir_ / out).string()}}}};
    return json{{"pipeline", pipeline}}.dump();
  }

  static fs::path* dir_;
  std::unique_ptr<ExecutorProcess> executor_;
};

fs::path* ProgressStreamTest::dir_ = nullptr;

TEST_F(ProgressStreamTest, WriteReportsPercentAndRowsOverSse) {
  auto client = executor_->Client();
  client->set_read_timeout(300, 0);
  StreamResult r = Submit(*client, Body("sse.parquet"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Last(), "completed");

  std::vector<ProgressEvent> progress;
  std::vector<int64_t> sent_us;
  bool writing = false;
  int overall_while_writing = 0;
  for (const auto& m : r.messages) {
    auto decoded = protocol::Decode(m);
    ASSERT_TRUE(decoded.ok()) << m.event;
    if (m.event == "destination_started") {
      writing = true;
    } else if (m.event == "destination_completed") {
      writing = false;
      EXPECT_EQ(decoded->event.rows, kRows);
    } else if (m.event == "progress" && writing) {
      overall_while_writing++;
    } else if (m.event == "stage_progress" && decoded->event.name == "out") {
      EXPECT_TRUE(writing) << "destination progress outside its write";
      progress.push_back(decoded->event);
      sent_us.push_back(decoded->ts_us);
    }
  }
  ASSERT_GE(progress.size(), 3u);
  bool between = false;
  for (size_t i = 0; i < progress.size(); i++) {
    EXPECT_LE(progress[i].rows, kRows);
    if (i > 0) {
      EXPECT_GE(progress[i].percent, progress[i - 1].percent);
      EXPECT_GE(progress[i].rows, progress[i - 1].rows);
      // Thinned to a few a second (the news of completion may follow sooner); a generous
      // bound below the executor's 200 ms gap.
      if (progress[i].percent < 100) {
        EXPECT_GE(sent_us[i] - sent_us[i - 1], 100'000) << "progress events too close";
      }
    }
    between |= progress[i].percent > 0 && progress[i].percent < 100 && progress[i].rows > 0 &&
               progress[i].rows < kRows;
  }
  EXPECT_TRUE(between) << "no progress between 0 and 100 during the write";
  EXPECT_EQ(progress.back().percent, 100);
  EXPECT_EQ(progress.back().rows, kRows);
  EXPECT_GT(overall_while_writing, 0) << "the overall progress did not move during the write";
}

struct Output {
  int exit_code = -1;
  std::string text;
};

Output Shell(const std::string& command) {
  Output out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.text.append(buf, n);
  }
  int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The plain progress lines of the destination (stderr is not a terminal here).
std::vector<std::string> DestinationLines(const std::string& text) {
  static const std::regex line(R"(   out: running for [^\n]* rows [0-9]+%[^\n]*)");
  std::vector<std::string> lines;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator();
       ++it) {
    lines.push_back(it->str());
  }
  return lines;
}

TEST_F(ProgressStreamTest, CliPrintsTheSameProgressLinesRemotelyAndLocally) {
  std::string yml = (*dir_ / "p.yml").string();
  std::ofstream(yml) << "version: v2\nsources:\n  - type: file\n    name: big\n"
                     << "    format: {type: csv}\n    location: " << (*dir_ / "big.csv").string()
                     << "\nstages:\n  - - name: pass\n      query: SELECT * FROM big\n"
                     << "destination:\n  type: file\n  name: out\n  format: {type: parquet}\n"
                     << "  location: " << (*dir_ / "cli.parquet").string() << "\n";
  std::string cli =
      "AQUEDUCTS_PROGRESS_INTERVAL_MS=300 " + std::string(AQ_CLI_BIN) + " run -f " + yml;
  Output local = Shell(cli);
  ASSERT_EQ(local.exit_code, 0) << local.text;
  Output remote = Shell(cli + " --executor 127.0.0.1:" + std::to_string(executor_->port()) +
                        " --api-key " + kKey);
  ASSERT_EQ(remote.exit_code, 0) << remote.text;
  for (const Output* out : {&local, &remote}) {
    auto lines = DestinationLines(out->text);
    EXPECT_FALSE(lines.empty()) << "no progress line for the write in:\n" << out->text;
    EXPECT_NE(out->text.find("2,000,000 rows"), std::string::npos) << out->text;
  }
}

}  // namespace
}  // namespace aqueducts::executor::testing

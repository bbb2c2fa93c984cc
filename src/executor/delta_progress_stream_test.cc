// Live progress of a Delta upsert over a real executor process: the destination's
// `stage_progress` events name the write's phase (scanning, writing files, committing, in that
// order) in `phase`, their percent never goes down and moves into each phase's share, and
// their rows end, at 100 %, at the rows upserted.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "executor/test_harness.h"
#include "protocol/events.h"

namespace aqueducts::executor::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int64_t kRows = 1'500'000;
constexpr int64_t kUpserted = 1'000'000;

int PhaseRank(const std::string& phase) {
  return phase == "scanning" ? 0 : phase == "writing files" ? 1 : phase == "committing" ? 2 : -1;
}

class DeltaProgressStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("delta_progress");
    std::ofstream csv(dir_ / "big.csv");
    csv << "id,v,name\n";
    for (int64_t i = 0; i < kRows; i++) {
      csv << i << ',' << (i * 7919) % 1000 << ",name " << i << '\n';
    }
    csv.close();
    executor_ = ExecutorProcess::Start();
    ASSERT_NE(executor_, nullptr) << "the executor did not start";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Body(const std::string& query, const json& write_mode) const {
    json pipeline = {{"version", "v2"},
                     {"sources", json::array({{{"type", "file"},
                                               {"name", "big"},
                                               {"format", {{"type", "csv"}}},
                                               {"location", (dir_ / "big.csv").string()}}})},
                     {"stages", json::array({json::array({{{"name", "pass"}, {"query", query}}})})},
                     {"destination",
                      {{"type", "delta"},
                       {"name", "table"},
                       {"location", (dir_ / "table").string()},
                       {"write_mode", write_mode}}}};
    return json{{"pipeline", pipeline}}.dump();
  }

  fs::path dir_;
  std::unique_ptr<ExecutorProcess> executor_;
};

TEST_F(DeltaProgressStreamTest, UpsertReportsItsPhasesAndRowsOverSse) {
  auto client = executor_->Client();
  client->set_read_timeout(300, 0);
  StreamResult created =
      Submit(*client, Body("SELECT id, v, name FROM big", {{"operation", "append"}}));
  ASSERT_EQ(created.status, 200) << created.body;
  ASSERT_EQ(created.Last(), "completed");

  StreamResult r = Submit(
      *client, Body("SELECT id, v + 1 AS v, name FROM big WHERE id < " + std::to_string(kUpserted),
                    {{"operation", "upsert"}, {"params", json::array({"id"})}}));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Last(), "completed");

  std::vector<ProgressEvent> progress;
  for (const auto& m : r.messages) {
    auto decoded = protocol::Decode(m);
    ASSERT_TRUE(decoded.ok()) << m.event;
    if (m.event == "stage_progress" && decoded->event.name == "table") {
      progress.push_back(decoded->event);
    }
  }
  ASSERT_GE(progress.size(), 3u);
  int rank = -1;
  double percent = -1;
  int64_t rows = -1;
  bool seen[3] = {false, false, false};
  for (const auto& event : progress) {
    int now = PhaseRank(event.phase);
    ASSERT_GE(now, 0) << "not a phase: '" << event.phase << "'";
    EXPECT_GE(now, rank) << "phase " << event.phase << " came after a later one";
    EXPECT_GE(event.percent, percent);
    EXPECT_GE(event.rows, rows);
    EXPECT_LE(event.rows, kUpserted);
    seen[now] = true;
    rank = now;
    percent = event.percent;
    rows = event.rows;
  }
  EXPECT_TRUE(seen[0]) << "no scanning phase";
  EXPECT_TRUE(seen[1]) << "no writing files phase";
  EXPECT_EQ(progress.back().phase, "committing");
  EXPECT_EQ(progress.back().percent, 100);
  EXPECT_EQ(progress.back().rows, kUpserted);
}

}  // namespace
}  // namespace aqueducts::executor::testing

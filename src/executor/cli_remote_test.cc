// The `aqueducts` binary in remote mode against the executor binary: output and exit codes.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "executor/test_harness.h"
#include "testing.h"

namespace aqueducts::executor::testing {
namespace {

namespace fs = std::filesystem;

using Output = ::aqueducts::testing::ProcessResult;

// Run a shell command in `dir`, capturing stdout and stderr.
Output RunIn(const fs::path& dir, const std::string& command) {
  return ::aqueducts::testing::RunShell(dir.string(), command);
}

class CliRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    executor_ = ExecutorProcess::Start();
    ASSERT_NE(executor_, nullptr);
    // A private copy of the examples: the pipeline writes next to its inputs.
    dir_ = MakeTempDir("cli");
    fs::path examples =
        fs::path(aqueducts::testing::FixturesDir()) / "aqueducts-examples" / "examples";
    fs::create_directories(dir_ / "examples");
    for (const char* name :
         {"aqueduct_pipeline_simple.yml", "temp_readings_jan_2024.csv", "location_dict.csv"}) {
      fs::copy_file(examples / name, dir_ / "examples" / name);
    }
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Flags() const {
    return " --executor 127.0.0.1:" + std::to_string(executor_->port()) + " --api-key " + kKey;
  }

  std::unique_ptr<ExecutorProcess> executor_;
  fs::path dir_;
};

TEST_F(CliRemoteTest, RunPrintsLikeALocalRunAndExitsZero) {
  Output out = RunIn(dir_, std::string(AQ_CLI_BIN) +
                               " run --file examples/aqueduct_pipeline_simple.yml -p month=jan "
                               "-p year=2024" +
                               Flags());
  EXPECT_EQ(out.exit_code, 0) << out.all();
  EXPECT_NE(out.all().find("enriched"), std::string::npos) << out.all();
  EXPECT_NE(out.all().find("Berlin"), std::string::npos) << "stage output (show: 10) missing";
  EXPECT_TRUE(fs::exists(dir_ / "examples" / "output_jan_2024.parquet"))
      << "relative locations resolve on the client";
}

// `--output json` on an executor: the executor renders the previews, and stdout holds exactly
// what a local run prints.
TEST_F(CliRemoteTest, JsonPreviewsFromTheExecutorMatchALocalRun) {
  const std::string run = std::string(AQ_CLI_BIN) +
                          " run -q --output json --file examples/aqueduct_pipeline_simple.yml "
                          "-p month=jan -p year=2024";
  Output remote = RunIn(dir_, run + Flags());
  ASSERT_EQ(remote.exit_code, 0) << remote.all();
  Output local = RunIn(dir_, run);
  ASSERT_EQ(local.exit_code, 0) << local.all();
  const std::string& remote_lines = remote.out;  // stdout only: progress and plans are on stderr
  EXPECT_EQ(remote_lines, local.out);
  EXPECT_EQ(remote_lines.rfind("{\"stage\":\"enriched\",\"row\":{", 0), 0u) << remote_lines;
  EXPECT_EQ(std::count(remote_lines.begin(), remote_lines.end(), '\n'), 10) << "show: 10";
}

TEST_F(CliRemoteTest, FailedRemoteRunExitsOneWithTheMessage) {
  std::ofstream(dir_ / "bad.yml") << "version: v2\nsources: []\nstages:\n"
                                     "  - - name: boom\n      query: SELECT * FROM nowhere_tbl\n";
  Output out = RunIn(dir_, std::string(AQ_CLI_BIN) + " run --file bad.yml" + Flags());
  EXPECT_EQ(out.exit_code, 1) << out.all();
  EXPECT_NE(out.all().find("nowhere_tbl"), std::string::npos) << out.all();
}

// The error lines ("Error[id]: message", "  help: ...") of a run's stderr.
std::string ErrorLines(const std::string& err) {
  std::string out;
  size_t start = 0;
  while (start < err.size()) {
    size_t end = err.find('\n', start);
    std::string line = err.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? err.size() : end + 1;
    if (line.rfind("Error", 0) == 0 || line.rfind("  help:", 0) == 0) {
      out += line + "\n";
    }
  }
  return out;
}

TEST_F(CliRemoteTest, ARemoteFailurePrintsWhatTheSameLocalFailurePrints) {
  // A CSV file declared as Parquet: the source fails to register when the run starts, with a
  // catalogue id and a hint.
  std::ofstream(dir_ / "bad.yml")
      << "version: v2\nsources:\n  - type: file\n    name: readings\n"
         "    format: {type: parquet, options: {}}\n"
         "    location: examples/temp_readings_jan_2024.csv\n"
         "stages:\n  - - name: all\n      query: SELECT * FROM readings\n";
  Output local = RunIn(dir_, std::string(AQ_CLI_BIN) + " run --file bad.yml");
  Output remote = RunIn(dir_, std::string(AQ_CLI_BIN) + " run --file bad.yml" + Flags());
  EXPECT_EQ(local.exit_code, 1) << local.all();
  EXPECT_EQ(remote.exit_code, local.exit_code) << remote.all();
  std::string expected = ErrorLines(local.err);
  ASSERT_NE(expected.find("Error[aqueducts::source::register_file]: "), std::string::npos)
      << local.all();
  ASSERT_NE(expected.find("  help: "), std::string::npos) << local.all();
  EXPECT_EQ(ErrorLines(remote.err), expected) << remote.all();
}

TEST_F(CliRemoteTest, StatusAndCancelCommands) {
  Output status = RunIn(dir_, std::string(AQ_CLI_BIN) + " status" + Flags());
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_NE(status.all().find("idle"), std::string::npos) << status.all();
  Output cancel = RunIn(
      dir_, std::string(AQ_CLI_BIN) + " cancel 00000000-0000-4000-8000-000000000000" + Flags());
  EXPECT_NE(cancel.exit_code, 0) << cancel.all();
  EXPECT_NE(cancel.all().find("not found"), std::string::npos) << cancel.all();
}

// The original CLI's spelling: `aqueducts cancel -e|--execution-id ID --executor X --api-key K`.
TEST_F(CliRemoteTest, CancelTakesTheOriginalsExecutionIdFlags) {
  for (const char* flag : {" -e ", " --execution-id "}) {
    Output cancel = RunIn(dir_, std::string(AQ_CLI_BIN) + " cancel" + flag +
                                    "00000000-0000-4000-8000-000000000000" + Flags());
    EXPECT_EQ(cancel.exit_code, 1) << flag << cancel.all();
    EXPECT_NE(cancel.all().find("not found"), std::string::npos) << flag << cancel.all();
  }
}

}  // namespace
}  // namespace aqueducts::executor::testing

// `aqueducts delta history` and `aqueducts delta vacuum` on Delta tables in Azure Blob (azurite)
// and Google Cloud Storage (our XML API emulator), as the S3 case does in
// cli_delta_object_store_test.cc: a partitioned table written by pipelines (create, append,
// replace of one partition), its history, a vacuum dry run, the vacuum itself, and the table
// read back unchanged; credentials from --storage-config arguments only.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "cli_harness.h"
#include "emulator.h"
#include "object_store_cli.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

size_t CountLines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class CliDeltaMaintenanceTest : public ::testing::TestWithParam<Emulator::Kind> {
 protected:
  void SetUp() override {
    store_ = Emulator::Start(GetParam());
    ASSERT_NE(store_, nullptr);
    dir_ =
        fs::temp_directory_path() / ("aq-delta-maint-" + std::string(Emulator::Scheme(GetParam())) +
                                     "-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    table_ = std::string(Emulator::Scheme(GetParam())) + "://bucket/tables/t";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Rows range(from, to) appended (partition p = i % 3), or replacing partition p = 1.
  CliResult Write(int from, int to, const std::string& mode) {
    std::string write_mode = mode == "append"
                                 ? "{operation: append}"
                                 : "{operation: replace, params: [{column: p, value: '1'}]}";
    std::string partition = mode == "append" ? "(i % 3)" : "1";
    return Run(
        "sources: []\n"
        "stages: [[{name: s, query: 'SELECT i::BIGINT AS id, " +
        partition + "::BIGINT AS p FROM range(" + std::to_string(from) + ", " + std::to_string(to) +
        ") r(i)'}]]\n"
        "destination:\n"
        "  type: delta\n"
        "  name: out\n"
        "  location: " +
        table_ + "\n  storage_config: " + ConfigYaml(store_->Config()) +
        "\n"
        "  write_mode: " +
        write_mode +
        "\n"
        "  partition_columns: [p]\n"
        "  schema:\n"
        "    - {name: id, data_type: int64, nullable: false}\n"
        "    - {name: p, data_type: int64, nullable: false}\n");
  }

  // The table's rows as CSV sorted by id.
  std::string Read() {
    fs::path out = dir_ / "rows.csv";
    fs::remove(out);
    CliResult r = Run("sources:\n  - {type: delta, name: t, location: " + table_ +
                      ", storage_config: " + ConfigYaml(store_->Config()) +
                      "}\n"
                      "stages: [[{name: s, query: 'SELECT id, p FROM t ORDER BY id'}]]\n"
                      "destination: {type: file, name: o, format: {type: csv, options: {}}, "
                      "location: '" +
                      out.string() + "'}\n");
    EXPECT_EQ(r.exit_code, 0) << r.all();
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  CliResult Run(const std::string& yaml) {
    fs::path file = dir_ / "p.yml";
    std::ofstream(file) << yaml;
    return RunCli({"run", "-f", file.string()}, dir_.string());
  }

  // `aqueducts delta ARGS --storage-config K=V ...` with the emulator's credentials.
  CliResult Delta(std::vector<std::string> args) {
    args.insert(args.begin(), "delta");
    for (const auto& [key, value] : store_->Config()) {
      args.insert(args.end(), {"--storage-config", key + "=" + value});
    }
    return RunCli(args, dir_.string());
  }

  std::unique_ptr<Emulator> store_;
  fs::path dir_;
  std::string table_;
};

TEST_P(CliDeltaMaintenanceTest, HistoryAndVacuumOfAPartitionedTable) {
  CliResult created = Write(0, 300, "append");
  ASSERT_EQ(created.exit_code, 0) << created.all();
  CliResult appended = Write(300, 600, "append");
  ASSERT_EQ(appended.exit_code, 0) << appended.all();
  CliResult replaced = Write(1000, 1010, "replace");
  ASSERT_EQ(replaced.exit_code, 0) << replaced.all();
  std::string rows = Read();
  EXPECT_EQ(CountLines(rows), 1u + 400u + 10u) << rows;

  CliResult history = Delta({"history", table_, "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.all();
  // The create (table, then its first rows), the append, the replace.
  EXPECT_EQ(CountLines(history.out), 4u) << history.out;
  size_t v3 = history.out.find("\"version\":3");
  size_t v0 = history.out.find("\"version\":0");
  ASSERT_NE(v3, std::string::npos) << history.out;
  ASSERT_NE(v0, std::string::npos) << history.out;
  EXPECT_LT(v3, v0) << history.out;  // newest first
  EXPECT_NE(history.out.find("\"operation\":\"WRITE\""), std::string::npos) << history.out;
  CliResult table = Delta({"history", table_, "--limit", "1"});
  ASSERT_EQ(table.exit_code, 0) << table.all();
  EXPECT_EQ(CountLines(table.out), 2u) << table.out;  // heading + version 3

  // The replace removed partition p = 1's files of the first two writes: a dry run lists them
  // (and nothing of the other partitions), the vacuum deletes them, a second finds nothing.
  CliResult dry = Delta({"vacuum", table_, "--retain-hours", "0", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  EXPECT_NE(dry.out.find("would delete p=1/"), std::string::npos) << dry.out;
  EXPECT_EQ(dry.out.find("p=0/"), std::string::npos) << dry.out;
  EXPECT_EQ(dry.out.find("p=2/"), std::string::npos) << dry.out;
  size_t listed = CountLines(dry.out) - 1;
  EXPECT_GE(listed, 2u) << dry.out;  // one file of each write at least
  CliResult vacuum = Delta({"vacuum", table_, "--retain-hours", "0"});
  ASSERT_EQ(vacuum.exit_code, 0) << vacuum.all();
  EXPECT_EQ(CountLines(vacuum.out) - 1, listed) << vacuum.out;
  EXPECT_NE(vacuum.out.find("deleted p=1/"), std::string::npos) << vacuum.out;
  CliResult again = Delta({"vacuum", table_, "--retain-hours", "0", "--dry-run"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_NE(again.out.find("Would delete 0 file(s)"), std::string::npos) << again.out;
  EXPECT_EQ(Read(), rows);  // the latest version reads the same

  // Without the credentials: an error naming the table, non-zero exit.
  CliResult denied = RunCli({"delta", "history", table_}, dir_.string());
  EXPECT_EQ(denied.exit_code, 1) << denied.all();
  EXPECT_NE(denied.all().find(table_), std::string::npos) << denied.all();
}

INSTANTIATE_TEST_SUITE_P(Stores, CliDeltaMaintenanceTest,
                         ::testing::Values(Emulator::Kind::kAzure, Emulator::Kind::kGcs),
                         [](const ::testing::TestParamInfo<Emulator::Kind>& param_info) {
                           return std::string(Emulator::Name(param_info.param));
                         });

}  // namespace
}  // namespace aqueducts::testing

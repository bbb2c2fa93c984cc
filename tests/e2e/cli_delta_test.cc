// `aqueducts delta history|vacuum` on copies of real Delta tables, and a pipeline reading one.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

class CliDelta : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = dir_.path() / "table";
    fs::copy(FixturesDir() + "/delta/golden_basic-with-inserts-deletes-checkpoint/delta", table_,
             fs::copy_options::recursive);
  }
  size_t ParquetFiles() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(table_)) {
      n += e.path().extension() == ".parquet";
    }
    return n;
  }
  // Rows of the table through a pipeline (delta source -> CSV file), as a user would read it.
  std::string CountThroughPipeline() {
    std::string yml = dir_.Write(
        "count.yml", "sources:\n  - type: delta\n    name: t\n    location: " + table_.string() +
                         "\nstages:\n  - - name: n\n      query: SELECT count(*) AS n "
                         "FROM t\ndestination:\n  type: file\n  name: out\n  format: "
                         "{type: csv, options: {has_header: false}}\n  location: " +
                         dir_.str() + "/n.csv\n");
    CliResult r = RunCli({"run", "-q", "-f", yml});
    EXPECT_EQ(r.exit_code, 0) << r.all();
    std::ifstream in(dir_.str() + "/n.csv");
    std::string n;
    std::getline(in, n);
    return n;
  }
  TempDir dir_;
  fs::path table_;
};

TEST_F(CliDelta, HistoryListsEveryVersionNewestFirst) {
  CliResult r = RunCli({"delta", "history", table_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  size_t v13 = r.out.find("\n13 ");
  size_t v0 = r.out.find("\n0 ");
  ASSERT_NE(v13, std::string::npos) << r.out;
  ASSERT_NE(v0, std::string::npos) << r.out;
  EXPECT_LT(v13, v0);
  EXPECT_NE(r.out.find("DELETE"), std::string::npos);
  CliResult j = RunCli({"delta", "history", table_.string(), "--json", "-n", "1"});
  ASSERT_EQ(j.exit_code, 0);
  EXPECT_NE(j.out.find("\"version\":13"), std::string::npos) << j.out;
  EXPECT_EQ(j.out.find("\"version\":12"), std::string::npos) << j.out;
}

TEST_F(CliDelta, VacuumDryRunDeletesNothingThenVacuumKeepsTheTableReadable) {
  EXPECT_EQ(CountThroughPipeline(), "41");
  size_t before = ParquetFiles();
  CliResult dry = RunCli({"delta", "vacuum", table_.string(), "--retain-hours", "0", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  EXPECT_NE(dry.out.find("would delete"), std::string::npos) << dry.out;
  EXPECT_EQ(ParquetFiles(), before);
  CliResult real = RunCli({"delta", "vacuum", table_.string(), "--retain-hours", "0"});
  ASSERT_EQ(real.exit_code, 0) << real.all();
  EXPECT_LT(ParquetFiles(), before);
  EXPECT_EQ(CountThroughPipeline(), "41");
}

TEST_F(CliDelta, MissingTableIsAClearError) {
  CliResult r = RunCli({"delta", "history", dir_.str() + "/nothing_here"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nothing_here"), std::string::npos) << r.err;
}

// The reported data loss: '' and NULL in a string partition column, written by a pipeline.
// Every row must be in the table once; '' reads back as NULL.
TEST_F(CliDelta, EmptyAndNullPartitionValuesKeepEveryRow) {
  std::string out = dir_.str() + "/parted";
  std::string yml = dir_.Write(
      "parted.yml",
      "sources: []\nstages:\n  - - name: s\n      query: \"SELECT i::BIGINT AS id, (CASE WHEN i "
      "= 0 THEN '' WHEN i = 1 THEN NULL ELSE 'x' END) AS p FROM range(0, 3) t(i)\"\n"
      "destination:\n  type: delta\n  name: d\n  location: " +
          out +
          "\n  write_mode: {operation: append}\n  partition_columns: [p]\n  schema:\n"
          "    - {name: id, data_type: int64}\n    - {name: p, data_type: utf8}\n");
  CliResult w = RunCli({"run", "-q", "-f", yml});
  ASSERT_EQ(w.exit_code, 0) << w.all();
  std::string read = dir_.Write(
      "read.yml", "sources:\n  - type: delta\n    name: t\n    location: " + out +
                      "\nstages:\n  - - name: n\n      query: SELECT string_agg(id || ':' || "
                      "coalesce(p, 'NULL'), '|' ORDER BY id) AS v FROM t\ndestination:\n  type: "
                      "file\n  name: out\n  format: {type: csv, options: {has_header: false}}\n "
                      " location: " +
                      dir_.str() + "/rows.csv\n");
  CliResult r = RunCli({"run", "-q", "-f", read});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  std::ifstream in(dir_.str() + "/rows.csv");
  std::string rows;
  std::getline(in, rows);
  EXPECT_EQ(rows, "0:NULL|1:NULL|2:x");
}

// A table property that would switch on an unimplemented protocol feature fails the run
// before anything is created.
TEST_F(CliDelta, FeaturePropertyIsRefusedAndNothingIsCreated) {
  std::string out = dir_.str() + "/refused";
  std::string yml = dir_.Write(
      "refused.yml",
      "sources: []\nstages:\n  - - name: s\n      query: SELECT 1::BIGINT AS id\n"
      "destination:\n  type: delta\n  name: d\n  location: " +
          out +
          "\n  write_mode: {operation: append}\n  table_properties: {delta.enableRowTracking: "
          "'true'}\n  schema:\n    - {name: id, data_type: int64}\n");
  CliResult r = RunCli({"run", "-q", "-f", yml});
  EXPECT_NE(r.exit_code, 0) << r.all();
  EXPECT_NE(r.err.find("delta.enableRowTracking"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'d'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace aqueducts::testing

// `aqueducts delta history|vacuum` on copies of real Delta tables, and a pipeline reading one.
#include <filesystem>

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

}  // namespace
}  // namespace aqueducts::testing

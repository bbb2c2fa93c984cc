// File destinations through the CLI: the pipeline never deletes what it did not write, and
// mistakes about files and directories are reported as such (issue 9 A and E).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Pipeline(const std::string& source, const std::string& destination) {
  return "sources:\n" + source + "stages:\n  - - name: s\n      query: SELECT * FROM readings\n" +
         "destination:\n" + destination;
}

std::string CsvSource(const std::string& location, const std::string& options = "{}") {
  return "  - type: file\n    name: readings\n    format: {type: csv, options: " + options +
         "}\n    location: " + location + "\n";
}

class CliFileDestination : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("in.csv", "id,value\n1,10\n2,20\n");
    dir_.Write("work/precious.txt", "keep me");
  }
  CliResult Run(const std::string& text, const std::string& cwd = "") {
    std::string path = dir_.Write("p.yml", text);
    return RunCli({"run", "-f", path}, cwd.empty() ? dir_.str() : cwd);
  }
  TempDir dir_;
};

TEST_F(CliFileDestination, ASingleFileDestinationOnADirectoryIsRefused) {
  CliResult r = Run(Pipeline(CsvSource(dir_.str() + "/in.csv"),
                             "  type: file\n  name: out\n  single_file: true\n"
                             "  format: {type: csv, options: {}}\n  location: .\n"),
                    (dir_.path() / "work").string());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("file destination 'out'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  EXPECT_EQ(Slurp(dir_.path() / "work/precious.txt"), "keep me");
}

TEST_F(CliFileDestination, ADirectoryDestinationLeavesOtherFilesAloneWithAWarning) {
  std::string text = Pipeline(CsvSource(dir_.str() + "/in.csv"),
                              "  type: file\n  name: out\n  single_file: false\n"
                              "  format: {type: csv, options: {}}\n  location: .\n");
  CliResult first = Run(text, (dir_.path() / "work").string());
  ASSERT_EQ(first.exit_code, 0) << first.all();
  EXPECT_NE(first.err.find("did not write"), std::string::npos) << first.all();
  CliResult second = Run(text, (dir_.path() / "work").string());
  ASSERT_EQ(second.exit_code, 0) << second.all();
  EXPECT_EQ(Slurp(dir_.path() / "work/precious.txt"), "keep me");
  // Exactly one run's output: the second replaced the first's files.
  int csv_files = 0;
  for (const auto& entry : fs::directory_iterator(dir_.path() / "work")) {
    if (entry.path().extension() == ".csv") {
      csv_files++;
      EXPECT_EQ(Slurp(entry.path()), "id,value\n1,10\n2,20\n");
    }
  }
  EXPECT_EQ(csv_files, 1);
}

TEST_F(CliFileDestination, ADirectoryGivenAsAFileSourceSaysSo) {
  CliResult r = Run(Pipeline(CsvSource(dir_.str() + "/work"),
                             "  type: file\n  name: out\n  format: {type: csv, options: {}}\n"
                             "  location: out.csv\n"));
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("readings"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("type: directory"), std::string::npos) << r.err;
}

TEST_F(CliFileDestination, ABadValueInASourceCsvNamesTheSource) {
  dir_.Write("bad.csv", "id,value\n1,10\n2,oops\n");
  CliResult r = Run(Pipeline(CsvSource(dir_.str() + "/bad.csv",
                                       "{schema: [{name: id, type: int32}, "
                                       "{name: value, type: int32}]}"),
                             "  type: file\n  name: out\n  format: {type: parquet, options: {}}\n"
                             "  location: out.parquet\n"));
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("file destination 'out'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("source 'readings'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.csv"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "out.parquet"));
}

}  // namespace
}  // namespace aqueducts::testing

// A newcomer's mistakes caught before `run`, through the real `aqueducts` binary: unknown keys,
// duplicate names, SQL that does not bind, missing inputs; and a CLI that can be discovered.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "cli_harness.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class Newcomer : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Write("in.csv", "id,d,value\n1,a,10\n2,b,20\n3,a,30\n"); }

  // A pipeline over in.csv; `stage_extra` is added to the stage, `destination_extra` to the
  // destination (each a line with its indentation).
  std::string Pipeline(const std::string& stage_extra, const std::string& destination_extra) {
    return "sources:\n"                 // 1
           "  - type: file\n"           // 2
           "    name: readings\n"       // 3
           "    format: {type: csv}\n"  // 4
           "    location: " +
           dir_.str() +
           "/in.csv\n"                                // 5
           "stages:\n"                                // 6
           "  - - name: the_stage\n"                  // 7
           "      query: SELECT * FROM readings\n" +  // 8
           stage_extra +                              // 9
           "destination:\n"                           // 10
           "  type: file\n"                           // 11
           "  name: out\n"                            // 12
           "  format: {type: parquet}\n"              // 13
           "  location: " +
           dir_.str() + "/out\n" +  // 14
           destination_extra;       // 15
  }

  TempDir dir_;
};

TEST_F(Newcomer, MisspeltKeysFailValidateAndRunWithTheNearestKey) {
  std::string path = dir_.Write("t.yml", Pipeline("      shwo: 10\n", "  partition_column: [d]\n"));
  for (const char* command : {"validate", "run"}) {
    CliResult r = RunCli({command, "-f", path}, dir_.str());
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.all();
    EXPECT_TRUE(Has(r.err, path + ":9: stages[0][0].shwo: unknown key 'shwo' (did you mean show?)"))
        << r.err;
    EXPECT_TRUE(Has(r.err, path + ":15: destination.partition_column: unknown key "
                                  "'partition_column' (did you mean partition_columns?)"))
        << r.err;
    EXPECT_FALSE(fs::exists(dir_.path() / "out")) << command;
  }
}

TEST_F(Newcomer, LenientTurnsUnknownKeysIntoWarnings) {
  std::string path = dir_.Write("t.yml", Pipeline("      shwo: 10\n", ""));
  CliResult v = RunCli({"validate", "--lenient", "-f", path}, dir_.str());
  EXPECT_EQ(v.exit_code, 0) << v.all();
  EXPECT_TRUE(Has(v.err, "warning: " + path + ":9: stages[0][0].shwo: unknown key 'shwo'"))
      << v.err;
  CliResult r = RunCli({"run", "--lenient", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_TRUE(Has(r.err, "did you mean show?")) << r.err;
  EXPECT_TRUE(fs::exists(dir_.path() / "out")) << r.all();
}

TEST_F(Newcomer, SchemaRefusesUnknownKeys) {
  CliResult r = RunCli({"schema"}, dir_.str());
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_TRUE(Has(r.out, "\"additionalProperties\": false")) << r.out.substr(0, 2000);
}

// A pipeline over in.csv with the given stage groups (YAML text under `stages:`).
std::string WithStages(const std::string& dir, const std::string& stages,
                       const std::string& csv = "in.csv") {
  return "sources:\n"
         "  - type: file\n"
         "    name: readings\n"
         "    format: {type: csv}\n"
         "    location: " +
         dir + "/" + csv +
         "\n"
         "stages:\n" +
         stages;
}

TEST_F(Newcomer, ValidateBindsStagesAgainstTheRealColumns) {
  std::string path = dir_.Write("t.yml", WithStages(dir_.str(),
                                                    "  - - name: a\n"  // 7
                                                    "      query: SELECT id, d FROM readings\n"
                                                    "  - - name: b\n"         // 9
                                                    "      query: |\n"        // 10
                                                    "        SELECT value\n"  // 11
                                                    "        FROM a\n"));
  CliResult r = RunCli({"validate", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_TRUE(Has(r.err, path + ":11: stage 'b': ")) << r.err;
  EXPECT_TRUE(Has(r.err, "\"value\" not found")) << r.err;

  // The same chain with the right column passes, and nothing is written.
  std::string good = dir_.Write("good.yml", WithStages(dir_.str(),
                                                       "  - - name: a\n"
                                                       "      query: SELECT id, d FROM readings\n"
                                                       "  - - name: b\n"
                                                       "      query: SELECT d, count(*) FROM a "
                                                       "GROUP BY d\n"));
  CliResult ok = RunCli({"validate", "-f", good}, dir_.str());
  EXPECT_EQ(ok.exit_code, 0) << ok.all();
  EXPECT_TRUE(Has(ok.out, "is valid")) << ok.out;
}

TEST_F(Newcomer, ValidateRefusesAStageReadingItsParallelSibling) {
  std::string path = dir_.Write("t.yml", WithStages(dir_.str(),
                                                    "  - - name: a\n"
                                                    "      query: SELECT id FROM readings\n"
                                                    "    - name: b\n"                    // 9
                                                    "      query: SELECT * FROM a\n"));  // 10
  CliResult r = RunCli({"validate", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_TRUE(Has(r.err, path + ":10: stage 'b' reads stage 'a', which runs in parallel with it "
                                "in the same group (stages[0])"))
      << r.err;
}

TEST_F(Newcomer, DuplicateStageNamesAreAnErrorNamingBoth) {
  std::string path = dir_.Write("t.yml", WithStages(dir_.str(),
                                                    "  - - name: a\n"  // 7
                                                    "      query: SELECT 1 AS x\n"
                                                    "  - - name: readings\n"  // 9
                                                    "      query: SELECT 2 AS x\n"));
  CliResult r = RunCli({"validate", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_TRUE(Has(r.err, path + ":9: stages[1][0].name: stage name 'readings' is already the "
                                "name of source sources[0].name (line 3)"))
      << r.err;
  CliResult run = RunCli({"run", "-f", path}, dir_.str());
  EXPECT_EQ(run.exit_code, 1) << run.all();
}

TEST_F(Newcomer, ValidateNamesAMissingSourceFile) {
  std::string path = dir_.Write(
      "t.yml", WithStages(dir_.str(), "  - - name: a\n      query: SELECT 1\n", "missing.csv"));
  CliResult r = RunCli({"validate", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_TRUE(
      Has(r.err, "source 'readings': location '" + dir_.str() + "/missing.csv' does not exist"))
      << r.err;
}

TEST_F(Newcomer, RunSqlErrorsShowThePipelineLineWithACaret) {
  std::string path = dir_.Write("t.yml", WithStages(dir_.str(),
                                                    "  - - name: a\n"  // 7
                                                    "      query: SELECT id FROM readings\n"
                                                    "  - - name: b\n"         // 9
                                                    "      query: |\n"        // 10
                                                    "        SELECT id,\n"    // 11
                                                    "               valeu\n"  // 12
                                                    "        FROM a\n"));
  CliResult r = RunCli({"run", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_FALSE(Has(r.err, "CREATE OR REPLACE")) << r.err;
  EXPECT_FALSE(Has(r.err, "LINE 2:")) << r.err;
  EXPECT_TRUE(Has(r.err, path + ":12: Failed to execute stage 'b'")) << r.err;
  EXPECT_TRUE(Has(r.err, "  --> " + path +
                             ":12:16\n"
                             "   |\n"
                             "12 |                valeu\n"
                             "   |                ^\n"))
      << r.err;
  // validate reports the same place before anything runs.
  CliResult v = RunCli({"validate", "-f", path}, dir_.str());
  EXPECT_EQ(v.exit_code, 1) << v.all();
  EXPECT_TRUE(Has(v.err, "--> " + path + ":12:16\n")) << v.err;
  EXPECT_FALSE(Has(v.err, "DESCRIBE")) << v.err;
}

TEST_F(Newcomer, SqlOnTheQueryLineItselfGetsItsColumn) {
  std::string path = dir_.Write(
      "t.yml", WithStages(dir_.str(), "  - - name: a\n      query: SELECT nope FROM readings\n"));
  CliResult r = RunCli({"run", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_TRUE(Has(r.err, "--> " + path + ":8:21\n")) << r.err;
  EXPECT_TRUE(Has(r.err,
                  "8 |       query: SELECT nope FROM readings\n"
                  "  |                     ^\n"))
      << r.err;
}

TEST_F(Newcomer, YamlErrorsShowTheLine) {
  std::string path = dir_.Write("t.yml",
                                "sources: []\n"
                                "stages:\n"
                                "  - - name: a\n"
                                "     query: [unclosed\n");
  CliResult r = RunCli({"validate", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_TRUE(Has(r.err, "help: see the line shown")) << r.err;
  EXPECT_TRUE(Has(r.err, "--> " + path + ":")) << r.err;
  // The excerpt shows the line the parser named.
  size_t arrow = r.err.find("--> " + path + ":");
  ASSERT_NE(arrow, std::string::npos);
  size_t pos = arrow + 4 + path.size() + 1;
  int line = std::stoi(r.err.substr(pos));
  const char* lines[] = {"", "sources: []", "stages:", "  - - name: a", "     query: [unclosed"};
  ASSERT_GE(line, 1);
  ASSERT_LE(line, 4);
  EXPECT_TRUE(Has(r.err, std::to_string(line) + " | " + lines[line] + "\n")) << r.err;
}

TEST_F(Newcomer, UnknownKeyErrorsShowTheLine) {
  std::string path = dir_.Write("t.yml", Pipeline("      shwo: 10\n", ""));
  CliResult r = RunCli({"validate", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_TRUE(Has(r.err, "--> " + path + ":9\n  |\n9 |       shwo: 10\n")) << r.err;
}

}  // namespace
}  // namespace aqueducts::testing

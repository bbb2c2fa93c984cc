// Bad input through the CLI: a clear error naming the element, exit 1, no output file written,
// and an existing destination left untouched.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A pipeline with one CSV source, one stage and a Parquet destination at out.parquet.
std::string Pipeline(const std::string& dir, const std::string& query,
                     const std::string& source_location = "") {
  std::string csv = source_location.empty() ? dir + "/in.csv" : source_location;
  return "sources:\n"
         "  - type: file\n"
         "    name: readings\n"
         "    format: {type: csv, options: {}}\n"
         "    location: " +
         csv +
         "\n"
         "stages:\n"
         "  - - name: the_stage\n"
         "      query: \"" +
         query +
         "\"\n"
         "destination:\n"
         "  type: file\n"
         "  name: out\n"
         "  format: {type: parquet, options: {}}\n"
         "  location: " +
         dir + "/out.parquet\n";
}

class CliErrors : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Write("in.csv", "id,value\n1,10\n2,20\n"); }

  // Runs the pipeline text; expects exit 1, every needle in stderr, and no out.parquet.
  void ExpectFailure(const std::string& file_name, const std::string& text,
                     const std::vector<std::string>& needles,
                     const std::vector<std::string>& args = {}) {
    std::string path = dir_.Write(file_name, text);
    std::vector<std::string> argv = {"run", "-f", path};
    argv.insert(argv.end(), args.begin(), args.end());
    CliResult r = RunCli(argv, dir_.str());
    EXPECT_EQ(r.exit_code, 1) << r.all();
    for (const auto& needle : needles) {
      EXPECT_NE(r.err.find(needle), std::string::npos) << "missing '" << needle << "' in:\n"
                                                       << r.err;
    }
    EXPECT_FALSE(fs::exists(dir_.path() / "out.parquet"));
  }

  TempDir dir_;
};

TEST_F(CliErrors, BrokenYamlNamesFileAndLine) {
  ExpectFailure("broken.yml", "sources:\n  - type: file\n    name: [unclosed\nstages: []\n",
                {"broken.yml", "line"});
}

TEST_F(CliErrors, BrokenJsonNamesFileAndLine) {
  ExpectFailure("broken.json", "{\n  \"sources\": [\n    {\"type\": \"file\",,}\n  ]\n}\n",
                {"broken.json", "line"});
}

TEST_F(CliErrors, BrokenTomlNamesFileAndLine) {
  ExpectFailure("broken.toml", "version = \"v2\"\nsources = [\nstages = ]]\n",
                {"broken.toml", "line"});
}

TEST_F(CliErrors, UnknownSourceTypeNamesTheField) {
  std::string text = Pipeline(dir_.str(), "SELECT * FROM readings");
  text.replace(text.find("type: file"), 10, "type: spreadsheet");
  ExpectFailure("tag.yml", text, {"tag.yml", "sources[0]", "spreadsheet"});
}

TEST_F(CliErrors, BadTypeStringNamesTheType) {
  std::string text = Pipeline(dir_.str(), "SELECT * FROM readings");
  text.replace(text.find("options: {}"), 11,
               "options: {schema: [{name: id, data_type: int33}, {name: value, "
               "data_type: int32}]}");
  ExpectFailure("type.yml", text, {"type.yml", "int33"});
}

TEST_F(CliErrors, MissingParametersAreAllListed) {
  std::string text = Pipeline(dir_.str(), "SELECT * FROM readings WHERE id = ${first}",
                              dir_.str() + "/${second}.csv");
  ExpectFailure("params.yml", text, {"first", "second", "-p"});
}

TEST_F(CliErrors, SqlSyntaxErrorNamesTheStage) {
  ExpectFailure("syntax.yml", Pipeline(dir_.str(), "SELECTT * FROM readings"),
                {"the_stage", "SELECTT"});
}

TEST_F(CliErrors, UnknownTableNamesTheStage) {
  ExpectFailure("table.yml", Pipeline(dir_.str(), "SELECT * FROM no_such_table"),
                {"the_stage", "no_such_table"});
}

TEST_F(CliErrors, MissingInputFileNamesTheSource) {
  ExpectFailure("missing.yml",
                Pipeline(dir_.str(), "SELECT * FROM readings", dir_.str() + "/nope.csv"),
                {"readings", "nope.csv"});
}

// What `run` cannot serve, `validate` refuses too, with the same message and exit 1.
TEST_F(CliErrors, UnservableLocationsFailValidateAndRun) {
  struct Case {
    std::string text;
    std::vector<std::string> needles;
  };
  std::string base = Pipeline(dir_.str(), "SELECT * FROM readings");
  std::string with_options = base;
  with_options.replace(with_options.find("    location: "), 0,
                       "    storage_config: {aws_region: eu-west-1, aws_access_key_id: K}\n");
  std::string gs_out = base;
  gs_out.replace(gs_out.find("  location: " + dir_.str() + "/out.parquet"),
                 12 + dir_.str().size() + 12,
                 "  location: gs://bucket/out.parquet\n"
                 "  storage_config: {google_service_acount: sa.json}");
  std::string s3_typo = Pipeline(dir_.str(), "SELECT * FROM readings", "s3://bucket/in.csv");
  s3_typo.replace(s3_typo.find("    location: "), 0,
                  "    storage_config: {aws_secret_acces_key: x}\n");
  std::string http_in = Pipeline(dir_.str(), "SELECT * FROM readings", "https://host/in.csv");
  std::vector<Case> cases = {
      {s3_typo,
       {"source 'readings'", "s3://bucket/in.csv", "unknown S3 key 'aws_secret_acces_key'"}},
      {http_in, {"source 'readings'", "https://host/in.csv", "scheme 'https' is not supported"}},
      {with_options,
       {"source 'readings'", "storage_config keys (aws_access_key_id, aws_region)", "no effect"}},
      {gs_out,
       {"destination 'out'", "gs://bucket/out.parquet",
        "unknown Google Cloud Storage key 'google_service_acount'"}},
  };
  for (const auto& c : cases) {
    std::string path = dir_.Write("unservable.yml", c.text);
    CliResult v = RunCli({"validate", "-f", path}, dir_.str());
    EXPECT_EQ(v.exit_code, 1) << v.all();
    for (const auto& needle : c.needles) {
      EXPECT_NE(v.err.find(needle), std::string::npos) << needle << " in:\n" << v.err;
    }
    ExpectFailure("unservable.yml", c.text, c.needles);
  }
  // The original's own examples carry `storage_config: {}`: that stays valid.
  std::string empty = base;
  empty.replace(empty.find("    location: "), 0, "    storage_config: {}\n");
  CliResult ok = RunCli({"validate", "-f", dir_.Write("empty.yml", empty)}, dir_.str());
  EXPECT_EQ(ok.exit_code, 0) << ok.all();
}

TEST_F(CliErrors, DdlInAStageIsRefused) {
  ExpectFailure("ddl.yml", Pipeline(dir_.str(), "DROP TABLE readings"), {"the_stage"});
}

TEST_F(CliErrors, MissingPipelineFile) {
  CliResult r = RunCli({"run", "-f", dir_.str() + "/absent.yml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("absent.yml"), std::string::npos) << r.err;
}

TEST_F(CliErrors, UnwritableDestinationNamesTheDestination) {
  // The destination's parent is a regular file: no user, not even root, can write there.
  dir_.Write("blocker", "x");
  std::string text = Pipeline(dir_.str(), "SELECT * FROM readings");
  text.replace(text.find(dir_.str() + "/out.parquet"), dir_.str().size() + 12,
               dir_.str() + "/blocker/out.parquet");
  ExpectFailure("unwritable.yml", text, {"out"});
}

TEST_F(CliErrors, FailedRunLeavesTheExistingDestinationUntouched) {
  std::string previous = dir_.Write("out.parquet", "previous content");
  // error() fails half-way through the write, after rows have started to stream.
  std::string text =
      Pipeline(dir_.str(),
               "SELECT CASE WHEN i < 300000 THEN i ELSE error('boom at ' || i) END AS v "
               "FROM range(400000) t(i)");
  std::string path = dir_.Write("midway.yml", text);
  CliResult r = RunCli({"run", "-f", path}, dir_.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("boom at"), std::string::npos) << r.err;
  EXPECT_EQ(Slurp(previous), "previous content");
  // No temporary leftovers beside it.
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "out.parquet" || name == "in.csv" || name == "midway.yml") << name;
  }
}

}  // namespace
}  // namespace aqueducts::testing

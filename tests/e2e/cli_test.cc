// The CLI end to end on the original's example pipelines (examples/) and the usage surface.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

// A copy of the examples folder, so runs write their outputs into a scratch directory.
class ExampleDir : public TempDir {
 public:
  ExampleDir() {
    fs::copy(FixturesDir() + "/aqueducts-examples/examples", path() / "examples",
             fs::copy_options::recursive);
  }
};

int64_t CountRows(Database& db, const std::string& parquet) {
  auto rows = db.Query("SELECT count(*) FROM read_parquet('" + parquet + "')");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? std::stoll(*rows->rows[0][0]) : -1;
}

// The aggregation of aqueduct_pipeline_simple.yml written directly against DuckDB.
std::string DirectSql(const std::string& dir, const std::string& month) {
  return "WITH temp_readings AS (SELECT * FROM read_csv('" + dir + "/examples/temp_readings_" +
         month + "_2024.csv')), locations AS (SELECT * FROM read_csv('" + dir +
         "/examples/location_dict.csv')), aggregated AS (SELECT cast(timestamp as date) date, "
         "location_id, round(min(temperature_c),2) min_temp_c, round(min(humidity),2) "
         "min_humidity, round(max(temperature_c),2) max_temp_c, round(max(humidity),2) "
         "max_humidity, round(avg(temperature_c),2) avg_temp_c, round(avg(humidity),2) "
         "avg_humidity FROM temp_readings GROUP BY 1,2) SELECT date, location_name, min_temp_c, "
         "max_temp_c, avg_temp_c, min_humidity, max_humidity, avg_humidity FROM aggregated JOIN "
         "locations ON aggregated.location_id = locations.location_id";
}

class SimpleExample : public ::testing::TestWithParam<std::pair<std::string, int64_t>> {};

TEST_P(SimpleExample, WritesTheSameRowsAsDuckDbDirectly) {
  auto [month, expected_rows] = GetParam();
  ExampleDir dir;
  CliResult r = RunCli({"run", "--file", "examples/aqueduct_pipeline_simple.yml", "-p",
                        "month=" + month, "--params", "year=2024"},
                       dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.all();
  std::string output = dir.str() + "/examples/output_" + month + "_2024.parquet";
  ASSERT_TRUE(fs::exists(output)) << r.all();
  // The original's wording, with our rows/duration extensions.
  EXPECT_NE(r.err.find("Registered source: temp_readings"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Completed stage: enriched"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Pipeline execution completed"), std::string::npos) << r.err;
  // Outputs: explain of `aggregated`, 10-row preview of `enriched`.
  // Not a terminal: no emoji either.
  EXPECT_NE(r.out.find("\nQuery Plan: aggregated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nTable Data (Preview): enriched"), std::string::npos) << r.out;
  EXPECT_EQ(r.all().find("📋"), std::string::npos) << r.all();
  // Not a terminal: no ANSI escapes anywhere.
  EXPECT_EQ(r.all().find("\x1b["), std::string::npos);

  AQ_ASSERT_OK_AND_ASSIGN(auto db, Database::Open());
  EXPECT_EQ(CountRows(*db, output), expected_rows);
  std::string ours = "SELECT * FROM read_parquet('" + output + "')";
  std::string direct = DirectSql(dir.str(), month);
  for (const auto& sql : {"(" + ours + ") EXCEPT ALL (" + direct + ")",
                          "(" + direct + ") EXCEPT ALL (" + ours + ")"}) {
    AQ_ASSERT_OK_AND_ASSIGN(auto diff, db->Query("SELECT count(*) FROM (" + sql + ")"));
    EXPECT_EQ(*diff.rows[0][0], "0") << sql;
  }
}

INSTANTIATE_TEST_SUITE_P(Months, SimpleExample,
                         ::testing::Values(std::make_pair(std::string("jan"), int64_t{237}),
                                           std::make_pair(std::string("feb"), int64_t{223})));

TEST(Cli, ValidateAcceptsTheYamlAndTomlExamples) {
  ExampleDir dir;
  for (const auto& file :
       {"examples/aqueduct_pipeline_example.yml", "examples/aqueduct_pipeline_example.toml"}) {
    CliResult r = RunCli(
        {"validate", "-f", file, "-p", "local_path=" + dir.str(), "-p", "run_id=1"}, dir.str());
    EXPECT_EQ(r.exit_code, 0) << file << "\n" << r.all();
    EXPECT_NE(r.out.find("is valid"), std::string::npos) << r.out;
  }
}

TEST(Cli, ValidateReportsTheBrokenSqlOfTheJsonExample) {
  // The original's JSON example has `avg_2FROM` in its join stage (examples/).
  ExampleDir dir;
  CliResult r = RunCli({"validate", "-f", "examples/aqueduct_pipeline_example.json", "-p",
                        "local_path=" + dir.str(), "-p", "run_id=1"},
                       dir.str());
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("join"), std::string::npos) << r.err;
}

TEST(Cli, QuietPrintsOnlyOutputs) {
  ExampleDir dir;
  CliResult r = RunCli({"run", "-q", "-f", "examples/aqueduct_pipeline_simple.yml", "-p",
                        "month=jan", "--param", "year=2024"},  // every spelling of the flag
                       dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("Table Data (Preview): enriched"), std::string::npos);
}

TEST(Cli, VersionHelpAndSchema) {
  CliResult v = RunCli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find(Version()), std::string::npos) << v.out;
  CliResult h = RunCli({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("130 cancelled"), std::string::npos) << h.out;
  for (const char* cmd : {"run", "validate", "schema", "status", "cancel", "delta"}) {
    EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd;
  }
  CliResult rh = RunCli({"run", "--help"});
  EXPECT_EQ(rh.exit_code, 0);
  EXPECT_NE(rh.out.find("--max-memory"), std::string::npos);
  TempDir dir;
  CliResult to_file = RunCli({"schema", "-o", dir.str() + "/schema.json"});
  EXPECT_EQ(to_file.exit_code, 0) << to_file.all();
  std::ifstream written(dir.str() + "/schema.json");
  std::string first_line;
  std::getline(written, first_line);
  EXPECT_EQ(first_line.rfind("{", 0), 0u) << first_line;
  CliResult s = RunCli({"schema"});
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_NE(s.out.find("\"$schema\""), std::string::npos);
  EXPECT_NE(s.out.find("\"sources\""), std::string::npos);
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunCli({}).exit_code, 2);
  EXPECT_EQ(RunCli({"run"}).exit_code, 2);  // --file is required
  EXPECT_EQ(RunCli({"run", "-f", "x.yml", "--no-such-flag"}).exit_code, 2);
  CliResult p = RunCli({"run", "-f", "x.yml", "-p", "novalue"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("invalid KEY=value: no '=' found in 'novalue'"), std::string::npos) << p.err;
  CliResult m = RunCli({"run", "-f", "x.yml", "--max-memory", "lots"});
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_NE(m.err.find("invalid memory size"), std::string::npos) << m.err;
  EXPECT_EQ(RunCli({"run", "-f", "x.yml", "--quiet", "--verbose"}).exit_code, 2);
  CliResult k =
      RunCli({"run", "-f", "x.yml", "--executor", "localhost:1"}, ".", {"AQUEDUCTS_API_KEY="});
  EXPECT_EQ(k.exit_code, 2);
  EXPECT_NE(k.err.find("API key is required"), std::string::npos) << k.err;
  // cancel: -e is the execution id (as in the original CLI); a non-UUID id is a usage error and
  // nothing is sent (port 1 would refuse the connection: exit 1).
  CliResult bad_id =
      RunCli({"cancel", "-e", "not-a-uuid", "--executor", "localhost:1", "--api-key", "k"});
  EXPECT_EQ(bad_id.exit_code, 2) << bad_id.all();
  EXPECT_NE(bad_id.err.find("Invalid execution ID: not-a-uuid. Must be a valid UUID."),
            std::string::npos)
      << bad_id.err;
  // Without --executor the command is incomplete: -e does not stand for it on cancel.
  CliResult no_exec =
      RunCli({"cancel", "-e", "00000000-0000-4000-8000-000000000000", "--api-key", "k"});
  EXPECT_EQ(no_exec.exit_code, 2) << no_exec.all();
  EXPECT_NE(no_exec.err.find("--executor"), std::string::npos) << no_exec.err;
}

TEST(Cli, CancelHelpListsTheIdOnceAndTakesItEitherWay) {
  CliResult help = RunCli({"cancel", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.all();
  size_t count = 0;
  for (size_t pos = help.out.find("xecution id"); pos != std::string::npos;
       pos = help.out.find("xecution id", pos + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << help.out;
  EXPECT_NE(help.out.find("-e,--execution-id"), std::string::npos) << help.out;
  // The id as the plain argument is read too (checked before anything is sent: exit 2).
  CliResult positional =
      RunCli({"cancel", "not-a-uuid", "--executor", "localhost:1", "--api-key", "k"});
  EXPECT_EQ(positional.exit_code, 2) << positional.all();
  EXPECT_NE(positional.err.find("Invalid execution ID: not-a-uuid"), std::string::npos)
      << positional.err;
  CliResult none = RunCli({"cancel", "--executor", "localhost:1", "--api-key", "k"});
  EXPECT_EQ(none.exit_code, 2) << none.all();
  EXPECT_NE(none.err.find("--execution-id"), std::string::npos) << none.err;
  CliResult both = RunCli({"cancel", "00000000-0000-4000-8000-000000000000", "-e",
                           "00000000-0000-4000-8000-000000000001", "--executor", "localhost:1",
                           "--api-key", "k"});
  EXPECT_EQ(both.exit_code, 2) << both.all();
  CliResult unknown = RunCli({"cancel", "-e", "00000000-0000-4000-8000-000000000000", "--nope",
                              "--executor", "localhost:1", "--api-key", "k"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.all();
  EXPECT_NE(unknown.err.find("--nope"), std::string::npos) << unknown.err;
}

TEST(Cli, LocalRunHonoursMemoryThreadsAndTempDir) {
  ExampleDir dir;
  CliResult r = RunCli(
      {"run", "-f", "examples/aqueduct_pipeline_simple.yml", "-p", "month=feb", "-p", "year=2024",
       "--max-memory", "256MB", "--threads", "1", "--temp-dir", dir.str() + "/spill"},
      dir.str());
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_TRUE(fs::exists(dir.str() + "/examples/output_feb_2024.parquet"));
}

}  // namespace
}  // namespace aqueducts::testing

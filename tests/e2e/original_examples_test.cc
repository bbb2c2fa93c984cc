// The original's example pipelines and its core integration-test pipelines (recreated as
// pipeline files), run unchanged through the `aqueducts` binary; the rows written are compared
// with values computed directly in DuckDB from the input files. (The simple example and the
// JSON example are in cli_test.cc, the delta-tests pipelines in src/delta/pipeline_test.cc, the
// ODBC example in src/odbc/odbc_pipeline_test.cc.)
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

class ExampleCopy : public TempDir {
 public:
  ExampleCopy() {
    fs::copy(FixturesDir() + "/aqueducts-examples/examples", path() / "examples",
             fs::copy_options::recursive);
  }
};

std::string Scalar(Database& db, const std::string& sql) {
  auto rows = db.Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  return rows.ok() && !rows->rows.empty() && rows->rows[0][0] ? *rows->rows[0][0] : "<null>";
}

// Rows of `a` not in `b` plus rows of `b` not in `a` (multisets).
int64_t Difference(Database& db, const std::string& a, const std::string& b) {
  return std::stoll(Scalar(db, "SELECT (SELECT count(*) FROM ((" + a + ") EXCEPT ALL (" + b +
                                   "))) + (SELECT count(*) FROM ((" + b + ") EXCEPT ALL (" + a +
                                   ")))"));
}

// aqueduct_pipeline_example.{yml,toml}: two months aggregated per day and location, united,
// upserted into a Delta table partitioned by date. Read the table back through a delta source.
class DeltaExample : public ::testing::TestWithParam<std::string> {};

TEST_P(DeltaExample, WritesTheUnionOfBothMonthsToDelta) {
  ExampleCopy dir;
  CliResult r = RunCli({"run", "-f", "examples/aqueduct_pipeline_example." + GetParam(), "-p",
                        "local_path=" + dir.str(), "-p", "run_id=r1"},
                       dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("jan_aggregated"), std::string::npos) << "show: 20 output missing";

  AQ_ASSERT_OK_AND_ASSIGN(auto db, Database::Open());
  Aqueduct read;
  read.sources = {DeltaSource{
      .name = "t", .location = ParseLocation(dir.str() + "/examples/output_delta_example/r1")}};
  read.stages = {{{.name = "all_rows", .query = "SELECT * FROM t"}}};
  read.destination = InMemoryDestination{"written"};
  RunOptions options;
  options.database = db.get();
  AQ_ASSERT_OK(RunPipeline(read, options, nullptr));

  // Independently: the same aggregation straight from the CSV files, per month.
  std::string direct;
  for (const char* month : {"jan", "feb"}) {
    direct += std::string(direct.empty() ? "" : " UNION ALL ") +
              "SELECT CAST(left(CAST(timestamp AS VARCHAR), 10) AS DATE) AS date, "
              "CAST(location_id AS INTEGER) AS location_id, "
              "round(min(temperature_c), 2), round(min(humidity), 2), "
              "round(max(temperature_c), 2), round(max(humidity), 2), "
              "round(avg(temperature_c), 2), round(avg(humidity), 2) FROM read_csv('" +
              dir.str() + "/examples/temp_readings_" + month + "_2024.csv') GROUP BY ALL";
  }
  // Spec figures of the original: 237 aggregated rows in January, 223 in February.
  EXPECT_EQ(Scalar(*db, "SELECT count(*) FROM written"), "460");
  EXPECT_EQ(Difference(*db,
                       "SELECT date, location_id, min_temp_c, min_humidity, max_temp_c, "
                       "max_humidity, avg_temp_c, avg_humidity FROM written",
                       direct),
            0);
  EXPECT_EQ(Scalar(*db,
                   "SELECT string_agg(DISTINCT typeof(date) || '/' || typeof(location_id) "
                   "|| '/' || typeof(avg_temp_c)) FROM written"),
            "DATE/INTEGER/DOUBLE");
  EXPECT_TRUE(fs::exists(dir.path() / "examples/output_delta_example/r1/date=2024-01-01"));
}

INSTANTIATE_TEST_SUITE_P(Formats, DeltaExample, ::testing::Values("yml", "toml"));

// The original's core integration tests (aqueducts/core/tests), as pipeline files.
class CoreIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("test_data.csv",
               "id,name,value,active\n1,Alice,100.5,true\n2,Bob,200.0,false\n"
               "3,Charlie,300.75,true\n4,Diana,150.25,false\n5,Eve,250.0,true\n");
    AQ_ASSERT_OK_AND_ASSIGN(db_, Database::Open());
    AQ_ASSERT_OK(db_->Execute("COPY (SELECT * FROM read_csv('" + dir_.str() +
                              "/test_data.csv')) TO '" + dir_.str() +
                              "/test_data.parquet' (FORMAT parquet)"));
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(CoreIntegration, ParquetSourceToCsvDestination) {
  std::string pipeline = dir_.Write("p.yml",
                                    "version: v2\n"
                                    "sources:\n"
                                    "  - type: file\n"
                                    "    name: parquet_data\n"
                                    "    format: {type: parquet, options: {}}\n"
                                    "    location: ./test_data.parquet\n"
                                    "stages:\n"
                                    "  - - name: filter_active\n"
                                    "      query: SELECT * FROM parquet_data WHERE active = true\n"
                                    "destination:\n"
                                    "  type: file\n"
                                    "  name: csv_output\n"
                                    "  location: ./output.csv\n"
                                    "  format: {type: csv, options: {}}\n");
  CliResult r = RunCli({"run", "-f", pipeline}, dir_.str());
  ASSERT_EQ(r.exit_code, 0) << r.all();
  std::ifstream in(dir_.path() / "output.csv");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().substr(0, text.str().find('\n')), "id,name,value,active");
  EXPECT_EQ(
      Difference(*db_, "SELECT * FROM read_csv('" + dir_.str() + "/output.csv')",
                 "SELECT * FROM read_csv('" + dir_.str() + "/test_data.csv') WHERE id % 2 = 1"),
      0);
}

TEST_F(CoreIntegration, PipelineWithoutDestinationShowsItsRows) {
  std::string pipeline = dir_.Write("p.yml",
                                    "sources:\n"
                                    "  - type: file\n"
                                    "    name: test_source\n"
                                    "    format: {type: csv, options: {has_header: true}}\n"
                                    "    location: ./test_data.csv\n"
                                    "stages:\n"
                                    "  - - name: select_all\n"
                                    "      query: SELECT * FROM test_source ORDER BY id\n"
                                    "      show: 0\n");
  CliResult r = RunCli({"run", "-f", pipeline}, dir_.str());
  ASSERT_EQ(r.exit_code, 0) << r.all();
  size_t last = 0;
  for (const char* name : {"Alice", "Bob", "Charlie", "Diana", "Eve"}) {
    size_t at = r.out.find(name);
    ASSERT_NE(at, std::string::npos) << name << "\n" << r.out;
    EXPECT_GT(at, last) << "rows are shown in id order";
    last = at;
  }
}

TEST_F(CoreIntegration, CsvSourceToInMemoryDestination) {
  AQ_ASSERT_OK_AND_ASSIGN(
      Aqueduct aq,
      LoadAqueductFromString("sources:\n"
                             "  - type: file\n"
                             "    name: test_data\n"
                             "    format: {type: csv, options: {}}\n"
                             "    location: " +
                                 dir_.str() +
                                 "/test_data.csv\n"
                                 "stages:\n"
                                 "  - - name: doubled\n"
                                 "      query: SELECT id, name, value * 2 as doubled_value, active "
                                 "FROM test_data\n"
                                 "destination: {type: in_memory, name: results}\n",
                             Format::kYaml));
  RunOptions options;
  options.database = db_.get();
  AQ_ASSERT_OK(RunPipeline(aq, options, nullptr));
  EXPECT_EQ(Difference(*db_, "SELECT id, doubled_value FROM results",
                       "SELECT * FROM (VALUES (1, 201.0), (2, 400.0), (3, 601.5), (4, 300.5), "
                       "(5, 500.0)) v(id, doubled_value)"),
            0);
}

}  // namespace
}  // namespace aqueducts::testing

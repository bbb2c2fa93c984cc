// The example pipeline examples/aqueduct_pipeline_odbc.yml end to end (loader + runner) against
// the test PostgreSQL: two ODBC sources, parallel aggregations, UNION ALL, ODBC append.

#include <fstream>
#include <sstream>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "odbc/odbc.h"
#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

using PipelineTest = OdbcPgTest;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(PipelineTest, ExamplePipelineWithPortParameter) {
  std::string yaml = ReadFile(aqueducts::testing::FixturesDir() +
                              "/aqueducts-examples/examples/aqueduct_pipeline_odbc.yml");
  ASSERT_FALSE(yaml.empty());
  // The example assumes PostgreSQL on localhost:5432; ours listens on a free port, passed as a
  // template parameter like the user and password.
  const std::string from = "Server=localhost;";
  size_t replaced = 0;
  for (size_t p = yaml.find(from); p != std::string::npos; p = yaml.find(from, p + 1)) {
    yaml.replace(p, from.size(), "Server=127.0.0.1;Port=${port};");
    ++replaced;
  }
  ASSERT_EQ(replaced, 3u);
  AQ_ASSERT_OK_AND_ASSIGN(
      Aqueduct aqueduct,
      LoadAqueductFromString(
          yaml, Format::kYaml,
          {{"user", "postgres"}, {"pass", "postgres"}, {"port", std::to_string(server_->port())}}));
  RecordingSink sink;
  AQ_ASSERT_OK(RunPipeline(aqueduct, RunOptions{}, &sink));
  const std::string expected_rows =
      Pg("SELECT count(*) FROM (SELECT cast(timestamp AS date), location_id FROM temp_readings "
         "WHERE timestamp BETWEEN '2024-01-01' AND '2024-01-31' GROUP BY 1, 2) j");
  const std::string expected_feb =
      Pg("SELECT count(*) FROM (SELECT cast(timestamp AS date), location_id FROM temp_readings "
         "WHERE timestamp BETWEEN '2024-02-01' AND '2024-02-29' GROUP BY 1, 2) f");
  EXPECT_EQ(Pg("SELECT count(*) FROM temp_readings_aggregated"),
            std::to_string(std::stoll(expected_rows) + std::stoll(expected_feb)));
  EXPECT_EQ(Pg("SELECT round(max(max_temp_c)::numeric, 2) = round(max(temperature_c)::numeric, 2) "
               "FROM temp_readings_aggregated, (SELECT max(temperature_c) AS temperature_c FROM "
               "temp_readings WHERE timestamp BETWEEN '2024-01-01' AND '2024-01-31' OR timestamp "
               "BETWEEN '2024-02-01' AND '2024-02-29') m"),
            "t");
  for (const auto& event : sink.events()) {
    EXPECT_EQ(event.message.find("PWD=postgres"), std::string::npos) << event.message;
  }
}

TEST_F(PipelineTest, CancelledSourceLeavesNoTable) {
  CancelToken cancel;
  cancel.Cancel();
  OdbcSource source{"readings", "SELECT * FROM temp_readings", Conn()};
  Status status = RegisterOdbcSource(*session_, source, &cancel);
  EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
  EXPECT_EQ(Duck("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'readings'"), "0");
}

TEST_F(PipelineTest, CancelledWriteIsRolledBack) {
  const std::string before = Pg("SELECT count(*) FROM temp_readings_empty");
  CancelToken cancel;
  cancel.Cancel();
  OdbcDestination destination;
  destination.name = "temp_readings_empty";
  destination.connection_string = Conn();
  auto written = WriteOdbcDestination(
      *session_, destination,
      "SELECT 1 AS location_id, TIMESTAMP '2024-01-01' AS timestamp, 1.0 AS temperature_c, "
      "2.0 AS humidity, 'Sunny' AS weather_condition",
      nullptr, &cancel);
  EXPECT_EQ(written.status().code(), StatusCode::kCancelled) << written.status().ToString();
  EXPECT_EQ(Pg("SELECT count(*) FROM temp_readings_empty"), before);
}

}  // namespace
}  // namespace aqueducts::odbc::testing

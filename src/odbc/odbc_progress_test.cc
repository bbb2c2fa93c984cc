// Live progress of ODBC steps through the runner: a write's stage_progress events count the rows
// handed to PostgreSQL, never go down, and end at 100% with the rows written; a read's count the
// rows fetched into DuckDB the same way and end at 100% with the rows loaded.
#include <string>
#include <vector>

#include "aqueducts/run.h"

#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

using OdbcProgressTest = OdbcPgTest;

// Runs `aq` with progress every 10 ms and returns the stage_progress events of step `name`.
std::vector<ProgressEvent> ProgressOfRun(const Aqueduct& aq, const std::string& name) {
  RunOptions options;
  options.progress_interval_ms = 10;
  RecordingSink sink;
  Status st = RunPipeline(aq, options, &sink);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::vector<ProgressEvent> progress;
  for (const auto& event : sink.events()) {
    if (event.type == ProgressEvent::Type::kStageProgress && event.name == name) {
      progress.push_back(event);
    }
  }
  return progress;
}

// Rows and percent never go down nor pass `rows`, at least one report comes while the step
// runs (rows counted, not all yet), and the last is 100 % with every row.
void ExpectRowsRiseTo(const std::vector<ProgressEvent>& progress, int64_t rows) {
  ASSERT_GE(progress.size(), 2u) << "a " << rows << "-row ODBC step reports while it runs";
  int64_t last_rows = -1;
  double last_percent = -1;
  bool midway = false;
  for (const auto& event : progress) {
    EXPECT_GE(event.rows, last_rows);
    EXPECT_LE(event.rows, rows);
    EXPECT_GE(event.percent, last_percent);
    midway |= event.rows > 0 && event.rows < rows;
    last_rows = event.rows;
    last_percent = event.percent;
  }
  EXPECT_TRUE(midway);
  EXPECT_EQ(progress.back().percent, 100);
  EXPECT_EQ(progress.back().rows, rows);
}

TEST_F(OdbcProgressTest, AnOdbcWriteReportsTheRowsItInserts) {
  constexpr int64_t kRows = 200'000;
  Pg("DROP TABLE IF EXISTS progress_target; CREATE TABLE progress_target (id bigint, name text)");
  Aqueduct aq;
  aq.stages = {{{.name = "rows",
                 .query = "SELECT range AS id, 'row ' || range AS name FROM range(" +
                          std::to_string(kRows) + ")"}}};
  OdbcDestination destination;
  destination.name = "progress_target";
  destination.connection_string = Conn();
  aq.destination = destination;
  ExpectRowsRiseTo(ProgressOfRun(aq, destination.name), kRows);
  EXPECT_EQ(Pg("SELECT count(*) FROM progress_target"), std::to_string(kRows));
}

TEST_F(OdbcProgressTest, AnOdbcReadReportsTheRowsItFetches) {
  constexpr int64_t kRows = 300'000;
  Aqueduct aq;
  OdbcSource source;
  source.name = "fetched";
  source.connection_string = Conn();
  source.load_query = "SELECT g AS id, 'row ' || g AS name FROM generate_series(1, " +
                      std::to_string(kRows) + ") AS g";
  aq.sources = {source};
  aq.stages = {{{.name = "counted", .query = "SELECT count(*) AS n FROM fetched"}}};
  ExpectRowsRiseTo(ProgressOfRun(aq, source.name), kRows);
}

}  // namespace
}  // namespace aqueducts::odbc::testing

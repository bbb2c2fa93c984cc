// Live progress of ODBC steps through the runner: a write's stage_progress events count the rows
// handed to PostgreSQL, never go down, and end at 100% with the rows written; a read's count the
// rows fetched into DuckDB the same way and end at 100% with the rows loaded.
#include <string>

#include "aqueducts/run.h"

#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

using OdbcProgressTest = OdbcPgTest;

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
  RunOptions options;
  options.progress_interval_ms = 10;
  RecordingSink sink;
  AQ_ASSERT_OK(RunPipeline(aq, options, &sink));

  std::vector<ProgressEvent> progress;
  for (const auto& event : sink.events()) {
    if (event.type == ProgressEvent::Type::kStageProgress && event.name == destination.name) {
      progress.push_back(event);
    }
  }
  ASSERT_GE(progress.size(), 2u) << "a 200,000-row ODBC write reports while it runs";
  int64_t last_rows = -1;
  double last_percent = -1;
  for (const auto& event : progress) {
    EXPECT_GE(event.rows, last_rows);
    EXPECT_LE(event.rows, kRows);
    EXPECT_GE(event.percent, last_percent);
    last_rows = event.rows;
    last_percent = event.percent;
  }
  bool mid_write = false;  // a report with rows counted before the write ended
  for (const auto& event : progress) {
    mid_write |= event.rows >= 0 && event.rows < kRows;
  }
  EXPECT_TRUE(mid_write);
  EXPECT_EQ(progress.back().percent, 100);
  EXPECT_EQ(progress.back().rows, kRows);
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
  RunOptions options;
  options.progress_interval_ms = 10;
  RecordingSink sink;
  AQ_ASSERT_OK(RunPipeline(aq, options, &sink));

  std::vector<ProgressEvent> progress;
  for (const auto& event : sink.events()) {
    if (event.type == ProgressEvent::Type::kStageProgress && event.name == source.name) {
      progress.push_back(event);
    }
  }
  ASSERT_GE(progress.size(), 2u) << "a 300,000-row ODBC read reports while it runs";
  int64_t last_rows = -1;
  bool mid_read = false;  // a report with rows counted before the fetch ended
  for (const auto& event : progress) {
    EXPECT_GE(event.rows, last_rows);
    EXPECT_LE(event.rows, kRows);
    mid_read |= event.rows > 0 && event.rows < kRows;
    last_rows = event.rows;
  }
  EXPECT_TRUE(mid_read);
  EXPECT_EQ(progress.back().percent, 100);
  EXPECT_EQ(progress.back().rows, kRows);
}

}  // namespace
}  // namespace aqueducts::odbc::testing

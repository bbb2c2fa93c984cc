// A cancel during a long ODBC write through a pipeline run: the run ends promptly as cancelled,
// and the transaction is rolled back, so the target table keeps its previous rows (for custom
// mode, even those its pre_insert statement deleted).

#include "aqueducts/run.h"

#include "cancel_probe.h"
#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

using CancelTest = OdbcPgTest;
using Type = ProgressEvent::Type;

// Rows for hours unless interrupted.
constexpr const char* kEndless =
    "SELECT range AS id, range % 4 AS part, 'row ' || range AS pad FROM range(4000000000)";

void ExpectCancelled(const aqueducts::testing::CancelledRun& run) {
  ASSERT_TRUE(run.cancel_sent) << run.status.ToString();
  EXPECT_EQ(run.status.code(), StatusCode::kCancelled) << run.status.ToString();
  ASSERT_FALSE(run.events.empty());
  EXPECT_EQ(run.events.back().type, Type::kCancelled);
  // Generous bound: a batch takes milliseconds.
  EXPECT_LT(run.after_cancel.count(), 2000);
}

Aqueduct Pipeline(OdbcDestination destination) {
  Aqueduct aq;
  aq.stages = {{{.name = "data", .query = kEndless}}};
  aq.destination = std::move(destination);
  return aq;
}

TEST_F(CancelTest, AppendIsRolledBack) {
  Pg("CREATE TABLE cancel_append (id bigint, part bigint, pad text); "
     "INSERT INTO cancel_append VALUES (1, 1, 'old'), (2, 2, 'older')");
  const std::string query =
      "SELECT string_agg(id || ':' || pad, ',' ORDER BY id) FROM cancel_append";
  const std::string before = Pg(query);
  ASSERT_EQ(before, "1:old,2:older");
  OdbcDestination destination{.name = "cancel_append", .connection_string = Conn()};
  ExpectCancelled(
      aqueducts::testing::CancelDuringWrite(Pipeline(destination), RunOptions{}, "cancel_append"));
  EXPECT_EQ(Pg(query), before);
}

TEST_F(CancelTest, CustomIsRolledBackWithItsPreInsert) {
  Pg("CREATE TABLE cancel_custom (id bigint, part bigint, pad text); "
     "INSERT INTO cancel_custom VALUES (7, 3, 'kept')");
  const std::string query =
      "SELECT string_agg(id || ':' || pad, ',' ORDER BY id) FROM cancel_custom";
  OdbcDestination destination{
      .name = "cancel_custom",
      .connection_string = Conn(),
      .write_mode = {.operation = OdbcWriteMode::Operation::kCustom,
                     .pre_insert = "DELETE FROM cancel_custom",
                     .insert = "INSERT INTO cancel_custom (id, part, pad) VALUES (?, ?, ?)"}};
  ExpectCancelled(
      aqueducts::testing::CancelDuringWrite(Pipeline(destination), RunOptions{}, "cancel_custom"));
  EXPECT_EQ(Pg(query), "7:kept");
}

}  // namespace
}  // namespace aqueducts::odbc::testing

#include "engine/custom_functions.h"

#include <duckdb.hpp>
#include <gtest/gtest.h>

#include "engine/session.h"
#include "temp_dir.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

std::string One(Connection& conn, const std::string& sql) {
  auto rows = conn.Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  if (!rows.ok() || rows->rows.empty() || !rows->rows[0][0]) {
    return "<null>";
  }
  return *rows->rows[0][0];
}

// Earlier versions kept the json_get* family as macros in a database file's default schema. A
// session on such a file drops them (only those: a user's macro of another name stays), and the
// C++ functions answer (a macro named like the function that marks them registered does not
// stop their registration); wrapping the same database again registers nothing twice.
TEST(CustomFunctionsTest, OldJsonMacrosInADatabaseFileAreReplaced) {
  testing::TempDir dir("custom_functions");
  std::string path = (dir.path() / "old.duckdb").string();
  {
    duckdb::DuckDB db(path);
    duckdb::Connection conn(db);
    ASSERT_FALSE(conn.Query("CREATE MACRO json_get(j, p) AS 'old macro'")->HasError());
    ASSERT_FALSE(conn.Query("CREATE MACRO json_get_json(j, p) AS 'old macro'")->HasError());
    ASSERT_FALSE(conn.Query("CREATE MACRO json_length(j) AS -1")->HasError());
    ASSERT_FALSE(conn.Query("CREATE MACRO my_macro(x) AS x + 1")->HasError());
  }
  duckdb::DuckDB db(path);
  for (int wrap = 0; wrap < 2; wrap++) {
    AQ_ASSERT_OK_AND_ASSIGN(auto session, Session::Wrap(db));
    EXPECT_EQ(One(session->main(), "SELECT json_get('{\"a\": {\"b\": 7}}', 'a', 'b')"), "7");
    EXPECT_EQ(One(session->main(), "SELECT json_get_json('{\"a\": [1, 2]}', 'a')"), "[1, 2]");
    EXPECT_EQ(One(session->main(), "SELECT json_length('[1, 2, 3]')"), "3");
    EXPECT_EQ(One(session->main(), "SELECT my_macro(1)"), "2");
    EXPECT_EQ(One(session->main(),
                  "SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro' AND "
                  "function_name IN ('json_get', 'json_get_json', 'json_length')"),
              "0");
  }
}

}  // namespace
}  // namespace aqueducts::engine

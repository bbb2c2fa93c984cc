#include "engine/session.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "engine/value_text.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

std::unique_ptr<Session> OpenSession() {
  auto session = Session::Open(Database::Options{});
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  return std::move(session).value();
}

std::string One(Connection& conn, const std::string& sql) {
  auto rows = conn.Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  if (!rows.ok() || rows->rows.empty() || !rows->rows[0][0]) {
    return "<null>";
  }
  return *rows->rows[0][0];
}

TEST(SessionTest, QueryReturnsTextRowsAndTypes) {
  auto session = OpenSession();
  AQ_ASSERT_OK_AND_ASSIGN(auto rows, session->main().Query("SELECT 1 AS a, NULL::VARCHAR AS b"));
  ASSERT_EQ(rows.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rows.types[0], "INTEGER");
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(*rows.rows[0][0], "1");
  EXPECT_FALSE(rows.rows[0][1].has_value());
}

TEST(SessionTest, ReportedRowCountReadsTheCountOfAStatement) {
  auto session = OpenSession();
  AQ_ASSERT_OK_AND_ASSIGN(auto created,
                          session->main().Query("CREATE TABLE t AS SELECT * FROM range(3)"));
  EXPECT_EQ(ReportedRowCount(created), 3);
  AQ_ASSERT_OK_AND_ASSIGN(auto none, session->main().Query("SELECT 1 WHERE false"));
  EXPECT_EQ(ReportedRowCount(none), -1);
  AQ_ASSERT_OK_AND_ASSIGN(auto null, session->main().Query("SELECT NULL::BIGINT"));
  EXPECT_EQ(ReportedRowCount(null), -1);
}

TEST(SessionTest, ErrorsAreTranslated) {
  auto session = OpenSession();
  Status parse = session->main().Execute("SELECTT 1");
  EXPECT_EQ(parse.code(), StatusCode::kSqlError);
  EXPECT_NE(parse.message().find("SELECTT"), std::string::npos) << parse.message();
  Status missing = session->main().Execute("SELECT * FROM no_such_table");
  EXPECT_EQ(missing.code(), StatusCode::kExecutionError);
  EXPECT_NE(missing.message().find("no_such_table"), std::string::npos);
}

TEST(SessionTest, ConnectionsShareTheDatabase) {
  auto session = OpenSession();
  AQ_ASSERT_OK(session->main().Execute("CREATE TABLE t AS SELECT 42 AS x"));
  AQ_ASSERT_OK_AND_ASSIGN(auto conn, session->Connect());
  EXPECT_EQ(One(*conn, "SELECT x FROM t"), "42");
}

TEST(SessionTest, RenderDrawsAnAsciiBox) {
  auto session = OpenSession();
  AQ_ASSERT_OK_AND_ASSIGN(
      auto text,
      session->main().Render("SELECT * FROM (VALUES (1, 'foo'), (22, NULL)) t(a, bb)", 10));
  EXPECT_EQ(text,
            "+----+-----+\n"
            "| a  | bb  |\n"
            "+----+-----+\n"
            "| 1  | foo |\n"
            "| 22 |     |\n"
            "+----+-----+\n");
  AQ_ASSERT_OK_AND_ASSIGN(auto limited,
                          session->main().Render("SELECT range AS r FROM range(100)", 2));
  EXPECT_EQ(limited, "+---+\n| r |\n+---+\n| 0 |\n| 1 |\n+---+\n");
}

TEST(SessionTest, InterruptCancelsALongQuery) {
  auto session = OpenSession();
  AQ_ASSERT_OK_AND_ASSIGN(auto conn, session->Connect());
  Status status;
  std::atomic<bool> done{false};
  std::thread runner([&] {
    status = conn->Execute(
        "SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = 7");
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  // An interrupt that lands before the query starts is not kept, so repeat it, as the runner's
  // monitor does.
  while (!done && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    conn->Interrupt();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  runner.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(SessionTest, QuoteHelpers) {
  EXPECT_EQ(QuoteIdent("my \"t\""), "\"my \"\"t\"\"\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
}

TEST(CustomFunctionsTest, UnnestJsonArray) {
  auto session = OpenSession();
  auto& conn = session->main();
  AQ_ASSERT_OK_AND_ASSIGN(
      auto rows, conn.Query("SELECT unnest_json_array(c) AS arr FROM (VALUES ('[1, 2, 3]')) t(c)"));
  EXPECT_EQ(rows.types[0], "VARCHAR[]");
  EXPECT_EQ(*rows.rows[0][0], "[1, 2, 3]");
  EXPECT_EQ(One(conn, "SELECT unnest_json_array('[\"foo\", \"bar\"]')[1]"), "\"foo\"");
  EXPECT_EQ(One(conn, "SELECT unnest_json_array('[\"foo\", \"bar\"]')"), "[\"foo\", \"bar\"]");
  EXPECT_EQ(One(conn, "SELECT unnest_json_array('[{\"x\":1}, {\"y\":\"foo\"}]')"),
            "[{\"x\":1}, {\"y\":\"foo\"}]");
  EXPECT_EQ(One(conn, "SELECT unnest_json_array('[{\"x\":1}, {\"y\":\"foo\"}]')[2]"),
            "{\"y\":\"foo\"}");
  EXPECT_EQ(One(conn, "SELECT len(unnest_json_array('[{\"x\": 1}, 2]'))"), "2");
  EXPECT_EQ(One(conn, "SELECT unnest_json_array(NULL) IS NULL"), "true");
  Status not_array = conn.Execute("SELECT unnest_json_array('{\"a\":1}')");
  EXPECT_EQ(not_array.code(), StatusCode::kExecutionError);
  EXPECT_NE(not_array.message().find("unnest_json_array: expected JSON array, got"),
            std::string::npos)
      << not_array.message();
  EXPECT_FALSE(conn.Execute("SELECT unnest_json_array('[1, 2')").ok());
}

TEST(CustomFunctionsTest, JsonGetFamily) {
  auto session = OpenSession();
  AQ_ASSERT_OK_AND_ASSIGN(auto conn, session->Connect());  // functions visible everywhere
  const std::string doc =
      "'{\"a\": {\"b\": [10, 20.5, \"x\", true]}, \"s\": \"str\", \"n\": null, \"k/1\": 7}'";
  EXPECT_EQ(One(*conn, "SELECT json_get_str(" + doc + ", 's')"), "str");
  EXPECT_EQ(One(*conn, "SELECT json_get_str(" + doc + ", 'a')"), "<null>");
  EXPECT_EQ(One(*conn, "SELECT json_get_int(" + doc + ", 'a', 'b', 0)"), "10");
  EXPECT_EQ(One(*conn, "SELECT json_get_int(" + doc + ", 'k/1')"), "7");
  EXPECT_EQ(One(*conn, "SELECT json_get_float(" + doc + ", 'a', 'b', 1)"), "20.5");
  EXPECT_EQ(One(*conn, "SELECT json_get_float(" + doc + ", 'a', 'b', 0)"), "10.0");
  EXPECT_EQ(One(*conn, "SELECT json_get_bool(" + doc + ", 'a', 'b', 3)"), "true");
  // The raw slice of the document, spacing included.
  EXPECT_EQ(One(*conn, "SELECT json_get_json(" + doc + ", 'a')"),
            "{\"b\": [10, 20.5, \"x\", true]}");
  // As the original's union value cast to text: strings without quotes, null as NULL.
  EXPECT_EQ(One(*conn, "SELECT json_get(" + doc + ", 'a', 'b', 2)"), "x");
  EXPECT_EQ(One(*conn, "SELECT json_get(" + doc + ", 's')::VARCHAR"), "str");
  EXPECT_EQ(One(*conn, "SELECT json_get(" + doc + ", 'n')"), "<null>");
  EXPECT_EQ(One(*conn, "SELECT json_get(" + doc + ", 'a', 'b', 0)"), "10");
  EXPECT_EQ(One(*conn, "SELECT json_get(" + doc + ", 'a', 'b')"), "[10, 20.5, \"x\", true]");
  // Malformed JSON contains nothing (false, not NULL); a NULL document stays NULL.
  EXPECT_EQ(One(*conn, "SELECT json_contains('{\"a\": 1', 'a')"), "false");
  EXPECT_EQ(One(*conn, "SELECT json_contains('not json', 'a')"), "false");
  EXPECT_EQ(One(*conn, "SELECT json_contains(NULL, 'a')"), "<null>");
  // Paths longer than five elements.
  EXPECT_EQ(One(*conn,
                "SELECT json_get_int('{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":[1,"
                "{\"g\":42}]}}}}}}', 'a', 'b', 'c', 'd', 'e', 'f', 1, 'g')"),
            "42");
  EXPECT_EQ(One(*conn, "SELECT json_as_text(" + doc + ", 'a', 'b', 2)"), "x");
  EXPECT_EQ(One(*conn, "SELECT json_as_text(" + doc + ", 'a', 'b', 0)"), "10");
  EXPECT_EQ(One(*conn, "SELECT json_length(" + doc + ", 'a', 'b')"), "4");
  EXPECT_EQ(One(*conn, "SELECT json_length(" + doc + ")"), "4");
  EXPECT_EQ(One(*conn, "SELECT json_contains(" + doc + ", 'n')"), "true");
  EXPECT_EQ(One(*conn, "SELECT json_contains(" + doc + ", 'zz')"), "false");
  EXPECT_EQ(One(*conn, "SELECT json_get_array(" + doc + ", 'a', 'b')"), "[10, 20.5, \"x\", true]");
  EXPECT_EQ(One(*conn, "SELECT json_object_keys(" + doc + ", 'a')"), "[b]");
  EXPECT_EQ(One(*conn, "SELECT json_keys('{\"p\": 1, \"q\": 2}')"), "[p, q]");
  EXPECT_EQ(One(*conn, "SELECT json_get_str('not json', 'a')"), "<null>");
  EXPECT_EQ(One(*conn, "SELECT json_length('[1, 2')"), "<null>");
  EXPECT_EQ(One(*conn, "SELECT " + doc + "::JSON ->> 's'"), "str");
}

// What the C++ functions (json_functions.cc) answer from the bytes of the document.
TEST(CustomFunctionsTest, JsonGetFamilyKeepsTheDocumentsOwnText) {
  auto session = OpenSession();
  auto& conn = session->main();
  // Numbers as written: beyond 64 bits, trailing zeros, exponents.
  const std::string doc =
      "'{\"big\": 123456789012345678901234567890, \"f\": 1.50, \"e\": 1e3, "
      "\"o\": {\"x\" :  [1,  2]}, \"s\": \"a\\\"b\\u00e9\\ud83d\\ude00\", \"k\\\"q\": 5}'";
  EXPECT_EQ(One(conn, "SELECT json_get_json(" + doc + ", 'big')"),
            "123456789012345678901234567890");
  EXPECT_EQ(One(conn, "SELECT json_as_text(" + doc + ", 'big')"), "123456789012345678901234567890");
  EXPECT_EQ(One(conn, "SELECT json_get(" + doc + ", 'f')"), "1.50");
  EXPECT_EQ(One(conn, "SELECT json_get_json(" + doc + ", 'e')"), "1e3");
  EXPECT_EQ(One(conn, "SELECT json_get_json(" + doc + ", 'o')"), "{\"x\" :  [1,  2]}");
  EXPECT_EQ(One(conn, "SELECT json_get_array(" + doc + ", 'o', 'x')"), "[1, 2]");
  // Integers only where the number is an integer that fits; floats from any number.
  EXPECT_EQ(One(conn, "SELECT json_get_int(" + doc + ", 'big')"), "<null>");
  EXPECT_EQ(One(conn, "SELECT json_get_int(" + doc + ", 'f')"), "<null>");
  EXPECT_EQ(One(conn, "SELECT json_get_int('{\"m\": -9223372036854775808}', 'm')"),
            "-9223372036854775808");
  EXPECT_EQ(One(conn, "SELECT json_get_float(" + doc + ", 'e')"), "1000.0");
  EXPECT_EQ(One(conn, "SELECT json_get_float(" + doc + ", 'big') > 1.2e29"), "true");
  // Strings unescaped (quotes, \u escapes, surrogate pairs); json_get_json keeps them escaped.
  EXPECT_EQ(One(conn, "SELECT json_get_str(" + doc + ", 's')"), "a\"b\u00e9\U0001F600");
  EXPECT_EQ(One(conn, "SELECT json_get_json(" + doc + ", 's')"), "\"a\\\"b\\u00e9\\ud83d\\ude00\"");
  EXPECT_EQ(One(conn, "SELECT json_get_int(" + doc + ", 'k\"q')"), "5");  // an escaped key
  EXPECT_EQ(One(conn, "SELECT json_object_keys(" + doc + ")"), "[big, f, e, o, s, k\"q]");
  // A key addresses objects only, an index arrays only.
  EXPECT_EQ(One(conn, "SELECT json_get('[7, 8]', '1')"), "<null>");
  EXPECT_EQ(One(conn, "SELECT json_get('[7, 8]', 1)"), "8");
  EXPECT_EQ(One(conn, "SELECT json_get('{\"1\": 7}', 1)"), "<null>");
  EXPECT_EQ(One(conn, "SELECT json_get('[7, 8]', -1)"), "<null>");
  // The first of duplicate keys; JSON null is NULL except in json_get_json.
  EXPECT_EQ(One(conn, "SELECT json_get('{\"a\": 1, \"a\": 2}', 'a')"), "1");
  EXPECT_EQ(One(conn, "SELECT json_get_json('{\"a\": null}', 'a')"), "null");
  EXPECT_EQ(One(conn, "SELECT json_as_text('{\"a\": null}', 'a')"), "<null>");
  // Malformed anywhere in the document: NULL (json_contains false), also after the value found.
  EXPECT_EQ(One(conn, "SELECT json_get('{\"a\": 1, \"b\": tru}', 'a')"), "<null>");
  EXPECT_EQ(One(conn, "SELECT json_contains('{\"a\": 1,}', 'a')"), "false");
  // NULL path steps give NULL; paths from columns work row by row.
  EXPECT_EQ(One(conn, "SELECT json_get('{\"a\": 1}', NULL)"), "<null>");
  EXPECT_EQ(One(conn,
                "SELECT string_agg(coalesce(json_get(d, k), '-'), ',' ORDER BY k) FROM (VALUES "
                "('{\"x\": 1, \"y\": 2}', 'x'), ('{\"x\": 3, \"y\": 4}', 'y'), "
                "(NULL, 'x'), ('{\"x\": 5}', NULL)) t(d, k)"),
            "1,-,4,-");  // ordered by k: x, x, y, NULL
  // A wrong path type is refused at bind time, naming the function and the argument.
  Status bad = conn.Execute("SELECT json_get('{}', 1.5)");
  EXPECT_NE(bad.message().find("json_get: path argument 2 is DECIMAL(2,1)"), std::string::npos)
      << bad.message();
}

TEST(CustomFunctionsTest, JsonPathsHaveNoLengthLimit) {
  auto session = OpenSession();
  auto& conn = session->main();
  std::string doc;
  std::string path;
  for (int i = 0; i < 40; i++) {
    doc += "{\"k" + std::to_string(i) + "\": [";
    path += ", 'k" + std::to_string(i) + "', 0";
  }
  doc += "\"deep\"";
  for (int i = 0; i < 40; i++) {
    doc += "]}";
  }
  EXPECT_EQ(One(conn, "SELECT json_get_str('" + doc + "'" + path + ")"), "deep");
  EXPECT_EQ(One(conn, "SELECT json_contains('" + doc + "', 'k0', 0, 'k1', 0, 'k2')"), "true");
  EXPECT_EQ(One(conn, "SELECT json_contains('" + doc + "', 'k0', 0, 'k2')"), "false");
}

TEST(ValidateSqlTest, AcceptsQueriesRefusesTheRest) {
  Aqueduct aqueduct;
  aqueduct.stages = {{{.name = "a", .query = "SELECT 1"},
                      {.name = "b", .query = "WITH x AS (SELECT 1) SELECT * FROM x"}},
                     {{.name = "c", .query = "FROM b"}, {.name = "d", .query = "VALUES (1)"}}};
  AQ_EXPECT_OK(ValidateSql(aqueduct));

  aqueduct.stages.push_back({{.name = "bad", .query = "SELECTT 1 FROM t"}});
  Status typo = ValidateSql(aqueduct);
  EXPECT_EQ(typo.code(), StatusCode::kSqlError);
  EXPECT_EQ(typo.id(), "aqueducts::template::sql_validation_error");
  EXPECT_NE(typo.message().find("stage 'bad'"), std::string::npos) << typo.message();
  EXPECT_NE(typo.message().find("SELECTT"), std::string::npos) << typo.message();

  aqueduct.stages.back() = {{.name = "ddl", .query = "CREATE TABLE x (a INT)"}};
  Status ddl = ValidateSql(aqueduct);
  EXPECT_EQ(ddl.code(), StatusCode::kSqlError);
  EXPECT_NE(ddl.message().find("Failed to parse SQL in stage 'ddl': only one query (SELECT) is "
                               "allowed, got CREATE"),
            std::string::npos)
      << ddl.message();
  aqueduct.stages.back() = {{.name = "two", .query = "SELECT 1; SELECT 2"}};
  EXPECT_EQ(ValidateSql(aqueduct).code(), StatusCode::kSqlError);
  aqueduct.stages.back() = {{.name = "set", .query = "SET threads = 1"}};
  EXPECT_EQ(ValidateSql(aqueduct).code(), StatusCode::kSqlError);
}

TEST(DatabaseTest, OpenExecuteQueryAndVersion) {
  AQ_ASSERT_OK_AND_ASSIGN(auto db, Database::Open());
  AQ_ASSERT_OK(db->Execute("CREATE TABLE t AS SELECT range AS x FROM range(3)"));
  AQ_ASSERT_OK_AND_ASSIGN(auto rows, db->Query("SELECT sum(x) FROM t"));
  EXPECT_EQ(*rows.rows[0][0], "3");
  EXPECT_STREQ(Version(), AQ_VERSION);
}

TEST(SessionTest, OptionsApply) {
  Database::Options options;
  options.threads = 1;
  options.memory_limit_bytes = 256ull << 20;
  AQ_ASSERT_OK_AND_ASSIGN(auto session, Session::Open(options));
  EXPECT_EQ(One(session->main(), "SELECT current_setting('threads')"), "1");
  EXPECT_EQ(session->TempFileBytes(), 0);
}

}  // namespace
}  // namespace aqueducts::engine

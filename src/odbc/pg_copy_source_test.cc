// The PostgreSQL COPY read path of the ODBC source (pg_copy_source.h) against the ODBC path:
// the same rows, types and values, with DuckDB comparing the two tables and psql as the oracle.

#include "odbc/pg_copy_source.h"

#include "odbc/odbc.h"
#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

using CopyReadTest = OdbcPgTest;

constexpr const char* kOdbcOnly = "AqueductsPgCopy=0;";

// Every type the COPY path decodes, with the edges of each.
constexpr const char* kEdgeTable = R"sql(
CREATE TABLE edge_src (id integer, b boolean, i2 smallint, i4 integer, i8 bigint, r real,
  d double precision, n numeric(12,3), big numeric(38,18), wide numeric(50,2), free numeric,
  t text, v varchar(20), c char(5), day date, ts timestamp, tz timestamptz, tm time, bin bytea,
  u uuid);
INSERT INTO edge_src VALUES
 (1, true, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', -999999999.999,
  '-99999999999999999999.999999999999999999', -123456789012345678901234567890123456.78,
  -0.000000000000000001, '', '', '', '4713-01-01 BC', '4713-01-01 00:00:00 BC',
  '4713-01-01 00:00:00+00 BC', '00:00:00', '', '00000000-0000-0000-0000-000000000000'),
 (2, false, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity', 999999999.999,
  '99999999999999999999.999999999999999999', 123456789012345678901234567890123456.78,
  12345678901234567890.123456789012345678, 'NULL', 'NULL', 'NULL', '5874897-12-31',
  '294246-12-31 23:59:59.999999', '294246-12-31 23:59:59.999999+00', '24:00:00',
  '\x00ff0a0d5c2c22', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL),
 (4, true, 0, 0, 0, '-Infinity', '-Infinity', 0, 0, 0, 0,
  E'tab\there, comma, "quote" \\ back\nnew line\r|pipe;semi', 'Grüße 東京 🚀', 'ab',
  'infinity', 'infinity', 'infinity', '23:59:59.999999', '\xdeadbeef', NULL),
 (5, false, -1, -1, -1, 1.17549435e-38, 2.2250738585072014e-308, -0.001, -0.000000000000000001,
  0.01, 3.25, E'\u00e9\u0301 combining', repeat('x', 20), 'é', '-infinity', '-infinity',
  '-infinity', '12:34:56.000001', NULL, NULL),
 (6, true, 1, 1, 1, 3.4028235e38, 1.7976931348623157e308, 1.5, 1.5, 1.5, -1e-18,
  repeat('long ', 3000), ' lead', ' ', '0044-03-15 BC', '0044-03-15 12:30:00.5 BC',
  '2000-02-29 23:59:59.999999-05:30', '13:14:15', '\x', NULL),
 (7, false, 2, 2, 2, -0.0, -0.0, 0.001, 0.1, 0.1, 1e20 - 1, 'trail ', 'x ', 'abcde',
  '1969-12-31', '1969-12-31 23:59:59.999999', '1970-01-01 09:00:00+09', '00:00:00.5',
  '\x01', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
 (8, true, 3, 3, 3, 0.1, 0.1, 2, 2, 2, 100000000000000000000 - 0.000000000000000001, 'NaN',
  '-0', '0', '10000-01-01', '10000-01-01 01:02:03', '0001-01-01 00:00:00+00', '01:02:03',
  '\x80', NULL);
)sql";

// Columns of `table` as DuckDB prints them, one line per row in id order (NaN and NULL kept).
std::string Dump(engine::Session& session, const std::string& table) {
  auto rows = session.main().Query("SELECT * FROM " + table + " ORDER BY id");
  if (!rows.ok()) {
    return rows.status().ToString();
  }
  std::string out;
  for (const auto& type : rows->types) {
    out += type + ",";
  }
  out += "\n";
  for (const auto& row : rows->rows) {
    for (const auto& value : row) {
      out += (value ? "'" + *value + "'" : std::string("NULL")) + "|";
    }
    out += "\n";
  }
  return out;
}

TEST_F(CopyReadTest, EdgeValuesAreIdenticalOnBothPaths) {
  Pg(kEdgeTable);
  const int64_t before = PgCopyLoads();
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"by_copy", "SELECT * FROM edge_src", Conn()}));
  EXPECT_EQ(PgCopyLoads(), before + 1) << "the COPY path did not run";
  AQ_ASSERT_OK(
      RegisterOdbcSource(*session_, {"by_odbc", "SELECT * FROM edge_src", Conn() + kOdbcOnly}));
  EXPECT_EQ(PgCopyLoads(), before + 1) << "AqueductsPgCopy=0 did not turn the COPY path off";
  EXPECT_EQ(Duck("SELECT count(*) FROM by_copy"), "8");
  // Identical types and values (DuckDB's text of every value, which is exact for these types).
  EXPECT_EQ(Dump(*session_, "by_copy"), Dump(*session_, "by_odbc"));
  // And identical bits where text could hide a difference (NaN, -0.0, floats, blobs).
  EXPECT_EQ(Duck("SELECT count(*) FROM (SELECT id, hash(r::VARCHAR), hash(d::VARCHAR), "
                 "CAST(r AS DOUBLE) = CAST(r AS DOUBLE), signbit(d), bin, hex(bin) FROM by_copy "
                 "EXCEPT SELECT id, hash(r::VARCHAR), hash(d::VARCHAR), CAST(r AS DOUBLE) = "
                 "CAST(r AS DOUBLE), signbit(d), bin, hex(bin) FROM by_odbc)"),
            "0");
  // psql is the oracle for the text columns and the decimals.
  // (format's %s prints a value with its type's output function: char(n) keeps its padding.)
  for (const std::string column : {"t", "v", "c", "n", "big", "wide", "u"}) {
    EXPECT_EQ(Duck("SELECT string_agg(coalesce(" + column +
                   "::VARCHAR, '<null>'), '|' ORDER BY id) FROM by_copy"),
              Pg("SELECT string_agg(CASE WHEN " + column +
                 " IS NULL THEN '<null>' ELSE "
                 "format('%s', " +
                 column + ") END, '|' ORDER BY id) FROM edge_src"))
        << column;
  }
  EXPECT_EQ(Duck("SELECT string_agg(coalesce(hex(bin), '<null>'), '|' ORDER BY id) FROM by_copy"),
            Pg("SELECT string_agg(coalesce(upper(encode(bin, 'hex')), '<null>'), '|' ORDER BY "
               "id) FROM edge_src"));
}

TEST_F(CopyReadTest, SessionSettingsMatchTheOdbcPath) {
  const std::string query =
      "SELECT 1 AS id, current_setting('DateStyle') AS ds, current_setting('TimeZone') AS tz, "
      "current_setting('extra_float_digits') AS efd, current_setting('client_encoding') AS enc, "
      "(0.1::float8)::text AS f, now()::date::text AS today, "
      "'2024-01-01 12:00:00+00'::timestamptz::text AS ts";
  const int64_t before = PgCopyLoads();
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"by_copy", query, Conn()}));
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"by_odbc", query, Conn() + kOdbcOnly}));
  EXPECT_EQ(PgCopyLoads(), before + 1);
  EXPECT_EQ(Dump(*session_, "by_copy"), Dump(*session_, "by_odbc"));
  EXPECT_EQ(Duck("SELECT ts FROM by_copy"), "2024-01-01 12:00:00+00");
}

TEST_F(CopyReadTest, UndecodedTypesFallBackToOdbc) {
  Pg("CREATE TABLE other_src (id integer, iv interval, j jsonb, arr integer[]);"
     "INSERT INTO other_src VALUES (1, '1 day 02:03:04', '{\"a\": [1, 2]}', '{1,NULL,3}'), "
     "(2, NULL, NULL, NULL)");
  const int64_t before = PgCopyLoads();
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"by_copy", "SELECT * FROM other_src", Conn()}));
  AQ_ASSERT_OK(
      RegisterOdbcSource(*session_, {"by_odbc", "SELECT * FROM other_src", Conn() + kOdbcOnly}));
  EXPECT_EQ(PgCopyLoads(), before) << "a column type COPY does not decode must use ODBC";
  EXPECT_EQ(Dump(*session_, "by_copy"), Dump(*session_, "by_odbc"));
  EXPECT_EQ(Duck("SELECT j FROM by_copy WHERE id = 1"), "{\"a\": [1, 2]}");
}

TEST_F(CopyReadTest, ErrorsAreTheOdbcPathsErrors) {
  for (const std::string query :
       {"SELEC nothing", "SELECT * FROM no_such_table", "SELECT 1/0 AS x",
        "SELECT 'NaN'::numeric AS n", "SELECT '294276-12-31 23:59:59'::timestamp AS ts",
        "SELECT 1 AS id, 123456789012345678901.5::numeric AS n"}) {
    const int64_t before = PgCopyLoads();
    Status by_copy = RegisterOdbcSource(*session_, {"e", query, Conn()});
    Status by_odbc = RegisterOdbcSource(*session_, {"e", query, Conn() + kOdbcOnly});
    EXPECT_FALSE(by_copy.ok()) << query;
    EXPECT_EQ(by_copy.ToString(), by_odbc.ToString()) << query;
    EXPECT_EQ(PgCopyLoads(), before) << query;
    EXPECT_EQ(Duck("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'e'"), "0") << query;
  }
}

TEST_F(CopyReadTest, ManyRowsStreamWithTheirCount) {
  const std::string query =
      "SELECT i AS id, i::text || repeat('y', i % 7) AS s, i * 0.5 AS half, "
      "(DATE '2024-01-01' + i % 400) AS day FROM generate_series(1, 100000) i";
  const int64_t before = PgCopyLoads();
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"by_copy", query, Conn()}));
  EXPECT_EQ(PgCopyLoads(), before + 1);
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"by_odbc", query, Conn() + kOdbcOnly}));
  EXPECT_EQ(Duck("SELECT count(*) FROM by_copy"), "100000");
  EXPECT_EQ(Duck("SELECT count(*) FROM (SELECT * FROM by_copy EXCEPT SELECT * FROM by_odbc)"), "0");
  EXPECT_EQ(Duck("SELECT sum(id) || '/' || (sum(half) * 2)::BIGINT || '/' || max(s) || '/' || "
                 "min(day) FROM "
                 "by_copy"),
            Pg("SELECT sum(i) || '/' || (sum(i * 0.5) * 2)::bigint || '/' || max(i::text || "
               "repeat('y', i % "
               "7)) || '/' || min(DATE '2024-01-01' + i % 400) FROM generate_series(1, 100000) "
               "i"));
}

TEST(PgCopyTargetTest, OnlyPlainPostgresConnectionStrings) {
  auto target = PgCopyTargetOf(
      "Driver={PostgreSQL Unicode};Server=db.example;Port=5433;Database=sales;UID=me;"
      "PWD={p;w=d};SSLmode=require;");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->host, "db.example");
  EXPECT_EQ(target->port, "5433");
  EXPECT_EQ(target->dbname, "sales");
  EXPECT_EQ(target->user, "me");
  EXPECT_EQ(target->password, "p;w=d");
  EXPECT_EQ(target->sslmode, "require");
  EXPECT_TRUE(PgCopyTargetOf("Driver=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;Servername=h;"
                             "Username=u;Password=p;BoolsAsChar=0;NumericAs=-1;")
                  .has_value());
  EXPECT_FALSE(PgCopyTargetOf("DSN=pg;").has_value());
  EXPECT_FALSE(PgCopyTargetOf("Driver={PostgreSQL Unicode};DSN=pg;Server=h;").has_value());
  EXPECT_FALSE(PgCopyTargetOf("Driver={MySQL};Server=h;").has_value());
  EXPECT_FALSE(PgCopyTargetOf("Driver={PostgreSQL Unicode};Database=d;").has_value());
  EXPECT_FALSE(PgCopyTargetOf("Driver={PostgreSQL Unicode};Server=h;BoolsAsChar=1;").has_value());
  EXPECT_FALSE(
      PgCopyTargetOf("Driver={PostgreSQL Unicode};Server=h;TextAsLongVarchar=0;").has_value());
  for (const char* off : {"0", "no", "false", "off", "OFF"}) {
    EXPECT_FALSE(PgCopyTargetOf(std::string("Driver={PostgreSQL Unicode};Server=h;") +
                                kPgCopySwitch + "=" + off + ";")
                     .has_value())
        << off;
  }
  EXPECT_EQ(WithoutPgCopySwitch("Driver={PostgreSQL Unicode};AqueductsPgCopy=0;Server=h;"),
            "Driver={PostgreSQL Unicode};Server=h;");
  EXPECT_EQ(WithoutPgCopySwitch("Driver={x};Server=h;aqueductspgcopy=0"), "Driver={x};Server=h;");
  EXPECT_EQ(WithoutPgCopySwitch("Driver={x};PWD={a;b}"), "Driver={x};PWD={a;b}");
}

}  // namespace
}  // namespace aqueducts::odbc::testing

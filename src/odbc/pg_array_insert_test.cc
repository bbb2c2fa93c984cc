// The PostgreSQL array-parameter append (pg_array_insert.h): the element escaping on its own, and
// round trips of edge values through a real PostgreSQL with plain DuckDB as the oracle.

#include "odbc/pg_array_insert.h"

#include <cmath>
#include <limits>

#include "odbc/odbc.h"
#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

engine::ColumnVector Strings(std::vector<std::string> values, std::vector<uint8_t> valid,
                             TypeId id = TypeId::kUtf8) {
  engine::ColumnVector column;
  column.name = "s";
  column.type.id = id;
  column.strings = std::move(values);
  column.valid = std::move(valid);
  return column;
}

std::string Elements(const engine::ColumnVector& column) {
  std::string out;
  for (size_t r = 0; r < column.size(); ++r) {
    out += r ? "," : "";
    Status status = AppendArrayElement(column, r, static_cast<int64_t>(r) + 1, &out);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  return out;
}

TEST(ArrayElementTest, TextIsQuotedAndEscapedAndNullIsBare) {
  EXPECT_EQ(Elements(Strings({"a\"b\\c", "", "NULL", "x", " {a,b} "}, {1, 1, 1, 0, 1})),
            "\"a\\\"b\\\\c\",\"\",\"NULL\",NULL,\" {a,b} \"");
  EXPECT_EQ(Elements(Strings({std::string("\xde\xad\x00", 3)}, {1}, TypeId::kBinary)),
            "\"\\\\xdead00\"");
  std::string out;
  Status nul = AppendArrayElement(Strings({std::string("a\0b", 3)}, {1}), 0, 7, &out);
  EXPECT_EQ(nul.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nul.message().find("Column 's', row 7: the text contains a NUL"), std::string::npos)
      << nul.message();
}

TEST(ArrayElementTest, NumbersAreExactAndSpecialDoublesNamed) {
  engine::ColumnVector d;
  d.name = "d";
  d.type.id = TypeId::kFloat64;
  d.doubles = {0.1,
               std::nan(""),
               std::numeric_limits<double>::infinity(),
               -std::numeric_limits<double>::infinity(),
               -0.0,
               1e-300};
  d.valid.assign(d.doubles.size(), 1);
  EXPECT_EQ(Elements(d), "0.1,NaN,Infinity,-Infinity,-0,1e-300");
  engine::ColumnVector f = d;
  f.type.id = TypeId::kFloat32;
  f.doubles = {static_cast<double>(1.1f)};
  f.valid = {1};
  EXPECT_EQ(Elements(f), "1.1");
  engine::ColumnVector dec;
  dec.name = "n";
  dec.type.id = TypeId::kDecimal128;
  dec.type.precision = 12;
  dec.type.scale = 3;
  dec.ints = {-12345678, 5};
  dec.valid = {1, 1};
  EXPECT_EQ(Elements(dec), "-12345.678,0.005");
}

using PgArrayAppendTest = OdbcPgTest;

OdbcDestination Append(const std::string& table, const std::string& conn, uint64_t batch_size) {
  OdbcDestination d;
  d.name = table;
  d.connection_string = conn;
  d.batch_size = batch_size;
  return d;
}

TEST_F(PgArrayAppendTest, EdgeValuesRoundTripExactly) {
  Pg("CREATE TABLE arr_edge (id integer, t text, v varchar(40), d double precision, r real, "
     "n numeric(38,18), day date, ts timestamp, b boolean)");
  // Every text an array literal treats specially, in batches of 4 (several executions and a
  // partial last batch).
  AQ_ASSERT_OK(session_->main().Execute(
      "CREATE TABLE src AS SELECT * FROM (VALUES "
      "(1, '{', '}', 'NaN'::DOUBLE, 1.5::FLOAT, 99999999999999999999.999999999999999999::"
      "DECIMAL(38,18), make_date(-43, 3, 15), TIMESTAMP '1969-12-31 23:59:59.999999', true), "
      "(2, '\"', '\\', 'Infinity'::DOUBLE, 'NaN'::FLOAT, "
      "-99999999999999999999.999999999999999999::DECIMAL(38,18), 'infinity'::DATE, "
      "'-infinity'::TIMESTAMP, false), "
      "(3, ',', ' lead', '-Infinity'::DOUBLE, -0.0::FLOAT, 0.000000000000000001::DECIMAL(38,18), "
      "DATE '5874897-12-31', TIMESTAMP '10000-01-01 01:02:03', NULL), "
      "(4, 'trail ', '  both  ', -0.0::DOUBLE, 3.4e38::FLOAT, 0::DECIMAL(38,18), DATE "
      "'1970-01-01', make_timestamp(-43, 3, 15, 12, 30, 0.5), true), "
      "(5, 'NULL', 'null', 1e-300::DOUBLE, 1e-30::FLOAT, NULL, NULL, NULL, NULL), "
      "(6, '', NULL, 1.7976931348623157e308::DOUBLE, NULL, 1.5::DECIMAL(38,18), DATE "
      "'2024-02-29', TIMESTAMP '2024-02-29 23:59:58.123456', true), "
      "(7, NULL, '', NULL, 0.1::FLOAT, -0.5::DECIMAL(38,18), NULL, NULL, false), "
      "(8, 'a,b{c}\"d\\e', '{\"k\": [1, 2]}', 0.1::DOUBLE, 2::FLOAT, 1::DECIMAL(38,18), NULL, "
      "NULL, NULL), "
      "(9, 'Grüße, 東京 🚀', '{}', 2::DOUBLE, 3::FLOAT, 2::DECIMAL(38,18), NULL, NULL, NULL), "
      "(10, 'tab' || chr(9) || 'nl' || chr(10) || 'cr' || chr(13), '\\\\N', 3::DOUBLE, "
      "4::FLOAT, 3::DECIMAL(38,18), NULL, NULL, NULL)) "
      "t(id, t, v, d, r, n, day, ts, b)"));
  AQ_ASSERT_OK_AND_ASSIGN(
      int64_t rows,
      WriteOdbcDestination(*session_, Append("arr_edge", Conn(), 4), "SELECT * FROM src", nullptr));
  EXPECT_EQ(rows, 10);
  // What PostgreSQL stored, as text, against DuckDB's text of the same values.
  EXPECT_EQ(Pg("SELECT string_agg(coalesce('[' || t || ']', '<null>'), '|' ORDER BY id) FROM "
               "arr_edge"),
            Duck("SELECT string_agg(coalesce('[' || t || ']', '<null>'), '|' ORDER BY id) FROM "
                 "src"));
  EXPECT_EQ(Pg("SELECT string_agg(coalesce('[' || v || ']', '<null>'), '|' ORDER BY id) FROM "
               "arr_edge"),
            Duck("SELECT string_agg(coalesce('[' || v || ']', '<null>'), '|' ORDER BY id) FROM "
                 "src"));
  EXPECT_EQ(Pg("SELECT count(*) FILTER (WHERE t IS NULL) || '/' || count(*) FILTER (WHERE t = "
               "'NULL') || '/' || count(*) FILTER (WHERE t = '') FROM arr_edge"),
            "1/1/1");
  EXPECT_EQ(Pg("SELECT string_agg(coalesce(d::text, '<null>'), '|' ORDER BY id) FROM arr_edge"),
            "NaN|Infinity|-Infinity|-0|1e-300|1.7976931348623157e+308|<null>|0.1|2|3");
  EXPECT_EQ(Pg("SELECT n FROM arr_edge WHERE id = 1"), "99999999999999999999.999999999999999999");
  EXPECT_EQ(Pg("SELECT day || '/' || ts FROM arr_edge WHERE id = 1"),
            "0044-03-15 BC/1969-12-31 23:59:59.999999");
  // And back through the ODBC source: exactly the rows that were written.
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"back", "SELECT * FROM arr_edge", Conn()}));
  EXPECT_EQ(Duck("SELECT count(*) FROM (SELECT * FROM back EXCEPT SELECT * FROM src)"), "0");
  EXPECT_EQ(Duck("SELECT count(*) FROM (SELECT * FROM src EXCEPT SELECT * FROM back)"), "0");
  EXPECT_EQ(Duck("SELECT count(*) FROM back"), "10");
}

TEST_F(PgArrayAppendTest, TargetsOutsideTheFastPathStillAppend) {
  // A DOUBLE into an integer column (assignment cast), a fixed-length character column (a cast
  // to `character` would cut it) and an array column take the generic statement.
  Pg("CREATE TABLE arr_generic (id integer, x integer, c char(5), tags text[])");
  AQ_ASSERT_OK(session_->main().Execute(
      "CREATE TABLE src AS SELECT i::INTEGER AS id, (i * 2)::DOUBLE AS x, 'c' || i AS c, "
      "'{a,b}' AS tags FROM range(1, 8) t(i)"));
  AQ_ASSERT_OK_AND_ASSIGN(int64_t rows,
                          WriteOdbcDestination(*session_, Append("arr_generic", Conn(), 3),
                                               "SELECT * FROM src", nullptr));
  EXPECT_EQ(rows, 7);
  EXPECT_EQ(Pg("SELECT count(*) || '/' || sum(x) || '/' || max('[' || c::text || ']') || '/' || "
               "max(tags[2]) FROM arr_generic"),
            "7/56/[c7]/b");
}

TEST_F(PgArrayAppendTest, FastPathIsChosenOnlyWhereItStoresTheSameValues) {
  Pg("CREATE TABLE arr_choice (i bigint, t text, ts timestamp, x integer, c char(5), tags text[], "
     "u uuid)");
  AQ_ASSERT_OK_AND_ASSIGN(auto conn, OdbcConnection::Open(Conn()));
  auto field = [](std::string name, TypeId id) {
    Field f;
    f.name = std::move(name);
    f.data_type.id = id;
    return f;
  };
  auto prepare = [&](std::vector<std::string> columns, std::vector<Field> schema) {
    auto insert = PgArrayInsert::Prepare(*conn, "arr_choice", columns, schema);
    EXPECT_TRUE(insert.ok()) << insert.status().ToString();
    return insert.ok() && *insert != nullptr;
  };
  EXPECT_TRUE(
      prepare({"i", "t", "ts", "u"}, {field("i", TypeId::kInt64), field("t", TypeId::kUtf8),
                                      field("ts", TypeId::kTimestamp), field("u", TypeId::kUtf8)}));
  EXPECT_TRUE(prepare({"x"}, {field("x", TypeId::kInt16)}));
  // Refused, so the generic statement runs: a DOUBLE into an integer column (the assignment cast
  // rounds, integer input would refuse the text), char(n), an array column, a BOOLEAN into an
  // integer column.
  EXPECT_FALSE(prepare({"i", "x"}, {field("i", TypeId::kInt64), field("x", TypeId::kFloat64)}));
  EXPECT_FALSE(prepare({"c"}, {field("c", TypeId::kUtf8)}));
  EXPECT_FALSE(prepare({"tags"}, {field("tags", TypeId::kUtf8)}));
  EXPECT_FALSE(prepare({"t", "x"}, {field("t", TypeId::kUtf8), field("x", TypeId::kBoolean)}));
}

TEST_F(PgArrayAppendTest, AwkwardTextAndEveryTypeRoundTripInManyBatches) {
  Pg("CREATE TABLE arr_many (id bigint, t text, i16 smallint, i32 integer, i64 bigint, "
     "f real, d double precision, n numeric(38,18), b boolean, day date, tm time, "
     "ts timestamp, tz timestamptz, blob bytea, u uuid, j jsonb)");
  // Every text an array literal (or a careless encoder) treats specially, one per row in turn,
  // and a value longer than the reader's short buffer; 20,003 rows in batches of 1,000 (batch
  // after batch sent while the next is encoded, a partial last one).
  AQ_ASSERT_OK(session_->main().Execute(R"sql(
    CREATE TABLE edges AS SELECT row_number() OVER () - 1 AS k, s FROM (VALUES
      (''), (' '), ('  '), (chr(9)), ('NULL'), ('null'), (' NULL'), ('NULL '), ('"NULL"'),
      ('{'), ('}'), ('{}'), ('{NULL}'), ('{a,b}'), ('{{1,2},{3,4}}'), ('[1:2]={1,2}'), (','),
      (',,'), ('"'), ('""'), ('\'), ('\\'), ('\"'), ('a\'), ('"a"'), ('x y'), (' lead'),
      ('trail '), ('Grüße, 東京 🚀'), ('l1' || chr(10) || 'l2' || chr(13)), ('\N'), ('NaN'),
      ('ARRAY[1]'), ('(1,2)'), (''''), ('a''b;--'), (NULL),
      (repeat('x{",\ ', 400))) v(s))sql"));
  AQ_ASSERT_OK(session_->main().Execute(R"sql(
    CREATE TABLE src AS SELECT i AS id, e.s AS t,
      CASE i % 3 WHEN 0 THEN -32768 WHEN 1 THEN 32767 ELSE NULL END::SMALLINT AS i16,
      CASE i % 3 WHEN 0 THEN -2147483648 WHEN 1 THEN 2147483647 ELSE i END::INTEGER AS i32,
      CASE i % 4 WHEN 0 THEN -9223372036854775808 WHEN 1 THEN 9223372036854775807
        WHEN 2 THEN NULL ELSE i * 7919 END::BIGINT AS i64,
      CASE i % 5 WHEN 0 THEN 'NaN'::FLOAT WHEN 1 THEN '-Infinity'::FLOAT WHEN 2 THEN NULL
        ELSE (i / 7.0)::FLOAT END AS f,
      CASE i % 5 WHEN 0 THEN 'Infinity'::DOUBLE WHEN 1 THEN -0.0::DOUBLE WHEN 2 THEN NULL
        ELSE i / 3.0 END AS d,
      CASE i % 3 WHEN 0 THEN -99999999999999999999.999999999999999999::DECIMAL(38,18)
        WHEN 1 THEN NULL ELSE (i / 1000)::DECIMAL(38,18) END AS n,
      CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false ELSE NULL END AS b,
      CASE i % 4 WHEN 0 THEN make_date(-43, 3, 15) WHEN 1 THEN 'infinity'::DATE WHEN 2 THEN NULL
        ELSE DATE '2000-01-01' + i::INTEGER END AS day,
      CASE i % 3 WHEN 0 THEN TIME '23:59:59.999999' WHEN 1 THEN NULL
        ELSE TIME '00:00:00' + INTERVAL (i) SECOND END AS tm,
      CASE i % 3 WHEN 0 THEN TIMESTAMP '1969-12-31 23:59:59.999999' WHEN 1 THEN NULL
        ELSE TIMESTAMP '2024-02-29 12:00:00' + to_microseconds(i) END AS ts,
      CASE i % 3 WHEN 0 THEN TIMESTAMPTZ '1900-03-04 05:06:07.5+00' WHEN 1 THEN NULL
        ELSE TIMESTAMPTZ '2024-07-01 00:00:00+00' + INTERVAL (i) SECOND END AS tz,
      CASE i % 4 WHEN 0 THEN ''::BLOB WHEN 1 THEN NULL WHEN 2 THEN '\x00\xFF\x5C\x22\x7B,'::BLOB
        ELSE encode(coalesce(e.s, '')) END AS blob,
      CASE WHEN i % 2 = 0 THEN NULL ELSE '123e4567-e89b-12d3-a456-' || lpad(i::VARCHAR, 12, '0')
        END AS u,
      CASE WHEN i % 2 = 0 THEN NULL ELSE to_json({'k': e.s})::VARCHAR END AS j
    FROM range(20003) r(i) JOIN edges e ON e.k = r.i % (SELECT count(*) FROM edges))sql"));
  AQ_ASSERT_OK_AND_ASSIGN(int64_t rows,
                          WriteOdbcDestination(*session_, Append("arr_many", Conn(), 1000),
                                               "SELECT * FROM src", nullptr));
  EXPECT_EQ(rows, 20003);
  EXPECT_EQ(Pg("SELECT count(*) FROM arr_many"), "20003");
  // Text exactly as DuckDB holds it (NULL, '' and 'NULL' apart), compared as a digest.
  const std::string text_digest =
      "SELECT md5(string_agg(coalesce('[' || t || ']', '<null>'), '|' ORDER BY id)) FROM ";
  EXPECT_EQ(Pg(text_digest + "arr_many"), Duck(text_digest + "src"));
  const std::string kinds =
      "SELECT count(*) FILTER (WHERE t IS NULL) || '/' || count(*) FILTER (WHERE t = 'NULL') || "
      "'/' || count(*) FILTER (WHERE t = '') FROM ";
  EXPECT_EQ(Pg(kinds + "arr_many"), Duck(kinds + "src"));
  EXPECT_EQ(Pg("SELECT md5(string_agg(coalesce(encode(blob, 'hex'), '<null>'), '|' ORDER BY id)) "
               "FROM arr_many"),
            Duck("SELECT md5(string_agg(coalesce(lower(hex(blob)), '<null>'), '|' ORDER BY id)) "
                 "FROM src"));
  EXPECT_EQ(Pg("SELECT md5(string_agg(coalesce(j->>'k', '<null>'), '|' ORDER BY id)) FROM "
               "arr_many"),
            Duck("SELECT md5(string_agg(coalesce(json_extract_string(j, '$.k'), '<null>'), '|' "
                 "ORDER BY id)) FROM src"));
  // Every column back through the ODBC source (20,003 rows: several fetch blocks, the long text
  // re-read past its short buffer): the same rows as DuckDB's, both ways.
  // (jsonb as text: psqlODBC reports a jsonb column's size as 255 characters, which the reader
  // refuses to cut.)
  AQ_ASSERT_OK(RegisterOdbcSource(
      *session_, {"back",
                  "SELECT id, t, i16, i32, i64, f, d, n, b, day, tm, ts, tz, blob, u, j::text AS j "
                  "FROM arr_many",
                  Conn()}));
  EXPECT_EQ(Duck("SELECT count(*) FROM back"), "20003");
  const std::string same =
      "SELECT id, t, i16, i32, i64, f, d, n, b, day, tm, ts, tz, blob, u, "
      "json_extract_string(j, '$.k') FROM ";
  EXPECT_EQ(Duck("SELECT count(*) FROM (" + same + "back EXCEPT " + same + "src)"), "0");
  EXPECT_EQ(Duck("SELECT count(*) FROM (" + same + "src EXCEPT " + same + "back)"), "0");
}

}  // namespace
}  // namespace aqueducts::odbc::testing

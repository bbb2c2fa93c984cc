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

}  // namespace
}  // namespace aqueducts::odbc::testing

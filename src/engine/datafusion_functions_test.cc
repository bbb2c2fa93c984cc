// DataFusion functions bridged onto DuckDB: each checked against the value DataFusion's
// documentation gives for its example (docs/sql-functions.md).
#include "engine/datafusion_functions.h"

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "engine/custom_functions.h"
#include "engine/session.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

class DataFusionFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto session = Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }
  // The first value of `expr`, as text ("<null>" for NULL).
  std::string Eval(const std::string& expr) {
    // As the runner does for a pipeline's stages: create what the query names.
    AQ_EXPECT_OK(RegisterDataFusionFunctions(session_->main(), {"SELECT " + expr}));
    auto rows = session_->main().Query("SELECT " + expr);
    EXPECT_TRUE(rows.ok()) << expr << ": " << rows.status().ToString();
    if (!rows.ok() || rows->rows.empty() || !rows->rows[0][0]) {
      return "<null>";
    }
    return *rows->rows[0][0];
  }
  std::string Type(const std::string& expr) { return Eval("typeof(" + expr + ")"); }

  std::unique_ptr<Session> session_;
};

TEST_F(DataFusionFunctionsTest, TimestampsFromIsoStringsAndEpochs) {
  const std::string iso = "'2023-01-31T09:26:56.123456789-05:00'";
  EXPECT_EQ(Eval("to_timestamp(" + iso + ")::VARCHAR"), "2023-01-31 14:26:56.123456789");
  EXPECT_EQ(Type("to_timestamp(" + iso + ")"), "TIMESTAMP_NS");
  EXPECT_EQ(Eval("to_timestamp_nanos(" + iso + ")::VARCHAR"), "2023-01-31 14:26:56.123456789");
  EXPECT_EQ(Eval("to_timestamp_micros(" + iso + ")::VARCHAR"), "2023-01-31 14:26:56.123456");
  EXPECT_EQ(Eval("to_timestamp_millis(" + iso + ")::VARCHAR"), "2023-01-31 14:26:56.123");
  EXPECT_EQ(Eval("to_timestamp_seconds(" + iso + ")::VARCHAR"), "2023-01-31 14:26:56");
  EXPECT_EQ(Type("to_timestamp_seconds(" + iso + ")"), "TIMESTAMP_S");
  EXPECT_EQ(Type("to_timestamp_millis(" + iso + ")"), "TIMESTAMP_MS");
  EXPECT_EQ(Eval("to_timestamp('2024-01-02T03:04:05')::VARCHAR"), "2024-01-02 03:04:05");
  EXPECT_EQ(Eval("to_timestamp('2024-01-02T03:04:05Z')::VARCHAR"), "2024-01-02 03:04:05");
  EXPECT_EQ(Eval("to_timestamp('03:59:00.123456789 05-17-2023', '%c', "
                 "'%H:%M:%S.%n %m-%d-%Y')::VARCHAR"),
            "2023-05-17 03:59:00.123456789");
  // Numbers are seconds (fractions kept) for to_timestamp, the named unit for the others.
  EXPECT_EQ(Eval("to_timestamp(1599572549)::VARCHAR"), "2020-09-08 13:42:29");
  EXPECT_EQ(Eval("to_timestamp(1.5)::VARCHAR"), "1970-01-01 00:00:01.5");
  EXPECT_EQ(Eval("to_timestamp(-1)::VARCHAR"), "1969-12-31 23:59:59");
  EXPECT_EQ(Eval("to_timestamp_millis(1599572549123)::VARCHAR"), "2020-09-08 13:42:29.123");
  EXPECT_EQ(Eval("to_timestamp_micros(1599572549123456)::VARCHAR"), "2020-09-08 13:42:29.123456");
  EXPECT_EQ(Eval("to_timestamp_nanos(1599572549123456789)::VARCHAR"),
            "2020-09-08 13:42:29.123456789");
  EXPECT_EQ(Eval("to_timestamp_seconds(1599572549)::VARCHAR"), "2020-09-08 13:42:29");
  EXPECT_EQ(Eval("to_timestamp(x)::VARCHAR FROM (VALUES (1700000000::BIGINT)) v(x)"),
            "2023-11-14 22:13:20");
  EXPECT_EQ(Eval("to_timestamp(NULL::VARCHAR)"), "<null>");
  EXPECT_EQ(Eval("1"), "1");  // (registers to_timestamp for the next statement)
  AQ_EXPECT_OK(RegisterDataFusionFunctions(session_->main(), {"to_timestamp('x')"}));
  EXPECT_FALSE(session_->main().Execute("SELECT to_timestamp('not a time')").ok());
  EXPECT_EQ(Eval("from_unixtime(1599572549)::VARCHAR"), "2020-09-08 13:42:29");
  EXPECT_EQ(Eval("to_unixtime('2020-09-08T12:00:00+00:00')"), "1599566400");
  EXPECT_EQ(Eval("to_unixtime('01-14-2023 01:01:30', '%m-%d-%Y %H:%M:%S')"), "1673658090");
  EXPECT_EQ(Eval("to_date('2023-01-31')::VARCHAR"), "2023-01-31");
  EXPECT_EQ(Eval("to_date('2023/01/31', '%Y-%m-%d', '%Y/%m/%d')::VARCHAR"), "2023-01-31");
  EXPECT_EQ(Eval("to_date(19388)::VARCHAR"), "2023-01-31");
  EXPECT_EQ(Type("to_date('2023-01-31')"), "DATE");
}

TEST_F(DataFusionFunctionsTest, DateBinAndToChar) {
  EXPECT_EQ(Eval("string_agg(date_bin(INTERVAL '1 day', time)::VARCHAR, ',' ORDER BY time) FROM "
                 "(VALUES ('2023-01-01T18:18:18Z'), ('2023-01-03T19:00:03Z')) t(time)"),
            "2023-01-01 00:00:00,2023-01-03 00:00:00");
  EXPECT_EQ(Eval("string_agg(date_bin(INTERVAL '1 day', time, '2023-01-01T03:00:00')::VARCHAR, "
                 "',' ORDER BY time) FROM (VALUES ('2023-01-01T18:18:18Z'), "
                 "('2023-01-03T19:00:03Z')) t(time)"),
            "2023-01-01 03:00:00,2023-01-03 03:00:00");
  EXPECT_EQ(Eval("date_bin(INTERVAL '15 minutes', TIMESTAMP '2023-01-01 10:17:00')::VARCHAR"),
            "2023-01-01 10:15:00");
  EXPECT_EQ(Eval("to_char('2023-03-01'::date, '%d-%m-%Y')"), "01-03-2023");
  EXPECT_EQ(Eval("date_format(TIMESTAMP '2023-03-01 10:00:00', '%Y-%m-%dT%H:%M:%S')"),
            "2023-03-01T10:00:00");
}

TEST_F(DataFusionFunctionsTest, ConditionalMathAndStrings) {
  EXPECT_EQ(Eval("nvl(NULL, 'a')"), "a");
  EXPECT_EQ(Eval("nvl('b', 'a')"), "b");
  EXPECT_EQ(Eval("nvl2(NULL, 'a', 'b')"), "b");
  EXPECT_EQ(Eval("nvl2('data', 'a', 'b')"), "a");
  EXPECT_EQ(Eval("iszero(0)"), "true");
  EXPECT_EQ(Eval("iszero(1.5)"), "false");
  EXPECT_EQ(Eval("nanvl('NaN'::DOUBLE, 2.0)"), "2.0");
  EXPECT_EQ(Eval("nanvl(1.0, 2.0)"), "1.0");
  EXPECT_EQ(Eval("signum(-2)"), "-1.0");
  EXPECT_EQ(Eval("btrim('__datafusion____', '_')"), "datafusion");
  EXPECT_EQ(Eval("btrim('  datafusion  ')"), "datafusion");
  EXPECT_EQ(Eval("find_in_set('b', 'a,b,c,d')"), "2");
  EXPECT_EQ(Eval("find_in_set('z', 'a,b,c,d')"), "0");
  EXPECT_EQ(Eval("initcap('apache datafusion')"), "Apache Datafusion");
  EXPECT_EQ(Eval("overlay('Txxxxas' placing 'hom' from 2 for 4)"), "Thomas");
  EXPECT_EQ(Eval("substr_index('www.apache.org', '.', 1)"), "www");
  EXPECT_EQ(Eval("substr_index('www.apache.org', '.', 2)"), "www.apache");
  EXPECT_EQ(Eval("substr_index('www.apache.org', '.', -1)"), "org");
  EXPECT_EQ(Eval("substring_index('www.apache.org', '.', -2)"), "apache.org");
  EXPECT_EQ(Eval("to_hex(12345689)"), "bc6159");
  EXPECT_EQ(Eval("length(uuid())"), "36");
  EXPECT_EQ(Eval("regexp_like('Köln', '[a-zA-Z]ö[a-zA-Z]{2}')"), "true");
  EXPECT_EQ(Eval("regexp_like('aBc', '(b|d)', 'i')"), "true");
  EXPECT_EQ(Eval("regexp_count('abcAbAbc', 'abc', 2, 'i')"), "1");
  EXPECT_EQ(Eval("regexp_instr('ABCDEF', 'C(.)(..)')"), "3");
  EXPECT_EQ(Eval("encode('abc', 'hex')"), "616263");
  EXPECT_EQ(Eval("encode('ab', 'base64')"), "YWI");
  EXPECT_EQ(Eval("decode('YWI', 'base64')::VARCHAR"), "ab");
  EXPECT_EQ(Eval("decode('616263', 'hex')::VARCHAR"), "abc");
  EXPECT_EQ(Eval("decode(encode('x'))"), "x");  // DuckDB's one-argument forms still work
  EXPECT_EQ(Eval("lower(hex(digest('foo', 'sha256')))"),
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae");
}

TEST_F(DataFusionFunctionsTest, Arrays) {
  EXPECT_EQ(Eval("make_array(1, 2, 3, 4, 5)::VARCHAR"), "[1, 2, 3, 4, 5]");
  EXPECT_EQ(Eval("make_list(1, 2)::VARCHAR"), "[1, 2]");
  EXPECT_EQ(Eval("array_element([1, 2, 3, 4], 3)"), "3");
  EXPECT_EQ(Eval("array_empty([1])"), "false");
  EXPECT_EQ(Eval("empty([])"), "true");
  EXPECT_EQ(Eval("array_except([1, 2, 3, 4], [5, 6, 3, 4])::VARCHAR"), "[1, 2]");
  EXPECT_EQ(Eval("array_except([1, 2, 3, 4], [3, 4, 5, 6])::VARCHAR"), "[1, 2]");
  EXPECT_EQ(Eval("array_union([1, 2, 3, 4], [5, 6, 3, 4])::VARCHAR"), "[1, 2, 3, 4, 5, 6]");
  EXPECT_EQ(Eval("array_union([1, 2, 3, 4], [5, 6, 7, 8])::VARCHAR"), "[1, 2, 3, 4, 5, 6, 7, 8]");
  EXPECT_EQ(Eval("array_positions([1, 2, 2, 3, 1, 4], 2)::VARCHAR"), "[2, 3]");
  EXPECT_EQ(Eval("array_ndims([[1, 2, 3], [4, 5, 6]])"), "2");
  EXPECT_EQ(Eval("array_remove([1, 2, 2, 3, 2, 1, 4], 2)::VARCHAR"), "[1, 2, 3, 2, 1, 4]");
  EXPECT_EQ(Eval("array_remove_all([1, 2, 2, 3, 2, 1, 4], 2)::VARCHAR"), "[1, 3, 1, 4]");
  EXPECT_EQ(Eval("array_remove_n([1, 2, 2, 3, 2, 1, 4], 2, 2)::VARCHAR"), "[1, 3, 2, 1, 4]");
  EXPECT_EQ(Eval("array_repeat(1, 3)::VARCHAR"), "[1, 1, 1]");
  EXPECT_EQ(Eval("array_repeat([1, 2], 2)::VARCHAR"), "[[1, 2], [1, 2]]");
  EXPECT_EQ(Eval("array_replace([1, 2, 2, 3, 2, 1, 4], 2, 5)::VARCHAR"), "[1, 5, 2, 3, 2, 1, 4]");
  EXPECT_EQ(Eval("array_replace_all([1, 2, 2, 3, 2, 1, 4], 2, 5)::VARCHAR"),
            "[1, 5, 5, 3, 5, 1, 4]");
  EXPECT_EQ(Eval("array_replace_n([1, 2, 2, 3, 2, 1, 4], 2, 5, 2)::VARCHAR"),
            "[1, 5, 5, 3, 2, 1, 4]");
  EXPECT_EQ(Eval("array_resize([1, 2, 3], 5, 0)::VARCHAR"), "[1, 2, 3, 0, 0]");
  EXPECT_EQ(Eval("arrays_overlap([1, 2], [2, 3])"), "true");
  EXPECT_EQ(Eval("array_any_value([NULL, 1, 2, 3])"), "1");
  EXPECT_EQ(Eval("array_join([1, 2, 3], ',')"), "1,2,3");
  EXPECT_EQ(Eval("string_to_array('abc##def', '##')::VARCHAR"), "[abc, def]");
  EXPECT_EQ(Eval("string_to_array('abc def', ' ', 'def')::VARCHAR"), "[abc, NULL]");
  EXPECT_EQ(Eval("list_push_front(1, [2, 3])::VARCHAR"), "[1, 2, 3]");
  EXPECT_EQ(Eval("get_field({'a': 1, 'b': 'x'}, 'b')"), "x");
  EXPECT_EQ(Eval("struct(1, 'a')::VARCHAR"), "{'c0': 1, 'c1': a}");
  EXPECT_EQ(Eval("make_map('POST', 41, 'HEAD', 33, 'PATCH', NULL)::VARCHAR"),
            "{POST=41, HEAD=33, PATCH=NULL}");
}

TEST_F(DataFusionFunctionsTest, Aggregates) {
  const std::string from = " FROM range(1, 6) t(x)";
  EXPECT_EQ(Eval("var(x)" + from), "2.5");
  EXPECT_EQ(Eval("var_sample(x)" + from), "2.5");
  EXPECT_EQ(Eval("var_population(x)" + from), "2.0");
  EXPECT_EQ(Eval("covar(x, x)" + from), "2.5");
  EXPECT_EQ(Eval("approx_distinct(x)" + from), "5");
  EXPECT_EQ(Eval("approx_median(x)" + from), "3");
  EXPECT_EQ(Eval("approx_percentile_cont(x, 0.75)" + from), "4");
}

TEST_F(DataFusionFunctionsTest, ArrowCastAndTypeof) {
  EXPECT_EQ(Eval("arrow_cast(-5, 'Int8')"), "-5");
  EXPECT_EQ(Type("arrow_cast(-5, 'Int8')"), "TINYINT");
  EXPECT_EQ(Type("arrow_cast('12', 'Int64')"), "BIGINT");
  EXPECT_EQ(Eval("arrow_cast('12', 'Int64') + 1"), "13");
  EXPECT_EQ(Type("arrow_cast(1, 'UInt32')"), "UINTEGER");
  EXPECT_EQ(Type("arrow_cast('foo', 'Dictionary(Int32, Utf8)')"), "VARCHAR");
  EXPECT_EQ(Type("arrow_cast('bar', 'LargeUtf8')"), "VARCHAR");
  EXPECT_EQ(Eval("arrow_cast('2023-01-02T12:53:02', 'Timestamp(Millisecond, None)')::VARCHAR"),
            "2023-01-02 12:53:02");
  EXPECT_EQ(Type("arrow_cast('2023-01-02T12:53:02', 'Timestamp(Nanosecond, None)')"),
            "TIMESTAMP_NS");
  EXPECT_EQ(Type("arrow_cast(1.5, 'Decimal128(10, 2)')"), "DECIMAL(10,2)");
  EXPECT_EQ(Type("arrow_cast(1.5, 'Float32')"), "FLOAT");
  EXPECT_EQ(Type("arrow_cast('2023-01-02', 'Date32')"), "DATE");
  EXPECT_EQ(Type("arrow_cast([1, 2], 'List(Int64)')"), "BIGINT[]");
  EXPECT_EQ(Eval("arrow_cast(NULL, 'Int64')"), "<null>");
  Status bad = session_->main().Execute("SELECT arrow_cast(1, 'Int65')");  // registered above
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("unknown Arrow type 'Int65'"), std::string::npos) << bad.message();
  EXPECT_EQ(Eval("arrow_typeof('foo')"), "Utf8");
  EXPECT_EQ(Eval("arrow_typeof(1::BIGINT)"), "Int64");
  EXPECT_EQ(Eval("arrow_typeof(arrow_cast(1, 'Decimal128(10, 2)'))"), "Decimal128(10, 2)");
  EXPECT_EQ(Eval("arrow_typeof(to_timestamp('2020-01-01'))"), "Timestamp(Nanosecond, None)");
}

// Values from DataFusion's function reference (sha*, regexp_match, named_struct, array_dims,
// cardinality), plus the edge cases DataFusion defines.
TEST_F(DataFusionFunctionsTest, NativeFunctionsMatchDataFusion) {
  EXPECT_EQ(Eval("lower(hex(sha224('foo')))"),
            "0808f64e60d58979fcb676c96ec938270dea42445aeefcd3a4e6f8db");
  EXPECT_EQ(Eval("lower(hex(sha384('foo')))"),
            "98c11ffdfdd540676b1a137cb1a22b2a70350c9a44171d6b1180c6be5cbb2ee3f79d532c8a1dd9ef2e8e"
            "08e752a3babb");
  EXPECT_EQ(Eval("lower(hex(sha512('foo')))"),
            "f7fbba6e0636f890e56fbbf3283e524c6fa3204ae298382d624741d0dc6638326e282c41be5e4254d882"
            "0772c5518a2c5a8c0c7f7eda19594a7eb539453e1ed7");
  EXPECT_EQ(Type("sha512('foo')"), "BLOB");
  EXPECT_EQ(Eval("sha512(NULL::VARCHAR)"), "<null>");
  EXPECT_EQ(Eval("digest('foo', 'sha512') = sha512('foo')"), "true");
  EXPECT_EQ(Eval("digest('foo', 'SHA224') = sha224('foo'::BLOB)"), "true");

  EXPECT_EQ(Eval("regexp_match('Köln', '[a-zA-Z]ö[a-zA-Z]{2}')::VARCHAR"), "[Köln]");
  EXPECT_EQ(Eval("regexp_match('aBc', '(b|d)', 'i')::VARCHAR"), "[B]");
  EXPECT_EQ(Eval("regexp_match('foobarbequebaz', '(bar)(beque)')::VARCHAR"), "[bar, beque]");
  EXPECT_EQ(Eval("regexp_match('abc', 'x')"), "<null>");
  EXPECT_EQ(Eval("regexp_match('ab', '(a)|(z)')::VARCHAR"), "[a, NULL]");
  EXPECT_EQ(Type("regexp_match('a', 'a')"), "VARCHAR[]");
  Status global = session_->main().Execute("SELECT regexp_match('a', 'a', 'g')");
  EXPECT_NE(global.message().find("does not support the global flag"), std::string::npos)
      << global.ToString();
  Status invalid = session_->main().Execute("SELECT regexp_match('a', '(')");
  EXPECT_NE(invalid.message().find("regexp_match: invalid regular expression '('"),
            std::string::npos)
      << invalid.ToString();

  EXPECT_EQ(Eval("named_struct('field_a', 1, 'field_b', 'x')::VARCHAR"),
            "{'field_a': 1, 'field_b': x}");
  EXPECT_EQ(Type("named_struct('field_a', 1, 'field_b', 'x')"),
            "STRUCT(field_a INTEGER, field_b VARCHAR)");
  EXPECT_EQ(Eval("named_struct('a', NULL::INTEGER).a IS NULL"), "true");
  auto rows = session_->main().Query(
      "SELECT named_struct('id', i, 'half', i / 2)::VARCHAR FROM range(3) t(i) ORDER BY i");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows->rows[2][0], "{'id': 2, 'half': 1.0}");
  Status odd = session_->main().Execute("SELECT named_struct('a')");
  EXPECT_NE(odd.message().find("named_struct takes name/value pairs"), std::string::npos)
      << odd.ToString();
  Status twice = session_->main().Execute("SELECT named_struct('a', 1, 'a', 2)");
  EXPECT_NE(twice.message().find("'a' is given twice"), std::string::npos) << twice.ToString();

  EXPECT_EQ(Eval("array_dims([[1, 2, 3], [4, 5, 6]])::VARCHAR"), "[2, 3]");
  EXPECT_EQ(Eval("array_dims([1, 2, 3])::VARCHAR"), "[3]");
  EXPECT_EQ(Eval("array_dims(NULL::INTEGER[])"), "<null>");

  EXPECT_EQ(Eval("cardinality([[1, 2, 3, 4], [5, 6, 7, 8]])"), "8");
  EXPECT_EQ(Eval("cardinality([1, NULL, 3])"), "3");
  EXPECT_EQ(Eval("cardinality(MAP {'a': 1, 'b': 2})"), "2");
  EXPECT_EQ(Eval("cardinality(NULL::INTEGER[])"), "<null>");
  Status scalar = session_->main().Execute("SELECT cardinality(1)");
  EXPECT_NE(scalar.message().find("cardinality takes an array or a map"), std::string::npos)
      << scalar.ToString();
}

// array_dims and cardinality over many rows of every shape (NULL lists, empty lists, NULL inner
// lists, NULL elements, fixed-size ARRAYs, maps, a dictionary-encoded column), against the same
// figures written with DuckDB's own list functions as the oracle. Every row must agree.
TEST_F(DataFusionFunctionsTest, ArrayDimsAndCardinalityAgreeWithDuckDbOverManyRows) {
  const std::string table =
      "CREATE TABLE nested AS SELECT i, "
      "CASE WHEN i % 11 = 0 THEN NULL ELSE list_transform(range(i % 5), j -> "
      "CASE WHEN (i + j) % 7 = 0 THEN NULL ELSE list_transform(range((i * j) % 4), k -> "
      "CASE WHEN (i + k) % 5 = 0 THEN NULL ELSE k END) END) END AS l2, "
      "(CASE WHEN i % 13 = 0 THEN NULL ELSE [i, NULL, i + 1] END)::BIGINT[3] AS a3, "
      "CASE WHEN i % 17 = 0 THEN NULL ELSE map_from_entries(list_transform(range(i % 4), "
      "k -> {'k': k, 'v': i})) END AS m, "
      "['x', 'y', 'z'][(i % 3) + 1] AS s FROM range(5000) t(i)";
  AQ_ASSERT_OK(session_->main().Execute(table));
  AQ_ASSERT_OK(
      RegisterDataFusionFunctions(session_->main(), {"SELECT array_dims(l2), cardinality(l2)"}));
  const std::string check =
      "SELECT count(*) FILTER (WHERE "
      // array_dims: [len(l2)], then len(l2[1]) when l2 has a first element that is not NULL.
      "array_dims(l2) IS DISTINCT FROM CASE WHEN l2 IS NULL THEN NULL WHEN len(l2) = 0 OR "
      "l2[1] IS NULL THEN [len(l2)]::UBIGINT[] ELSE [len(l2), len(l2[1])]::UBIGINT[] END "
      // cardinality: the elements of the non-NULL inner lists, NULL elements included.
      "OR cardinality(l2) IS DISTINCT FROM CASE WHEN l2 IS NULL THEN NULL ELSE "
      "coalesce(list_sum(list_transform(list_filter(l2, x -> x IS NOT NULL), x -> len(x))), "
      "0)::UBIGINT END "
      "OR array_dims(a3) IS DISTINCT FROM CASE WHEN a3 IS NULL THEN NULL ELSE [3]::UBIGINT[] END "
      "OR cardinality(a3) IS DISTINCT FROM CASE WHEN a3 IS NULL THEN NULL ELSE 3::UBIGINT END "
      "OR cardinality(m) IS DISTINCT FROM CASE WHEN m IS NULL THEN NULL ELSE "
      "cardinality_map_oracle END "
      "OR cardinality([s, s]) <> 2), count(*) FROM (SELECT *, len(map_keys(m))::UBIGINT AS "
      "cardinality_map_oracle FROM nested)";
  auto rows = session_->main().Query(check);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows->rows[0][0], "0") << "rows where a function and its oracle differ";
  EXPECT_EQ(*rows->rows[0][1], "5000");
  // The shapes the oracle covers are all there.
  auto shapes = session_->main().Query(
      "SELECT count(*) FILTER (WHERE l2 IS NULL), count(*) FILTER (WHERE len(l2) = 0), "
      "count(*) FILTER (WHERE list_contains(list_transform(l2, x -> x IS NULL), true)), "
      "count(*) FILTER (WHERE cardinality(l2) > 3) FROM nested");
  ASSERT_TRUE(shapes.ok()) << shapes.status().ToString();
  for (const auto& value : shapes->rows[0]) {
    EXPECT_NE(*value, "0");
  }
}

TEST_F(DataFusionFunctionsTest, CreatedOnlyWhenNamedAndThenOnEveryConnection) {
  // A fresh session has none of them (creating all costs time on every database).
  EXPECT_FALSE(session_->main().Execute("SELECT nvl(NULL, 1)").ok());
  EXPECT_EQ(DataFusionFunctionsSqlFor({"SELECT 1 AS nvl_like, x_nvl FROM t"}), "");
  // Names pull in what they use: array_remove is written with array_remove_n.
  std::string sql = DataFusionFunctionsSqlFor({"SELECT ARRAY_REMOVE(a, 1) FROM t"});
  EXPECT_NE(sql.find("MACRO array_remove("), std::string::npos) << sql;
  EXPECT_NE(sql.find("MACRO array_remove_n("), std::string::npos) << sql;
  EXPECT_EQ(sql.find("MACRO to_timestamp("), std::string::npos) << sql;
  AQ_ASSERT_OK(RegisterDataFusionFunctions(session_->main(),
                                           {"SELECT nvl(NULL, 1), arrow_cast(2, 'Int16')"}));
  AQ_ASSERT_OK_AND_ASSIGN(auto other, session_->Connect());
  AQ_ASSERT_OK_AND_ASSIGN(auto rows, other->Query("SELECT nvl(NULL, 1), arrow_cast(2, 'Int16')"));
  EXPECT_EQ(*rows.rows[0][0], "1");
  EXPECT_EQ(*rows.rows[0][1], "2");
}

}  // namespace
}  // namespace aqueducts::engine

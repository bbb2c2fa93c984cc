// The bulk paths' LogicalTypes agree with the one name mapping (type_names.h).

#include "engine/column_types.h"

#include <duckdb.hpp>
#include <gtest/gtest.h>

#include "engine/type_names.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

DataType Parse(const std::string& text) {
  auto parsed = ParseDataType(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : DataType{};
}

// Each flat pipeline type, the DuckDB type the bulk paths store it in, and the pipeline type a
// column of that DuckDB type reads back as.
TEST(ColumnTypesTest, FlatTypesMapAsTheirNamesSayAndReadBack) {
  struct Case {
    const char* pipeline;
    const char* logical;
    const char* read_back;
  };
  const Case cases[] = {
      {"boolean", "BOOLEAN", "boolean"},
      {"int8", "TINYINT", "int8"},
      {"int16", "SMALLINT", "int16"},
      {"int32", "INTEGER", "int32"},
      {"int64", "BIGINT", "int64"},
      {"uint8", "UTINYINT", "uint8"},
      {"uint16", "USMALLINT", "uint16"},
      {"uint32", "UINTEGER", "uint32"},
      {"uint64", "UBIGINT", "uint64"},
      {"float16", "FLOAT", "float32"},
      {"float32", "FLOAT", "float32"},
      {"float64", "DOUBLE", "float64"},
      {"utf8", "VARCHAR", "utf8"},
      {"large_utf8", "VARCHAR", "utf8"},
      {"binary", "BLOB", "binary"},
      {"date32", "DATE", "date32"},
      {"date64", "DATE", "date32"},
      {"time64<microsecond>", "TIME", "time64<microsecond>"},
      {"timestamp<microsecond>", "TIMESTAMP", "timestamp<microsecond>"},
      // The bulk layout holds every zone-less timestamp in microseconds.
      {"timestamp<millisecond>", "TIMESTAMP", "timestamp<microsecond>"},
      {"timestamp<nanosecond>", "TIMESTAMP", "timestamp<microsecond>"},
      {"timestamp<second,UTC>", "TIMESTAMP WITH TIME ZONE", "timestamp<microsecond,UTC>"},
      {"decimal<38,18>", "DECIMAL(38,18)", "decimal<38,18>"},
      {"decimal<1,0>", "DECIMAL(1,0)", "decimal<1,0>"},
  };
  for (const Case& c : cases) {
    duckdb::LogicalType logical;
    AQ_ASSERT_OK(ToLogicalType(Parse(c.pipeline), &logical));
    EXPECT_EQ(logical.ToString(), c.logical) << c.pipeline;
    EXPECT_EQ(ToString(FromLogicalType(logical)), ToString(Parse(c.read_back))) << c.pipeline;
  }
}

TEST(ColumnTypesTest, TypesWithoutAFlatFormAreRefusedByNameAndReadAsText) {
  for (const char* text :
       {"list<int32>", "struct<a:int32>", "interval<day_time>", "decimal<40,2>"}) {
    duckdb::LogicalType logical;
    Status st = ToLogicalType(Parse(text), &logical);
    EXPECT_EQ(st.code(), StatusCode::kUnsupported) << text << ": " << st.ToString();
  }
  const std::string text = ToString(Parse("utf8"));
  EXPECT_EQ(ToString(FromLogicalType(duckdb::LogicalType::LIST(duckdb::LogicalType::INTEGER))),
            text);
  EXPECT_EQ(ToString(FromLogicalType(duckdb::LogicalType::INTERVAL)), text);
  EXPECT_EQ(ToString(FromLogicalType(duckdb::LogicalType::HUGEINT)), "decimal<38,0>");
}

}  // namespace
}  // namespace aqueducts::engine

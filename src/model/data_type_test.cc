#include "aqueducts/data_type.h"

#include <gtest/gtest.h>

#include "testing.h"

namespace aqueducts {
namespace {

TEST(DataTypeTest, ParsesSimpleNamesAndAliases) {
  struct Case {
    const char* text;
    TypeId id;
  } cases[] = {
      {"bool", TypeId::kBoolean},     {"boolean", TypeId::kBoolean},      {"int32", TypeId::kInt32},
      {"int", TypeId::kInt32},        {"integer", TypeId::kInt32},        {"long", TypeId::kInt64},
      {"float", TypeId::kFloat32},    {"double", TypeId::kFloat64},       {"string", TypeId::kUtf8},
      {"utf8", TypeId::kUtf8},        {"large_utf8", TypeId::kLargeUtf8}, {"date", TypeId::kDate32},
      {"  date64 ", TypeId::kDate64}, {"uint64", TypeId::kUInt64}};
  for (const Case& c : cases) {
    AQ_ASSERT_OK_AND_ASSIGN(DataType type, ParseDataType(c.text));
    EXPECT_EQ(type.id, c.id) << c.text;
  }
}

TEST(DataTypeTest, SpecAcceptanceCases) {
  AQ_ASSERT_OK_AND_ASSIGN(DataType list, ParseDataType("list<int32>"));
  ASSERT_EQ(list.id, TypeId::kList);
  ASSERT_EQ(list.children.size(), 1u);
  EXPECT_EQ(list.children[0].name, "item");
  EXPECT_TRUE(list.children[0].nullable);
  EXPECT_EQ(list.children[0].data_type.id, TypeId::kInt32);

  AQ_ASSERT_OK_AND_ASSIGN(DataType st, ParseDataType("struct<name:string,age:int32>"));
  ASSERT_EQ(st.children.size(), 2u);
  EXPECT_EQ(st.children[0].name, "name");
  EXPECT_EQ(st.children[0].data_type.id, TypeId::kUtf8);
  EXPECT_EQ(st.children[1].data_type.id, TypeId::kInt32);

  AQ_ASSERT_OK_AND_ASSIGN(DataType dec, ParseDataType("decimal<10,2>"));
  EXPECT_EQ(dec.id, TypeId::kDecimal128);
  EXPECT_EQ(dec.precision, 10);
  EXPECT_EQ(dec.scale, 2);

  AQ_ASSERT_OK_AND_ASSIGN(DataType ts, ParseDataType("timestamp<millisecond>"));
  EXPECT_EQ(ts.id, TypeId::kTimestamp);
  EXPECT_EQ(ts.unit, TimeUnit::kMillisecond);
  EXPECT_FALSE(ts.timezone.has_value());

  AQ_ASSERT_OK_AND_ASSIGN(DataType tz, ParseDataType("timestamp<us, +01:00>"));
  EXPECT_EQ(tz.unit, TimeUnit::kMicrosecond);
  EXPECT_EQ(tz.timezone, "+01:00");

  AQ_ASSERT_OK_AND_ASSIGN(DataType map, ParseDataType("map<string,int32>"));
  ASSERT_EQ(map.children.size(), 2u);
  EXPECT_EQ(map.children[0].name, "key");
  EXPECT_FALSE(map.children[0].nullable);
  EXPECT_EQ(map.children[1].name, "value");
  EXPECT_TRUE(map.children[1].nullable);
}

TEST(DataTypeTest, RoundTripsEveryType) {
  const char* canonical[] = {"bool",
                             "int8",
                             "int16",
                             "int32",
                             "int64",
                             "uint8",
                             "uint16",
                             "uint32",
                             "uint64",
                             "float16",
                             "float32",
                             "float64",
                             "string",
                             "large_string",
                             "binary",
                             "large_binary",
                             "fixed_binary<16>",
                             "date32",
                             "date64",
                             "time32<second>",
                             "time32<millisecond>",
                             "time64<microsecond>",
                             "time64<nanosecond>",
                             "timestamp<nanosecond>",
                             "timestamp<second,UTC>",
                             "duration<millisecond>",
                             "interval<year_month>",
                             "interval<day_time>",
                             "interval<month_day_nano>",
                             "decimal<38,10>",
                             "decimal256<76,-3>",
                             "list<string>",
                             "large_list<list<int64>>",
                             "fixed_list<float32,3>",
                             "struct<a:int32,b:list<struct<c:string,d:map<string,float64>>>>",
                             "struct<>",
                             "map<string,list<int32>>",
                             "union<sparse,a:int32,b:string>",
                             "union<dense,x:bool>",
                             "dictionary<int32,string>"};
  for (const char* text : canonical) {
    AQ_ASSERT_OK_AND_ASSIGN(DataType type, ParseDataType(text));
    EXPECT_EQ(ToString(type), text);
    AQ_ASSERT_OK_AND_ASSIGN(DataType again, ParseDataType(ToString(type)));
    EXPECT_EQ(again, type) << text;
  }
}

TEST(DataTypeTest, PrintsCanonicalSpellings) {
  AQ_ASSERT_OK_AND_ASSIGN(DataType t, ParseDataType("timestamp<ms,UTC>"));
  EXPECT_EQ(ToString(t), "timestamp<millisecond,UTC>");
  AQ_ASSERT_OK_AND_ASSIGN(t, ParseDataType("list< integer >"));
  EXPECT_EQ(ToString(t), "list<int32>");
  AQ_ASSERT_OK_AND_ASSIGN(t, ParseDataType("struct<a : utf8, b:double>"));
  EXPECT_EQ(ToString(t), "struct<a:string,b:float64>");
}

TEST(DataTypeTest, ErrorMessages) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"varchar", "Unknown data type: varchar"},
      {"timestamp", "Unknown data type: timestamp"},
      {"short", "Unknown data type: short"},
      {"decimal(10,2)", "Unknown data type: decimal(10,2)"},
      {"array<int32>", "Unknown parameterized type: array"},
      {"list<int32,int64>", "list type requires exactly 1 parameter, got 2"},
      {"decimal<10>", "decimal type requires exactly 2 parameters, got 1"},
      {"duration<hour>", "Unknown time unit: hour"},
      {"fixed_binary<x>", "Invalid size: x"},
      {"decimal<300,2>", "Invalid precision: 300"},
      {"struct<a>", "Invalid struct field definition: a. Expected format: name:type"},
      {"list<foo>", "Unknown data type: foo"},
  };
  for (const Case& c : cases) {
    Result<DataType> r = ParseDataType(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message) << c.text;
  }
  EXPECT_FALSE(ParseDataType("time32<us>").ok());
  EXPECT_FALSE(ParseDataType("time64<s>").ok());
  EXPECT_FALSE(ParseDataType("list<int32").ok());
  EXPECT_FALSE(ParseDataType("Int32").ok());  // case-sensitive
}

TEST(DataTypeTest, EqualityLooksAtParameters) {
  EXPECT_EQ(MakeType(TypeId::kInt32), *ParseDataType("int"));
  EXPECT_NE(*ParseDataType("decimal<10,2>"), *ParseDataType("decimal<10,3>"));
  EXPECT_NE(*ParseDataType("timestamp<ms>"), *ParseDataType("timestamp<ms,UTC>"));
  EXPECT_NE(*ParseDataType("list<int32>"), *ParseDataType("list<int64>"));
  Field a{"a", MakeType(TypeId::kInt32), true, std::nullopt};
  Field b = a;
  EXPECT_EQ(a, b);
  b.nullable = false;
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace aqueducts

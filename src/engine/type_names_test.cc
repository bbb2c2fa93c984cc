// The one mapping of pipeline data types to DuckDB's: every name it gives is a type DuckDB
// accepts and reports back under that name, and DESCRIBE's names map back to the same pipeline
// type.

#include "engine/type_names.h"

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "engine/session.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

DataType Parse(const std::string& text) {
  auto type = ParseDataType(text);
  EXPECT_TRUE(type.ok()) << text << ": " << type.status().ToString();
  return type.ok() ? *type : DataType{};
}

class TypeNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto session = Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }
  // The type DuckDB gives a column declared with `name`.
  std::string DuckDbSays(const std::string& name) {
    auto rows = session_->main().Query("SELECT CAST(NULL AS " + name + ") AS c");
    EXPECT_TRUE(rows.ok()) << name << ": " << rows.status().ToString();
    return rows.ok() && !rows->types.empty() ? rows->types[0] : "<error>";
  }
  std::unique_ptr<Session> session_;
};

TEST_F(TypeNamesTest, FlatTypesAgreeWithDuckDb) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"boolean", "BOOLEAN"},
      {"int8", "TINYINT"},
      {"int16", "SMALLINT"},
      {"int32", "INTEGER"},
      {"int64", "BIGINT"},
      {"uint8", "UTINYINT"},
      {"uint16", "USMALLINT"},
      {"uint32", "UINTEGER"},
      {"uint64", "UBIGINT"},
      {"float32", "FLOAT"},
      {"float64", "DOUBLE"},
      {"utf8", "VARCHAR"},
      {"binary", "BLOB"},
      {"date32", "DATE"},
      {"time64<us>", "TIME"},
      {"decimal<38,18>", "DECIMAL(38,18)"},
      {"decimal<5,0>", "DECIMAL(5,0)"},
      {"timestamp<us>", "TIMESTAMP"},
      {"timestamp<us,UTC>", "TIMESTAMP WITH TIME ZONE"},
  };
  for (const auto& [text, described] : cases) {
    DataType type = Parse(text);
    AQ_ASSERT_OK_AND_ASSIGN(std::string name, DuckDbTypeName(type));
    EXPECT_EQ(DuckDbSays(name), described) << text;
    if (type.id != TypeId::kTime64 && !(type.id >= TypeId::kUInt8 && type.id <= TypeId::kUInt64)) {
      AQ_ASSERT_OK_AND_ASSIGN(DataType back, DataTypeOfDuckDbName(described));
      EXPECT_EQ(ToString(back), ToString(type)) << described;
    }
  }
}

TEST_F(TypeNamesTest, NestedAndUnitTypesAreAcceptedByDuckDb) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"list<int32>", "INTEGER[]"},
      {"timestamp<ms>", "TIMESTAMP_MS"},
      {"timestamp<s>", "TIMESTAMP_S"},
      {"timestamp<ns>", "TIMESTAMP_NS"},
      {"map<utf8,int64>", "MAP(VARCHAR, BIGINT)"},
  };
  for (const auto& [text, described] : cases) {
    AQ_ASSERT_OK_AND_ASSIGN(std::string name, DuckDbTypeName(Parse(text)));
    EXPECT_EQ(DuckDbSays(name), described) << text;
  }
  AQ_ASSERT_OK_AND_ASSIGN(DataType list, DataTypeOfDuckDbName("DECIMAL(10,2)[]"));
  EXPECT_EQ(ToString(list), ToString(Parse("list<decimal<10,2>>")));
}

TEST(TypeNamesErrorsTest, UnsupportedTypesAreNamed) {
  auto wide = DuckDbTypeName(Parse("decimal<40,2>"));
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.status().message().find("at most 38 digits"), std::string::npos);
  auto unknown = DataTypeOfDuckDbName("INTERVAL");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(unknown.status().message().find("INTERVAL"), std::string::npos);
}

}  // namespace
}  // namespace aqueducts::engine

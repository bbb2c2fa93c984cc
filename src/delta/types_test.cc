// Every type we write reads back the same, as data columns and as partition columns.
#include <gtest/gtest.h>

#include "delta/delta.h"
#include "delta/log.h"
#include "delta/test_util.h"

namespace aqueducts::delta {
namespace {

using testing::LocalLocation;
using testing::OpenTestSession;
using testing::SortedRows;
using testing::TempDir;

Field F(const std::string& name, const std::string& type) {
  auto t = ParseDataType(type);
  EXPECT_TRUE(t.ok()) << type << ": " << t.status().ToString();
  return Field{name, t.ok() ? *t : DataType{}, true, {}};
}

constexpr const char* kRows =
    "SELECT * FROM (VALUES "
    "(true, 1::TINYINT, 2::SMALLINT, 3, 4::BIGINT, 1.5::FLOAT, 2.25::DOUBLE, "
    "12.345::DECIMAL(10,3), "
    " DATE '2024-02-29', TIMESTAMPTZ '2024-01-01 12:34:56.789012+00', TIMESTAMP '2024-01-01 "
    "01:02:03', "
    " 'a/b=c %20', '\\x00\\xFF'::BLOB, {'x': 1, 'y': 'z'}, [1, 2, NULL], MAP {'k': 1}),"
    "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL)"
    ") t(b, i8, i16, i32, i64, f32, f64, dec, d, ts, ntz, s, bin, st, l, m)";

std::vector<Field> Schema() {
  return {F("b", "bool"),
          F("i8", "int8"),
          F("i16", "int16"),
          F("i32", "int32"),
          F("i64", "int64"),
          F("f32", "float32"),
          F("f64", "float64"),
          F("dec", "decimal<10,3>"),
          F("d", "date32"),
          F("ts", "timestamp<microsecond,UTC>"),
          F("ntz", "timestamp<microsecond>"),
          F("s", "utf8"),
          F("bin", "binary"),
          F("st", "struct<x:int32,y:utf8>"),
          F("l", "list<int32>"),
          F("m", "map<utf8,int32>")};
}

void RoundTrip(const std::vector<std::string>& partitions) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination d;
  d.name = "types";
  d.location = LocalLocation(dir.str());
  d.schema = Schema();
  d.partition_columns = partitions;
  AQ_ASSERT_OK(WriteDeltaDestination(*s, d, kRows, nullptr).status());
  AQ_ASSERT_OK(s->main().Execute(std::string("CREATE TABLE expected AS ") + kRows));
  DeltaSource src{"t", LocalLocation(dir.str()), {}, {}, {}};
  AQ_ASSERT_OK(RegisterDeltaSource(*s, src));
  std::string cols = "b, i8, i16, i32, i64, f32, f64, dec, d, ts, ntz, s, bin, st, l, m";
  EXPECT_EQ(SortedRows(s->main(), "SELECT " + cols + " FROM t"),
            SortedRows(s->main(), "SELECT " + cols + " FROM expected"));
  auto desc = SortedRows(s->main(),
                         "SELECT column_name || ' ' || column_type FROM (DESCRIBE t) WHERE "
                         "column_name IN ('ts', 'ntz', 'dec')");
  EXPECT_EQ(desc, (std::vector<std::string>{"dec DECIMAL(10,3)", "ntz TIMESTAMP",
                                            "ts TIMESTAMP WITH TIME ZONE"}));
}

TEST(DeltaTypesTest, AllTypesRoundTripAsDataColumns) {
  RoundTrip({});
}

TEST(DeltaTypesTest, PrimitiveTypesRoundTripAsPartitionColumns) {
  RoundTrip({"b", "i8", "i32", "f64", "dec", "d", "ts", "ntz", "s"});
}

}  // namespace
}  // namespace aqueducts::delta

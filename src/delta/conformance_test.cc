// Writer conformance checked on the written log itself (JSON commits read here, not through
// our snapshot code): exact decimal stats, table properties that would switch on protocol
// features, failed creates leaving nothing, case-duplicate columns, tombstone retention.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "delta/commit.h"
#include "delta/delta.h"
#include "delta/test_util.h"

namespace aqueducts::delta {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::LocalLocation;
using testing::OpenTestSession;
using testing::QueryOne;
using testing::SortedRows;
using testing::TempDir;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The actions of one commit, parsed here.
std::vector<json> Actions(const std::string& root, int version) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020d.json", version);
  std::vector<json> out;
  std::ifstream in(root + "/_delta_log/" + name);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(json::parse(line));
  }
  return out;
}

// The raw `stats` strings of a commit's adds.
std::vector<std::string> RawStats(const std::string& root, int version) {
  std::vector<std::string> out;
  for (const json& a : Actions(root, version)) {
    if (a.contains("add")) {
      out.push_back(a["add"]["stats"].get<std::string>());
    }
  }
  return out;
}

// `"col":<number>` inside the `group` object of a raw stats string ("" when absent).
std::string RawBound(const std::string& stats, const std::string& group, const std::string& col) {
  std::smatch m;
  std::regex group_re("\"" + group + "\":\\{([^}]*)\\}");
  if (!std::regex_search(stats, m, group_re)) {
    return "";
  }
  std::string body = m[1];
  std::regex col_re("\"" + col + "\":([^,}]*)");
  if (!std::regex_search(body, m, col_re)) {
    return "";
  }
  return m[1];
}

Field F(const std::string& name, const std::string& type) {
  auto t = ParseDataType(type);
  EXPECT_TRUE(t.ok()) << type;
  return Field{name, t.ok() ? *t : DataType{}, true, {}};
}

DeltaDestination Dest(const std::string& root, std::vector<Field> schema) {
  DeltaDestination d;
  d.name = "out";
  d.location = LocalLocation(root);
  d.schema = std::move(schema);
  return d;
}

TEST(DeltaConformanceTest, DecimalStatsAreExactAtPrecision9And18And38) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str(), {F("id", "int64"), F("d9", "decimal<9,4>"), F("d18", "decimal<18,2>"),
                               F("d18s", "decimal<18,18>"), F("d38", "decimal<38,18>"),
                               F("d38b", "decimal<38,6>"), F("d38z", "decimal<38,0>")});
  std::string rows =
      "SELECT * FROM (VALUES "
      "(1, 99999.9999, 9999999999999999.99, 0.999999999999999999, "
      "  1.123456789012345678, 12345678901234567890123456789012.123456, "
      "  99999999999999999999999999999999999999), "
      "(2, -99999.9999, -9999999999999999.99, -0.123456789012345678, "
      "  -99999999999999999999.999999999999999999, -0.000001, "
      "  -99999999999999999999999999999999999999), "
      "(3, 0.0001, 0.01, 0.000000000000000001, 19999999999999999999.999999999999999999, "
      "  1.5, 1)) "
      "AS t(id, d9, d18, d18s, d38, d38b, d38z)";
  std::string typed =
      "SELECT id::BIGINT AS id, d9::DECIMAL(9,4) AS d9, d18::DECIMAL(18,2) AS d18, "
      "d18s::DECIMAL(18,18) AS d18s, d38::DECIMAL(38,18) AS d38, d38b::DECIMAL(38,6) AS d38b, "
      "d38z::DECIMAL(38,0) AS d38z FROM (" +
      rows + ")";
  AQ_ASSERT_OK(WriteDeltaDestination(*s, dest, typed, nullptr).status());
  auto stats = RawStats(dir.str(), 1);
  ASSERT_EQ(stats.size(), 1u);
  for (const char* col : {"d9", "d18", "d18s", "d38", "d38b", "d38z"}) {
    // DuckDB's exact decimal text is the oracle.
    std::string mn = QueryOne(
        s->main(), "SELECT CAST(min(" + std::string(col) + ") AS VARCHAR) FROM (" + typed + ")");
    std::string mx = QueryOne(
        s->main(), "SELECT CAST(max(" + std::string(col) + ") AS VARCHAR) FROM (" + typed + ")");
    // JSON needs the leading zero DuckDB leaves out below one.
    for (std::string* v : {&mn, &mx}) {
      if (v->rfind(".", 0) == 0 || v->rfind("-.", 0) == 0) {
        v->insert((*v)[0] == '-' ? 1 : 0, "0");
      }
    }
    EXPECT_EQ(RawBound(stats[0], "minValues", col), mn) << col << " in " << stats[0];
    EXPECT_EQ(RawBound(stats[0], "maxValues", col), mx) << col << " in " << stats[0];
  }
  EXPECT_EQ(RawBound(stats[0], "minValues", "d38"), "-99999999999999999999.999999999999999999");
  EXPECT_EQ(RawBound(stats[0], "maxValues", "d18"), "9999999999999999.99");
  EXPECT_EQ(RawBound(stats[0], "minValues", "d18s"), "-0.123456789012345678");
  EXPECT_EQ(RawBound(stats[0], "maxValues", "d18s"), "0.999999999999999999");
  // Our own pruning reads the exact bound: an upsert keyed on a decimal(38,18) value that a
  // double would round updates the row instead of adding a second one.
  dest.write_mode.operation = DeltaWriteMode::Operation::kUpsert;
  dest.write_mode.upsert_keys = {"d38"};
  AQ_ASSERT_OK(WriteDeltaDestination(*s, dest,
                                     "SELECT 9::BIGINT AS id, d9, d18, d18s, d38, d38b, d38z FROM "
                                     "(" +
                                         typed + ") WHERE id = 1",
                                     nullptr)
                   .status());
  DeltaSource src{"t", LocalLocation(dir.str()), {}, {}, {}};
  AQ_ASSERT_OK(RegisterDeltaSource(*s, src));
  EXPECT_EQ(SortedRows(s->main(), "SELECT id, d38 FROM t"),
            (std::vector<std::string>{"2|-99999999999999999999.999999999999999999",
                                      "3|19999999999999999999.999999999999999999",
                                      "9|1.123456789012345678"}));
}

TEST(DeltaConformanceTest, NonFiniteFloatBoundsAreLeftOut) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str(), {F("x", "float64"), F("y", "float64")});
  AQ_ASSERT_OK(WriteDeltaDestination(*s, dest,
                                     "SELECT * FROM (VALUES ('inf'::DOUBLE, 0.1::DOUBLE), "
                                     "(1.5::DOUBLE, 1e300::DOUBLE)) t(x, y)",
                                     nullptr)
                   .status());
  auto stats = RawStats(dir.str(), 1);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(RawBound(stats[0], "minValues", "x"), "1.5") << stats[0];
  EXPECT_EQ(RawBound(stats[0], "maxValues", "x"), "") << stats[0];  // inf: no JSON form
  EXPECT_EQ(RawBound(stats[0], "minValues", "y"), "0.1") << stats[0];
  EXPECT_EQ(json::parse(stats[0])["maxValues"]["y"].get<double>(), 1e300);
}

// Every refused create: an error naming the problem, and no table directory or log.
void ExpectRefusedCreate(const DeltaDestination& dest, const std::string& message) {
  auto s = OpenTestSession();
  std::string root = dest.location.url.substr(7);
  Status st = PrepareDeltaDestination(*s, dest);
  ASSERT_FALSE(st.ok()) << message;
  EXPECT_NE(st.message().find(message), std::string::npos) << st.ToString();
  EXPECT_FALSE(fs::exists(root + "/_delta_log")) << message;
  auto w = WriteDeltaDestination(*s, dest, "SELECT 1::BIGINT AS id, 'a' AS v", nullptr);
  ASSERT_FALSE(w.ok()) << message;
  EXPECT_NE(w.status().message().find(message), std::string::npos) << w.status().ToString();
  EXPECT_FALSE(fs::exists(root + "/_delta_log")) << message;
}

TEST(DeltaConformanceTest, FeaturePropertiesAreRefusedBeforeAnythingIsCommitted) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"delta.enableRowTracking", "true"},
      {"delta.enableInCommitTimestamps", "true"},
      {"delta.enableChangeDataFeed", "true"},
      {"delta.checkpointPolicy", "v2"},
      {"delta.feature.deletionVectors", "supported"},
      {"delta.feature.rowTracking", "enabled"},
      {"delta.columnMapping.mode", "name"},
      {"delta.columnMapping.mode", "id"},
      {"delta.constraints.positive", "id > 0"},
      {"delta.enableTypeWidening", "true"},
      {"delta.enableIcebergCompatV2", "true"},
      {"delta.universalFormat.enabledFormats", "iceberg"},
      {"delta.checkpoint.writeStatsAsStruct", "true"},
      {"delta.someUnknownSetting", "1"},
  };
  for (const auto& [key, value] : refused) {
    TempDir dir;
    auto dest = Dest(dir.str() + "/t", {F("id", "int64"), F("v", "string")});
    dest.table_properties[key] = value;
    ExpectRefusedCreate(dest, "table property '" + key + "' = '" + value + "' is not supported");
    EXPECT_FALSE(fs::exists(dir.str() + "/t")) << key;
  }
  const std::vector<std::pair<std::string, std::string>> invalid = {
      {"delta.appendOnly", "yes"},
      {"delta.checkpointInterval", "0"},
      {"delta.deletedFileRetentionDuration", "a week"},
      {"delta.enableChangeDataFeed", "maybe"},
  };
  for (const auto& [key, value] : invalid) {
    TempDir dir;
    auto dest = Dest(dir.str() + "/t", {F("id", "int64"), F("v", "string")});
    dest.table_properties[key] = value;
    ExpectRefusedCreate(dest, "table property '" + key + "' = '" + value + "' is invalid");
  }
}

TEST(DeltaConformanceTest, SupportedPropertiesGiveTheRightProtocol) {
  auto s = OpenTestSession();
  {  // deletion vectors enabled: reader 3 / writer 7 with the feature (no DV is ever written)
    TempDir dir;
    auto dest = Dest(dir.str(), {F("id", "int64"), F("v", "string")});
    dest.table_properties["delta.enableDeletionVectors"] = "true";
    dest.table_properties["delta.appendOnly"] = "false";
    dest.table_properties["delta.checkpointPolicy"] = "classic";
    dest.table_properties["owner"] = "team-a";
    AQ_ASSERT_OK(
        WriteDeltaDestination(*s, dest, "SELECT 1::BIGINT AS id, 'a' AS v", nullptr).status());
    json protocol, metadata;
    for (const json& a : Actions(dir.str(), 0)) {
      if (a.contains("protocol")) {
        protocol = a["protocol"];
      }
      if (a.contains("metaData")) {
        metadata = a["metaData"];
      }
    }
    EXPECT_EQ(protocol, json::parse(R"({"minReaderVersion":3,"minWriterVersion":7,
        "readerFeatures":["deletionVectors"],"writerFeatures":["appendOnly","deletionVectors"]})"));
    EXPECT_EQ(metadata["configuration"]["owner"], "team-a");
    EXPECT_EQ(metadata["configuration"]["delta.enableDeletionVectors"], "true");
  }
  {  // timestamp_ntz plus appendOnly: appendOnly is listed among the writer features
    TempDir dir;
    auto dest = Dest(dir.str(), {F("id", "int64"), F("t", "timestamp<us>")});
    dest.table_properties["delta.appendOnly"] = "true";
    AQ_ASSERT_OK(PrepareDeltaDestination(*s, dest));
    json protocol;
    for (const json& a : Actions(dir.str(), 0)) {
      if (a.contains("protocol")) {
        protocol = a["protocol"];
      }
    }
    EXPECT_EQ(protocol, json::parse(R"({"minReaderVersion":3,"minWriterVersion":7,
        "readerFeatures":["timestampNtz"],"writerFeatures":["appendOnly","timestampNtz"]})"));
  }
  {  // plain tables stay at 1/2
    TempDir dir;
    auto dest = Dest(dir.str(), {F("id", "int64"), F("v", "string")});
    dest.table_properties["delta.appendOnly"] = "true";
    dest.table_properties["delta.deletedFileRetentionDuration"] = "interval 30 days";
    AQ_ASSERT_OK(PrepareDeltaDestination(*s, dest));
    for (const json& a : Actions(dir.str(), 0)) {
      if (a.contains("protocol")) {
        EXPECT_EQ(a["protocol"], json::parse(R"({"minReaderVersion":1,"minWriterVersion":2})"));
      }
    }
  }
}

TEST(DeltaConformanceTest, FailedCreateLeavesNoTable) {
  TempDir dir;
  {
    auto dest = Dest(dir.str() + "/a", {F("id", "int64"), F("v", "string")});
    dest.partition_columns = {"id", "v"};
    ExpectRefusedCreate(dest, "a Delta table needs a non-partition column");
  }
  {
    auto dest = Dest(dir.str() + "/b", {F("id", "int64"), F("v", "struct<a:int32>")});
    dest.partition_columns = {"v"};
    ExpectRefusedCreate(dest, "partition column 'v'");
  }
  {
    auto dest = Dest(dir.str() + "/c", {F("id", "int64"), F("v", "string")});
    dest.partition_columns = {"w"};
    ExpectRefusedCreate(dest, "partition column 'w' is not in `schema`");
  }
  {
    auto dest = Dest(dir.str() + "/d", {F("id", "int64"), F("v", "string")});
    dest.table_properties["delta.constraints.c"] = "id > 0";
    dest.table_properties["delta.appendOnly"] = "true";
    ExpectRefusedCreate(dest, "delta.constraints.c");
  }
  EXPECT_TRUE(fs::is_empty(dir.str()));
}

TEST(DeltaConformanceTest, ColumnsDifferingOnlyByCaseAreRefused) {
  TempDir dir;
  ExpectRefusedCreate(
      Dest(dir.str() + "/a", {F("id", "int64"), F("v", "string"), F("ID", "int32")}),
      "columns 'id' and 'ID' differ only by case");
  ExpectRefusedCreate(Dest(dir.str() + "/b", {F("id", "int64"), F("v", "string"),
                                              F("s", "struct<Ab:int32,aB:string>")}),
                      "columns 's.Ab' and 's.aB' differ only by case");
  ExpectRefusedCreate(Dest(dir.str() + "/c", {F("id", "int64"), F("v", "string"),
                                              F("l", "list<struct<x:int32,X:int32>>")}),
                      "columns 'l.x' and 'l.X' differ only by case");
  EXPECT_TRUE(fs::is_empty(dir.str()));
}

// Checkpoints keep tombstones for delta.deletedFileRetentionDuration, not a fixed week.
TEST(DeltaConformanceTest, CheckpointTombstoneRetentionFollowsTheProperty) {
  auto s = OpenTestSession();
  for (const std::string retention : {"", "interval 30 days"}) {
    TempDir dir;
    auto dest = Dest(dir.str(), {F("id", "int64"), F("v", "string")});
    if (!retention.empty()) {
      dest.table_properties["delta.deletedFileRetentionDuration"] = retention;
    }
    AQ_ASSERT_OK(
        WriteDeltaDestination(*s, dest, "SELECT 1::BIGINT AS id, 'a' AS v", nullptr).status());
    // Version 2 removes the file ten days ago (hand-written, as a writer with a slow clock
    // would have).
    json add;
    for (const json& a : Actions(dir.str(), 1)) {
      if (a.contains("add")) {
        add = a["add"];
      }
    }
    int64_t ten_days_ago = NowMillis() - 10LL * 24 * 3600 * 1000;
    json rm = {{"remove",
                {{"path", add["path"]},
                 {"deletionTimestamp", ten_days_ago},
                 {"dataChange", true},
                 {"extendedFileMetadata", true},
                 {"partitionValues", json::object()},
                 {"size", add["size"]}}}};
    std::ofstream(dir.str() + "/_delta_log/00000000000000000002.json") << rm.dump() << "\n";
    AQ_ASSERT_OK(WriteCheckpoint(s->main(), dir.str(), 2));
    std::string cp = dir.str() + "/_delta_log/00000000000000000002.checkpoint.parquet";
    EXPECT_EQ(QueryOne(s->main(), "SELECT count(remove) FROM read_parquet('" + cp + "')"),
              retention.empty() ? "0" : "1")
        << retention;
  }
}

// Each commit of ours writes <version>.crc with the exact table state; checkpoints are zstd.
TEST(DeltaConformanceTest, VersionChecksumsMatchTheLogAndCheckpointsAreZstd) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str(), {F("id", "int64"), F("p", "string")});
  dest.partition_columns = {"p"};
  dest.table_properties["delta.checkpointInterval"] = "3";
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, dest, "SELECT i::BIGINT AS id, (i % 3)::VARCHAR AS p FROM range(10) t(i)", nullptr)
          .status());
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, dest, "SELECT 100::BIGINT AS id, '1' AS p", nullptr).status());
  dest.write_mode.operation = DeltaWriteMode::Operation::kReplace;
  dest.write_mode.replace_conditions = {ReplaceCondition{"p", "2"}};
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, dest, "SELECT 7::BIGINT AS id, '2' AS p", nullptr).status());
  std::map<std::string, int64_t> live;  // replayed here from the JSON commits
  for (int v = 0; v <= 3; ++v) {
    for (const json& a : Actions(dir.str(), v)) {
      if (a.contains("add")) {
        live[a["add"]["path"]] = a["add"]["size"].get<int64_t>();
      }
      if (a.contains("remove")) {
        live.erase(a["remove"]["path"]);
      }
    }
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.crc", v);
    std::string path = dir.str() + "/_delta_log/" + name;
    ASSERT_TRUE(fs::exists(path)) << path;
    json crc = json::parse(ReadText(path));
    int64_t bytes = 0;
    for (const auto& [p, size] : live) {
      bytes += size;
    }
    EXPECT_EQ(crc["numFiles"], live.size()) << v;
    EXPECT_EQ(crc["tableSizeBytes"], bytes) << v;
    EXPECT_EQ(crc["numMetadata"], 1);
    EXPECT_EQ(crc["numProtocol"], 1);
    EXPECT_EQ(crc["metadata"]["partitionColumns"], json::array({"p"}));
    EXPECT_EQ(crc["protocol"]["minWriterVersion"], 2);
  }
  std::string cp = dir.str() + "/_delta_log/00000000000000000002.checkpoint.parquet";
  ASSERT_TRUE(fs::exists(cp));
  EXPECT_EQ(QueryOne(s->main(),
                     "SELECT string_agg(DISTINCT compression, ',') FROM "
                     "parquet_metadata('" +
                         cp + "')"),
            "ZSTD");
}

}  // namespace
}  // namespace aqueducts::delta

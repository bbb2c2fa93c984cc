// Acceptance of the original's pipelines (backwards compatibility, defaults, round trip) and every
// field and alias.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

#include "testing.h"

// g++ 12 flags std::optional<Destination> moved out of a Result as maybe-uninitialized (a false
// positive of its variant inlining), only in this file's larger tests.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace aqueducts {
namespace {

Result<Aqueduct> Json(const std::string& text) {
  return LoadAqueductFromString(text, Format::kJson, {}, {"/base", true}, "t.json");
}
Result<Aqueduct> Yaml(const std::string& text) {
  return LoadAqueductFromString(text, Format::kYaml, {}, {"/base", true}, "t.yml");
}
Result<Aqueduct> Toml(const std::string& text) {
  return LoadAqueductFromString(text, Format::kToml, {}, {"/base", true}, "t.toml");
}

void ExpectJsonRoundTrip(const Aqueduct& a) {
  Result<Aqueduct> again = Json(ToJson(a));
  AQ_ASSERT_OK(again.status());
  EXPECT_TRUE(*again == a) << ToJson(a, 2);
}

TEST(CompatibilityTest, LegacyJson) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Json(R"({
    "sources": [{"type": "File", "name": "t",
                 "file_type": {"type": "Csv", "options": {"has_header": true, "delimiter": ";"}},
                 "location": "s3://bucket/t.csv", "storage_options": {"region": "eu"}}],
    "stages": [],
    "destination": {"type": "Delta", "name": "out", "location": "s3://bucket/out",
                    "write_mode": {"operation": "Append"}, "storage_options": {"k": "v"},
                    "partition_cols": ["date"], "table_properties": {"delta.appendOnly": "true",
                    "x": null}, "custom_metadata": {"owner": "me"}, "schema": []}
  })"));
  ASSERT_EQ(a.sources.size(), 1u);
  const auto& file = std::get<FileSource>(a.sources[0]);
  EXPECT_EQ(file.format.delimiter, ';');
  EXPECT_EQ(file.storage_config.at("region"), "eu");
  ASSERT_TRUE(a.destination.has_value());
  const auto& delta = std::get<DeltaDestination>(*a.destination);
  EXPECT_EQ(delta.write_mode.operation, DeltaWriteMode::Operation::kAppend);
  EXPECT_EQ(delta.storage_config.at("k"), "v");
  EXPECT_EQ(delta.partition_columns, std::vector<std::string>{"date"});
  EXPECT_EQ(delta.table_properties.at("delta.appendOnly"), "true");
  EXPECT_FALSE(delta.table_properties.at("x").has_value());
  EXPECT_EQ(delta.metadata.at("owner"), "me");
  ExpectJsonRoundTrip(a);
}

TEST(DefaultsTest, FieldNullableDefaultsToTrueAndVersionToV2) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Json(R"({"sources": [{"type": "file", "name": "t",
      "format": {"type": "parquet", "options": {"schema": [
        {"name": "user_score", "type": "decimal<5,2>", "description": "score", "metadata": {}},
        {"name": "n", "data_type": "int64", "nullable": false}]}},
      "location": "/t.parquet"}], "stages": []})"));
  EXPECT_EQ(a.version, "v2");
  const auto& schema = std::get<FileSource>(a.sources[0]).format.schema;
  ASSERT_EQ(schema.size(), 2u);
  EXPECT_TRUE(schema[0].nullable);
  EXPECT_EQ(schema[0].data_type.id, TypeId::kDecimal128);
  EXPECT_EQ(schema[0].data_type.precision, 5);
  EXPECT_EQ(schema[0].description, "score");
  EXPECT_FALSE(schema[1].nullable);
  ExpectJsonRoundTrip(a);

  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct empty, Json(R"({"sources": [], "stages": []})"));
  EXPECT_EQ(empty.version, "v2");
  EXPECT_FALSE(empty.destination.has_value());
  ExpectJsonRoundTrip(empty);
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct v1, Yaml("version: v1\nsources: []\nstages: []\n"));
  EXPECT_EQ(v1.version, "v1");
}

TEST(CanonicalJsonTest, WritesDefaultsAndSnakeCaseTags) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Yaml(R"(
sources:
  - type: File
    name: t
    format: {type: Csv}
    location: data/t.csv
stages:
  - - name: s
      query: SELECT 1
destination: {type: File, name: o, location: /o.json, format: {type: Json}}
)"));
  nlohmann::json j = nlohmann::json::parse(ToJson(a));
  EXPECT_EQ(j["version"], "v2");
  const auto& source = j["sources"][0];
  EXPECT_EQ(source["type"], "file");
  EXPECT_EQ(source["format"], nlohmann::json::parse(
                                  R"({"type":"csv","options":{"has_header":true,"delimiter":",",
                                      "schema":[]}})"));
  EXPECT_EQ(source["location"], "file:///base/data/t.csv");
  EXPECT_EQ(source["storage_config"], nlohmann::json::object());
  EXPECT_EQ(j["stages"][0][0], nlohmann::json::parse(
                                   R"({"name":"s","query":"SELECT 1","show":null,"explain":false,
                                       "explain_analyze":false,"print_schema":false})"));
  EXPECT_EQ(j["destination"]["format"], nlohmann::json::parse(R"({"type":"json"})"));
  // Not given: the location decides, so nothing is written (a default would change the meaning).
  EXPECT_FALSE(j["destination"].contains("single_file"));
  ExpectJsonRoundTrip(a);
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct none, Json(R"({"sources": [], "stages": [],
                                                  "destination": null})"));
  EXPECT_EQ(nlohmann::json::parse(ToJson(none))["destination"], nullptr);
}

TEST(SourcesTest, DirectorySourceWithBothPartitionColumnForms) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Yaml(R"(
sources:
  - type: dir
    name: d
    file_type: {type: Parquet, options: {}}
    partition_cols:
      - [year, int32]
      - {name: region, data_type: string}
    location: s3://b/d/
    storage_config: {aws_region: eu-west-1}
stages: []
)"));
  const auto& dir = std::get<DirSource>(a.sources[0]);
  ASSERT_EQ(dir.partition_columns.size(), 2u);
  EXPECT_EQ(dir.partition_columns[0].name, "year");
  EXPECT_EQ(dir.partition_columns[0].data_type.id, TypeId::kInt32);
  EXPECT_EQ(dir.partition_columns[1].data_type.id, TypeId::kUtf8);
  EXPECT_EQ(dir.location.url, "s3://b/d/");
  nlohmann::json j = nlohmann::json::parse(ToJson(a));
  EXPECT_EQ(j["sources"][0]["partition_columns"],
            nlohmann::json::parse(R"([["year","int32"],["region","string"]])"));
  ExpectJsonRoundTrip(a);
}

TEST(SourcesTest, DeltaOdbcAndInMemorySources) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Yaml(R"(
sources:
  - {type: Delta, name: d1, location: /t, version: "3", timestamp: "2024-01-01T00:00:00Z"}
  - {type: delta, name: d2, location: /t, storage_options: {k: v}}
  - {type: database, name: o, query: SELECT 1, connection_string: DSN=x}
  - {type: memory, name: m}
  - {type: InMemory, name: m2}
stages: []
)"));
  ASSERT_EQ(a.sources.size(), 5u);
  const auto& d1 = std::get<DeltaSource>(a.sources[0]);
  EXPECT_EQ(d1.version, 3);
  EXPECT_EQ(d1.timestamp, "2024-01-01T00:00:00Z");
  const auto& d2 = std::get<DeltaSource>(a.sources[1]);
  EXPECT_FALSE(d2.version.has_value());
  EXPECT_EQ(d2.storage_config.at("k"), "v");
  EXPECT_EQ(std::get<OdbcSource>(a.sources[2]).load_query, "SELECT 1");
  EXPECT_EQ(SourceTypeName(a.sources[3]), std::string("in_memory"));
  EXPECT_EQ(SourceName(a.sources[4]), "m2");
  nlohmann::json j = nlohmann::json::parse(ToJson(a));
  EXPECT_EQ(j["sources"][1]["version"], nullptr);
  EXPECT_EQ(j["sources"][0]["version"], 3);
  ExpectJsonRoundTrip(a);
}

TEST(StagesTest, ShowAcceptsIntegersAndNumericStrings) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Yaml(R"(
sources: []
stages:
  - - {name: a, query: q, show: 0, explain_analyze: true}
    - {name: b, query: q, show: "25", print_schema: True}
  - - {name: c, query: q, show: null}
)"));
  EXPECT_EQ(a.stages[0][0].show, 0u);
  EXPECT_TRUE(a.stages[0][0].explain_analyze);
  EXPECT_EQ(a.stages[0][1].show, 25u);
  EXPECT_TRUE(a.stages[0][1].print_schema);
  EXPECT_FALSE(a.stages[1][0].show.has_value());
  ExpectJsonRoundTrip(a);
}

TEST(DestinationsTest, OdbcCustomWriteMode) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Yaml(R"(
sources: []
stages: []
destination:
  type: Odbc
  name: target
  connection_string: DSN=pg
  write_mode:
    operation: Custom
    transaction:
      pre_insert: DELETE FROM target WHERE id = 1
      insert: INSERT INTO target VALUES (?, ?)
)"));
  const auto& odbc = std::get<OdbcDestination>(*a.destination);
  EXPECT_EQ(odbc.write_mode.operation, OdbcWriteMode::Operation::kCustom);
  EXPECT_EQ(odbc.write_mode.pre_insert, "DELETE FROM target WHERE id = 1");
  EXPECT_EQ(odbc.write_mode.insert, "INSERT INTO target VALUES (?, ?)");
  EXPECT_EQ(odbc.batch_size, 1000u);
  EXPECT_EQ(DestinationTypeName(*a.destination), std::string("odbc"));
  ExpectJsonRoundTrip(a);
}

TEST(DestinationsTest, FileDestinationOptionsInToml) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Toml(R"toml(
sources = []
stages = []
[destination]
type = "file"
name = "out"
location = "out/dir"
single_file = false
partition_columns = ["year"]
[destination.format]
type = "parquet"
options = { compression = "zstd(3)", max_row_group_size = 1000 }
)toml"));
  const auto& file = std::get<FileDestination>(*a.destination);
  EXPECT_EQ(file.single_file, false);
  EXPECT_EQ(file.location.url, "file:///base/out/dir");
  EXPECT_EQ(file.format.parquet_options.at("compression"), "zstd(3)");
  EXPECT_EQ(file.format.parquet_options.at("max_row_group_size"), "1000");
  EXPECT_EQ(file.partition_columns, std::vector<std::string>{"year"});
  ExpectJsonRoundTrip(a);

  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct csv, Yaml(R"(
sources: []
stages: []
destination:
  type: file
  name: o
  location: /o.csv
  format: {type: csv, options: {has_header: false, delimiter: "|", compression: gzip}}
)"));
  const auto& csv_file = std::get<FileDestination>(*csv.destination);
  EXPECT_FALSE(csv_file.format.has_header);
  EXPECT_EQ(csv_file.format.delimiter, '|');
  EXPECT_EQ(csv_file.format.compression, "gzip");
  ExpectJsonRoundTrip(csv);
}

TEST(DestinationsTest, DeltaUpsertAndReplaceWithAliases) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Yaml(R"(
sources: []
stages: []
destination:
  type: delta
  name: d
  location: /d
  mode: {operation: Upsert, params: [date, country]}
  schema: [{name: date, type: date}]
)"));
  const auto& delta = std::get<DeltaDestination>(*a.destination);
  EXPECT_EQ(delta.write_mode.operation, DeltaWriteMode::Operation::kUpsert);
  EXPECT_EQ(delta.write_mode.upsert_keys, (std::vector<std::string>{"date", "country"}));
  ASSERT_EQ(delta.schema.size(), 1u);
  EXPECT_EQ(delta.schema[0].data_type.id, TypeId::kDate32);
  ExpectJsonRoundTrip(a);
}

}  // namespace
}  // namespace aqueducts

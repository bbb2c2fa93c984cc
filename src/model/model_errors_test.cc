// Every bad document gives a kParseError that names the file, the line and the field path.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "aqueducts/loader.h"

#include "testing.h"

namespace aqueducts {
namespace {

Status LoadError(const std::string& text, Format format, const std::string& name) {
  Result<Aqueduct> r = LoadAqueductFromString(text, format, {}, {}, name);
  EXPECT_FALSE(r.ok()) << text;
  return r.status();
}

void ExpectContains(const Status& status, const std::string& needle) {
  EXPECT_NE(status.message().find(needle), std::string::npos)
      << "message: " << status.message() << "\nexpected to contain: " << needle;
}

TEST(ParseErrorTest, BrokenYamlNamesFileAndLine) {
  Status s = LoadError("sources: []\nstages:\n  - - name: a\n     query: [unclosed\n",
                       Format::kYaml, "broken.yml");
  EXPECT_EQ(s.code(), StatusCode::kParseError);
  EXPECT_EQ(s.id(), "aqueducts::template::yaml_parse_error");
  ExpectContains(s, "broken.yml:");
  ExpectContains(s, "YAML parsing error");
}

TEST(ParseErrorTest, BrokenJsonNamesFileAndLine) {
  Status s = LoadError("{\n  \"sources\": [],\n  \"stages\": [,]\n}\n", Format::kJson, "p.json");
  EXPECT_EQ(s.code(), StatusCode::kParseError);
  EXPECT_EQ(s.id(), "aqueducts::template::json_parse_error");
  ExpectContains(s, "p.json:3:");
  ExpectContains(s, "JSON parsing error");
}

TEST(ParseErrorTest, BrokenTomlNamesFileAndLine) {
  Status s = LoadError("version = \"v2\"\nsources = [\nstages = = 1\n", Format::kToml, "p.toml");
  EXPECT_EQ(s.code(), StatusCode::kParseError);
  EXPECT_EQ(s.id(), "aqueducts::template::toml_parse_error");
  ExpectContains(s, "p.toml:3:");
  ExpectContains(s, "TOML parsing error");
}

TEST(ParseErrorTest, BrokenFileOnDiskNamesThePath) {
  std::string dir = ::testing::TempDir() + "/aq_model_errors_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/bad.yml";
  std::ofstream(path) << "sources: [\n";
  Result<Aqueduct> r = LoadAqueductFromFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kParseError);
  ExpectContains(r.status(), path + ":");
  std::filesystem::remove_all(dir);
}

TEST(ModelErrorTest, UnknownFormatTagNamesPathAndLine) {
  const char* yaml =
      "sources:\n"
      "  - type: file\n"
      "    name: a\n"
      "    location: a.csv\n"
      "    format: {type: csv}\n"
      "  - type: file\n"
      "    name: b\n"
      "    location: b.xls\n"
      "    format:\n"
      "      type: xls\n"
      "stages: []\n";
  Status s = LoadError(yaml, Format::kYaml, "pipeline.yml");
  EXPECT_EQ(s.code(), StatusCode::kParseError);
  EXPECT_EQ(s.message(),
            "pipeline.yml:10: sources[1].format.type: unknown file format 'xls' (expected "
            "parquet, csv, json)");
}

TEST(ModelErrorTest, UnknownSourceAndDestinationTypes) {
  Status s =
      LoadError("sources:\n  - type: kafka\n    name: a\nstages: []\n", Format::kYaml, "p.yml");
  EXPECT_EQ(s.message(),
            "p.yml:2: sources[0].type: unknown source type 'kafka' (expected in_memory, file, "
            "directory, odbc, delta)");
  s = LoadError("sources: []\nstages: []\ndestination:\n  type: s3\n  name: x\n", Format::kYaml,
                "p.yml");
  ExpectContains(s, "p.yml:4: destination.type: unknown destination type 's3'");
  // Tags are case-sensitive: only the listed spellings.
  s = LoadError("sources:\n  - type: FILE\n    name: a\nstages: []\n", Format::kYaml, "p.yml");
  ExpectContains(s, "unknown source type 'FILE'");
}

TEST(ModelErrorTest, BadTypeStringNamesTheField) {
  const char* json = R"({
  "sources": [],
  "stages": [],
  "destination": {
    "type": "delta", "name": "d", "location": "/t", "write_mode": {"operation": "append"},
    "schema": [
      {"name": "a", "data_type": "int32"},
      {"name": "b", "data_type": "varchar"}
    ]
  }
})";
  Status s = LoadError(json, Format::kJson, "p.json");
  EXPECT_EQ(s.message(),
            "p.json:8: destination.schema[1].data_type: Invalid data type: Unknown data type: "
            "varchar");
  s = LoadError(
      "sources:\n  - type: directory\n    name: d\n    location: /d\n    format: {type: "
      "parquet}\n    partition_columns: [[year, int33]]\nstages: []\n",
      Format::kYaml, "p.yml");
  ExpectContains(s,
                 "sources[0].partition_columns[0][1]: Invalid data type in partition "
                 "column: Unknown data type: int33");
}

TEST(ModelErrorTest, MissingRequiredFieldNamesPathAndLine) {
  const char* yaml =
      "sources:\n"
      "  - type: file\n"
      "    name: a\n"
      "    format: {type: csv}\n"
      "stages:\n"
      "  - - name: s\n"
      "      query: SELECT 1\n";
  Status s = LoadError(yaml, Format::kYaml, "p.yml");
  EXPECT_EQ(s.message(), "p.yml:2: sources[0].location: missing required field 'location'");
  s = LoadError("sources: []\nstages:\n  - - name: s\n", Format::kYaml, "p.yml");
  EXPECT_EQ(s.message(), "p.yml:3: stages[0][0].query: missing required field 'query'");
  s = LoadError("sources: []\nstages: [[{name: s, query: ~}]]\n", Format::kYaml, "p.yml");
  EXPECT_EQ(s.message(), "p.yml:2: stages[0][0].query: required field 'query' is empty (null)");
  s = LoadError("sources: []\n", Format::kYaml, "p.yml");
  EXPECT_EQ(s.message(), "p.yml:1: stages: missing required field 'stages'");
  s = LoadError("[sources]\n", Format::kToml, "p.toml");
  ExpectContains(s, "p.toml");
  s = LoadError("sources:\n  - type: file\n    name: a\n    location: x\nstages: []\n",
                Format::kYaml, "p.yml");
  EXPECT_EQ(s.message(),
            "p.yml:2: sources[0].format: missing required field 'format' (alias: file_type)");
}

TEST(ModelErrorTest, WrongValueShapes) {
  Status s = LoadError("sources: []\nstages:\n  - name: s\n    query: q\n", Format::kYaml, "p.yml");
  ExpectContains(s, "p.yml:3: stages[0]: expected a list of stages");
  s = LoadError(
      "sources:\n  - type: file\n    name: a\n    location: a\n    format:\n      type: csv\n"
      "      options: {delimiter: ';;'}\nstages: []\n",
      Format::kYaml, "p.yml");
  ExpectContains(s, "p.yml:7: sources[0].format.options.delimiter: expected exactly one character");
  s = LoadError("sources: []\nstages: [[{name: s, query: q, show: many}]]\n", Format::kYaml,
                "p.yml");
  ExpectContains(s, "stages[0][0].show: expected an integer, got 'many'");
  s = LoadError("sources: []\nstages: [[{name: s, query: q, show: -2}]]\n", Format::kYaml, "p.yml");
  ExpectContains(s, "stages[0][0].show: expected a non-negative integer");
  s = LoadError("sources: []\nstages: [[{name: s, query: q, explain: maybe}]]\n", Format::kYaml,
                "p.yml");
  ExpectContains(s, "stages[0][0].explain: expected a boolean");
  s = LoadError("", Format::kYaml, "empty.yml");
  ExpectContains(s, "empty.yml");
}

}  // namespace
}  // namespace aqueducts

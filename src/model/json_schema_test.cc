// JsonSchema() must accept every example pipeline. The validator below covers exactly the subset of
// draft-07 that the generator emits.

#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

#include "model/templating.h"
#include "model/tree.h"
#include "testing.h"

namespace aqueducts {
namespace {

using model_internal::Node;
using nlohmann::json;

class Validator {
 public:
  explicit Validator(json root) : root_(std::move(root)) {}

  // Empty when valid; else the first reason found.
  std::string Validate(const json& value) const { return Check(root_, value, "$"); }

 private:
  static bool HasType(const json& value, const std::string& type) {
    if (type == "object") {
      return value.is_object();
    }
    if (type == "array") {
      return value.is_array();
    }
    if (type == "string") {
      return value.is_string();
    }
    if (type == "integer") {
      return value.is_number_integer();
    }
    if (type == "number") {
      return value.is_number();
    }
    if (type == "boolean") {
      return value.is_boolean();
    }
    if (type == "null") {
      return value.is_null();
    }
    ADD_FAILURE() << "schema uses unsupported type " << type;
    return false;
  }

  std::string Check(const json& schema, const json& value, const std::string& at) const {
    static const std::set<std::string> kKnown = {
        "$schema",    "title",      "description", "default",
        "examples",   "format",     "$ref",        "type",
        "properties", "required",   "enum",        "oneOf",
        "anyOf",      "allOf",      "items",       "additionalProperties",
        "minLength",  "maxLength",  "minimum",     "minItems",
        "maxItems",   "definitions"};
    for (const auto& [key, unused] : schema.items()) {
      if (!kKnown.count(key)) {
        ADD_FAILURE() << "validator does not know keyword " << key;
      }
    }
    if (schema.contains("$ref")) {
      std::string name = schema["$ref"].get<std::string>().substr(strlen("#/definitions/"));
      if (!root_["definitions"].contains(name)) {
        return at + ": dangling $ref " + name;
      }
      return Check(root_["definitions"][name], value, at);
    }
    if (schema.contains("type")) {
      bool ok = false;
      if (schema["type"].is_string()) {
        ok = HasType(value, schema["type"]);
      } else {
        for (const json& t : schema["type"]) {
          ok = ok || HasType(value, t);
        }
      }
      if (!ok) {
        return at + ": expected type " + schema["type"].dump() + ", got " + value.dump();
      }
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const json& e : schema["enum"]) {
        found = found || e == value;
      }
      if (!found) {
        return at + ": " + value.dump() + " not in " + schema["enum"].dump();
      }
    }
    if (value.is_string()) {
      size_t n = value.get<std::string>().size();
      if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) {
        return at + ": too short";
      }
      if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) {
        return at + ": too long";
      }
    }
    if (value.is_number() && schema.contains("minimum") && value < schema["minimum"]) {
      return at + ": below minimum";
    }
    if (value.is_object()) {
      for (const json& key : schema.value("required", json::array())) {
        if (!value.contains(key.get<std::string>())) {
          return at + ": missing " + key.dump();
        }
      }
      const json properties = schema.value("properties", json::object());
      for (const auto& [key, item] : value.items()) {
        if (properties.contains(key)) {
          std::string error = Check(properties[key], item, at + "." + key);
          if (!error.empty()) {
            return error;
          }
        } else if (schema.contains("additionalProperties")) {
          const json& extra = schema["additionalProperties"];
          if (extra.is_boolean() && !extra.get<bool>()) {
            return at + ": unexpected key " + key;
          }
          if (extra.is_object()) {
            std::string error = Check(extra, item, at + "." + key);
            if (!error.empty()) {
              return error;
            }
          }
        }
      }
    }
    if (value.is_array()) {
      if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) {
        return at + ": too few items";
      }
      if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) {
        return at + ": too many items";
      }
      if (schema.contains("items")) {
        const json& items = schema["items"];
        for (size_t i = 0; i < value.size(); ++i) {
          const json& item_schema = items.is_array() ? items[i] : items;
          std::string error = Check(item_schema, value[i], at + "[" + std::to_string(i) + "]");
          if (!error.empty()) {
            return error;
          }
        }
      }
    }
    if (schema.contains("allOf")) {
      for (const json& sub : schema["allOf"]) {
        std::string error = Check(sub, value, at);
        if (!error.empty()) {
          return error;
        }
      }
    }
    if (schema.contains("anyOf")) {
      std::string errors;
      for (const json& sub : schema["anyOf"]) {
        std::string error = Check(sub, value, at);
        if (error.empty()) {
          return {};
        }
        errors += " | " + error;
      }
      return at + ": no anyOf branch matches:" + errors;
    }
    if (schema.contains("oneOf")) {
      int matches = 0;
      std::string errors;
      for (const json& sub : schema["oneOf"]) {
        std::string error = Check(sub, value, at);
        matches += error.empty() ? 1 : 0;
        errors += " | " + error;
      }
      if (matches != 1) {
        return at + ": " + std::to_string(matches) + " oneOf branches match:" + errors;
      }
    }
    return {};
  }

  json root_;
};

// The instance a JSON Schema tool sees for a document: YAML plain scalars resolved with the YAML
// 1.2 core schema, typed scalars (JSON, TOML) as they are.
json ToInstance(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNull:
      return nullptr;
    case Node::Kind::kSequence: {
      json out = json::array();
      for (const Node& item : node.items) {
        out.push_back(ToInstance(item));
      }
      return out;
    }
    case Node::Kind::kMap: {
      json out = json::object();
      for (const auto& [key, value] : node.entries) {
        out[key] = ToInstance(value);
      }
      return out;
    }
    case Node::Kind::kScalar:
      break;
  }
  const std::string& s = node.scalar;
  using Type = Node::ScalarType;
  if (node.scalar_type == Type::kString) {
    return s;
  }
  if (node.scalar_type == Type::kBool ||
      (node.scalar_type == Type::kPlain && (s == "true" || s == "false"))) {
    return s == "true";
  }
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (node.scalar_type == Type::kInt || std::regex_match(s, kInt)) {
    return std::stoll(s);
  }
  if (node.scalar_type == Type::kFloat || std::regex_match(s, kFloat)) {
    return std::stod(s);
  }
  return s;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(JsonSchemaTest, IsDraft07WithTheModelDefinitions) {
  json schema = json::parse(JsonSchema());
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_EQ(schema["required"], json({"sources", "stages"}));
  for (const char* name : {"Source", "SourceFileType", "Field", "DataType", "Stage", "Destination",
                           "DeltaWriteMode", "ReplaceCondition", "WriteMode", "PartitionColumn"}) {
    EXPECT_TRUE(schema["definitions"].contains(name)) << name;
  }
  EXPECT_EQ(schema["definitions"]["DataType"]["type"], "string");
}

TEST(JsonSchemaTest, AcceptsEveryExampleAfterTemplating) {
  Validator validator(json::parse(JsonSchema()));
  std::string root = testing::FixturesDir() + "/aqueducts-examples/";
  Params params = {
      {"local_path", "/repo"}, {"run_id", "1"}, {"date", "2023-05-01"}, {"month", "jan"},
      {"year", "2024"},        {"user", "u"},   {"pass", "p"}};
  for (const char* file :
       {"examples/aqueduct_pipeline_simple.yml", "examples/aqueduct_pipeline_example.yml",
        "examples/aqueduct_pipeline_example.json", "examples/aqueduct_pipeline_example.toml",
        "examples/aqueduct_pipeline_odbc.yml", "delta-tests/aqueduct_pipeline_delta_append.yml",
        "delta-tests/aqueduct_pipeline_delta_replace.yml",
        "delta-tests/aqueduct_pipeline_delta_upsert.yml"}) {
    std::string path = root + file;
    AQ_ASSERT_OK_AND_ASSIGN(Format format, FormatFromPath(path));
    std::string text = model_internal::ReplaceParams(ReadFile(path), params);
    AQ_ASSERT_OK_AND_ASSIGN(Node tree, model_internal::ReadTree(text, format, path));
    EXPECT_EQ(validator.Validate(ToInstance(tree)), "") << file;
    // The canonical form the CLI sends is valid too.
    AQ_ASSERT_OK_AND_ASSIGN(Aqueduct aqueduct, LoadAqueductFromFile(path, params));
    EXPECT_EQ(validator.Validate(json::parse(ToJson(aqueduct))), "") << file;
  }
}

TEST(JsonSchemaTest, AcceptsBothPartitionColumnFormsAndRejectsBadDocuments) {
  Validator validator(json::parse(JsonSchema()));
  json dir = json::parse(R"({"sources": [{"type": "dir", "name": "d", "location": "/x",
      "format": {"type": "parquet"},
      "partition_columns": [["year", "int32"], {"name": "m", "data_type": "string"}]}],
      "stages": []})");
  EXPECT_EQ(validator.Validate(dir), "");
  EXPECT_NE(validator.Validate(json::parse(R"({"sources": []})")), "");
  EXPECT_NE(validator.Validate(
                json::parse(R"({"sources": [{"type": "xls", "name": "a"}], "stages": []})")),
            "");
  EXPECT_NE(validator.Validate(json::parse(R"({"sources": [], "stages": [[{"name": "a",
                "query": "q", "show": -1}]]})")),
            "");
  EXPECT_NE(validator.Validate(json::parse(R"({"sources": [{"type": "file", "name": "a",
                "location": "x", "format": {"type": "csv", "options": {"delimiter": ";;"}}}],
                "stages": []})")),
            "");
}

}  // namespace
}  // namespace aqueducts

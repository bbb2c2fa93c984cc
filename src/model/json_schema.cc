// The JSON Schema (draft-07) of the pipeline format, built from one function per model
// struct so it follows the loader. Unlike the original it lists the accepted aliases (keys and
// tags), types DataType as the string grammar the loader really reads, and accepts both partition
// column forms; `options` of source formats is optional.

#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

namespace aqueducts {
namespace {

using json = nlohmann::ordered_json;

json Ref(const std::string& name) {
  return {{"$ref", "#/definitions/" + name}};
}

json Described(json schema, const std::string& description) {
  schema["description"] = description;
  return schema;
}

json Enum(std::initializer_list<const char*> values) {
  json out = json::array();
  for (const char* v : values) {
    out.push_back(v);
  }
  return {{"type", "string"}, {"enum", out}};
}

// An object with `required` keys; a required key with aliases becomes anyOf of the spellings.
// Other keys are refused, as the loader refuses them (unless it runs lenient).
json Object(json properties, std::vector<std::vector<std::string>> required) {
  json out = {
      {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  json plain = json::array();
  json any_of = json::array();
  for (const auto& spellings : required) {
    if (spellings.size() == 1) {
      plain.push_back(spellings[0]);
      continue;
    }
    json choices = json::array();
    for (const std::string& s : spellings) {
      choices.push_back({{"required", {s}}});
    }
    any_of.push_back({{"anyOf", choices}});
  }
  if (!plain.empty()) {
    out["required"] = plain;
  }
  if (any_of.size() == 1) {
    out["anyOf"] = any_of[0]["anyOf"];
  }
  if (any_of.size() > 1) {
    out["allOf"] = any_of;
  }
  return out;
}

// Maps of options: the loader takes any scalar as text (YAML writes `max_row_group_size: 1000`).
json ScalarMap() {
  return {{"type", "object"},
          {"additionalProperties", {{"type", {"string", "number", "boolean"}}}}};
}
json StringList() {
  return {{"type", "array"}, {"items", {{"type", "string"}}}};
}
json Flag(bool default_value) {
  return {{"type", "boolean"}, {"default", default_value}};
}

json DataTypeSchema() {
  return {{"type", "string"},
          {"description",
           "Data type in the type grammar: bool, int8..int64, uint8..uint64, float32, float64, "
           "string, large_string, binary, large_binary, date32, date64 (aliases int, integer, "
           "long, float, double, utf8, large_utf8, boolean, date), fixed_binary<N>, "
           "decimal<P,S>, decimal256<P,S>, timestamp<unit[,tz]>, time32<unit>, time64<unit>, "
           "duration<unit>, interval<year_month|day_time|month_day_nano>, list<T>, "
           "large_list<T>, fixed_list<T,N>, struct<a:T,...>, map<K,V>, "
           "union<sparse|dense,a:T,...>, dictionary<K,V>"},
          {"examples", {"int32", "list<string>", "decimal<10,2>", "timestamp<millisecond,UTC>"}},
          {"minLength", 1}};
}

json FieldSchema() {
  return Object(
      {{"name", {{"type", "string"}}},
       {"data_type", Ref("DataType")},
       {"type", Described(Ref("DataType"), "alias of data_type")},
       {"nullable", Flag(true)},
       {"description", {{"type", "string"}}},
       {"metadata", Described({{"type", "object"}}, "legacy Arrow field metadata, ignored")}},
      {{"name"}, {"data_type", "type"}});
}

json Schema() {
  return {{"type", "array"}, {"items", Ref("Field")}, {"default", json::array()}};
}

json SourceOptions(bool csv) {
  json properties = {{"schema", Schema()}};
  if (csv) {
    properties["has_header"] = Flag(true);
    properties["quoted_empty_as_null"] = Flag(false);
    properties["delimiter"] = {
        {"type", "string"}, {"minLength", 1}, {"maxLength", 1}, {"default", ","}};
  }
  return Object(std::move(properties), {});
}

json SourceFileTypeSchema() {
  auto variant = [](json tag, const std::string& options) {
    return Object({{"type", std::move(tag)}, {"options", Ref(options)}}, {{"type"}});
  };
  return {{"oneOf",
           {variant(Enum({"parquet", "Parquet"}), "ParquetSourceOptions"),
            variant(Enum({"csv", "Csv"}), "CsvSourceOptions"),
            variant(Enum({"json", "Json"}), "JsonSourceOptions")}}};
}

json PartitionColumnSchema() {
  json pair = {{"type", "array"},
               {"items", {{{"type", "string"}}, Ref("DataType")}},
               {"minItems", 2},
               {"maxItems", 2}};
  json object = Object({{"name", {{"type", "string"}}}, {"data_type", Ref("DataType")}},
                       {{"name"}, {"data_type"}});
  return {{"oneOf", {pair, object}}};
}

json StorageProperties(json properties) {
  properties["storage_config"] = ScalarMap();
  properties["storage_options"] = Described(ScalarMap(), "alias of storage_config");
  return properties;
}

// In-memory sources and destinations are both just a name.
json InMemorySchema() {
  return Object(
      {{"type", Enum({"in_memory", "memory", "InMemory"})}, {"name", {{"type", "string"}}}},
      {{"type"}, {"name"}});
}

json SourceSchema() {
  json in_memory = InMemorySchema();
  json file = Object(StorageProperties({{"type", Enum({"file", "File"})},
                                        {"name", {{"type", "string"}}},
                                        {"format", Ref("SourceFileType")},
                                        {"file_type", Ref("SourceFileType")},
                                        {"location", Ref("Location")}}),
                     {{"type"}, {"name"}, {"format", "file_type"}, {"location"}});
  json columns = {{"type", "array"}, {"items", Ref("PartitionColumn")}};
  json dir = Object(StorageProperties({{"type", Enum({"directory", "dir", "Directory"})},
                                       {"name", {{"type", "string"}}},
                                       {"format", Ref("SourceFileType")},
                                       {"file_type", Ref("SourceFileType")},
                                       {"partition_columns", columns},
                                       {"partition_cols", columns},
                                       {"location", Ref("Location")}}),
                    {{"type"}, {"name"}, {"format", "file_type"}, {"location"}});
  json odbc = Object({{"type", Enum({"odbc", "database", "Odbc"})},
                      {"name", {{"type", "string"}}},
                      {"load_query", {{"type", "string"}}},
                      {"query", {{"type", "string"}}},
                      {"connection_string", {{"type", "string"}}}},
                     {{"type"}, {"name"}, {"load_query", "query"}, {"connection_string"}});
  json delta = Object(
      StorageProperties({{"type", Enum({"delta", "Delta"})},
                         {"name", {{"type", "string"}}},
                         {"location", Ref("Location")},
                         {"version", {{"type", {"integer", "null"}}}},
                         {"timestamp", {{"type", {"string", "null"}}, {"format", "date-time"}}}}),
      {{"type"}, {"name"}, {"location"}});
  return {{"oneOf", {in_memory, file, dir, odbc, delta}}};
}

json StageSchema() {
  return Object({{"name", {{"type", "string"}}},
                 {"query", {{"type", "string"}}},
                 {"show", {{"type", {"integer", "null"}}, {"minimum", 0}}},
                 {"explain", Flag(false)},
                 {"explain_analyze", Flag(false)},
                 {"print_schema", Flag(false)}},
                {{"name"}, {"query"}});
}

json DestinationFileTypeSchema() {
  json parquet =
      Object({{"type", Enum({"parquet", "Parquet"})}, {"options", ScalarMap()}}, {{"type"}});
  json csv = Object({{"type", Enum({"csv", "Csv"})}, {"options", Ref("CsvDestinationOptions")}},
                    {{"type"}});
  json json_format = Object({{"type", Enum({"json", "Json"})}}, {{"type"}});
  return {{"oneOf", {parquet, csv, json_format}}};
}

json CsvDestinationOptionsSchema() {
  return Object({{"has_header", Flag(true)},
                 {"delimiter", {{"type", "string"}, {"minLength", 1}, {"maxLength", 1}}},
                 {"compression", {{"type", {"string", "null"}}}}},
                {});
}

json WriteModeSchema() {
  json append = Object({{"operation", Enum({"append", "Append"})}}, {{"operation"}});
  json custom =
      Object({{"operation", Enum({"custom", "Custom"})}, {"transaction", Ref("CustomStatements")}},
             {{"operation"}, {"transaction"}});
  return {{"oneOf", {append, custom}}};
}

json DeltaWriteModeSchema() {
  json append = Object({{"operation", Enum({"append", "Append"})}}, {{"operation"}});
  json upsert = Object({{"operation", Enum({"upsert", "Upsert"})}, {"params", StringList()}},
                       {{"operation"}, {"params"}});
  json replace = Object({{"operation", Enum({"replace", "Replace"})},
                         {"params", {{"type", "array"}, {"items", Ref("ReplaceCondition")}}}},
                        {{"operation"}, {"params"}});
  return {{"oneOf", {append, upsert, replace}}};
}

json DestinationSchema() {
  json in_memory = InMemorySchema();
  json file = Object(StorageProperties({{"type", Enum({"file", "File"})},
                                        {"name", {{"type", "string"}}},
                                        {"location", Ref("Location")},
                                        {"format", Ref("DestinationFileType")},
                                        {"file_type", Ref("DestinationFileType")},
                                        {"single_file", {{"type", "boolean"}}},
                                        {"partition_columns", StringList()},
                                        {"partition_cols", StringList()}}),
                     {{"type"}, {"name"}, {"location"}, {"format", "file_type"}});
  json odbc = Object({{"type", Enum({"odbc", "database", "Odbc"})},
                      {"name", {{"type", "string"}}},
                      {"connection_string", {{"type", "string"}}},
                      {"write_mode", Ref("WriteMode")},
                      {"batch_size", {{"type", "integer"}, {"minimum", 1}, {"default", 1000}}}},
                     {{"type"}, {"name"}, {"connection_string"}, {"write_mode"}});
  json properties = {{"type", "object"},
                     {"additionalProperties", {{"type", {"string", "number", "boolean", "null"}}}}};
  json delta = Object(StorageProperties({{"type", Enum({"delta", "Delta"})},
                                         {"name", {{"type", "string"}}},
                                         {"location", Ref("Location")},
                                         {"write_mode", Ref("DeltaWriteMode")},
                                         {"mode", Ref("DeltaWriteMode")},
                                         {"partition_columns", StringList()},
                                         {"partition_cols", StringList()},
                                         {"table_properties", properties},
                                         {"metadata", ScalarMap()},
                                         {"custom_metadata", ScalarMap()},
                                         {"schema", Schema()}}),
                      {{"type"}, {"name"}, {"location"}, {"write_mode", "mode"}});
  return {{"oneOf", {in_memory, file, odbc, delta}}};
}

json Definitions() {
  return {
      {"Source", SourceSchema()},
      {"SourceFileType", SourceFileTypeSchema()},
      {"ParquetSourceOptions", SourceOptions(false)},
      {"CsvSourceOptions", SourceOptions(true)},
      {"JsonSourceOptions", SourceOptions(false)},
      {"PartitionColumn", PartitionColumnSchema()},
      {"Field", FieldSchema()},
      {"DataType", DataTypeSchema()},
      {"Location",
       {{"type", "string"},
        {"description",
         "A URL (s3://, gs://, az://, https://, file://) or a file "
         "path; relative paths are resolved against the working "
         "directory"}}},
      {"Stage", StageSchema()},
      {"Destination", DestinationSchema()},
      {"DestinationFileType", DestinationFileTypeSchema()},
      {"CsvDestinationOptions", CsvDestinationOptionsSchema()},
      {"WriteMode", WriteModeSchema()},
      {"CustomStatements",
       Object({{"pre_insert", {{"type", {"string", "null"}}}}, {"insert", {{"type", "string"}}}},
              {{"insert"}})},
      {"DeltaWriteMode", DeltaWriteModeSchema()},
      {"ReplaceCondition", Object({{"column", {{"type", "string"}}},
                                   {"value", {{"type", {"string", "number", "boolean"}}}}},
                                  {{"column"}, {"value"}})},
  };
}

}  // namespace

std::string JsonSchema() {
  json root = Object(
      {{"version", {{"type", "string"}, {"default", "v2"}}},
       {"sources", {{"type", "array"}, {"items", Ref("Source")}}},
       {"stages", {{"type", "array"}, {"items", {{"type", "array"}, {"items", Ref("Stage")}}}}},
       {"destination", {{"anyOf", {Ref("Destination"), {{"type", "null"}}}}}}},
      {{"sources"}, {"stages"}});
  json schema = {{"$schema", "http://json-schema.org/draft-07/schema#"},
                 {"title", "Aqueduct"},
                 {"description", "An Aqueducts pipeline: sources, stages and a destination"}};
  schema.update(root);
  schema["definitions"] = Definitions();
  return schema.dump(2);
}

}  // namespace aqueducts

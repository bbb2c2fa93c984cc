// The canonical JSON form: snake_case tags, every default written out.

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

namespace aqueducts {
namespace {

using json = nlohmann::ordered_json;

const char* FormatTag(FileFormat format) {
  switch (format) {
    case FileFormat::kParquet:
      return "parquet";
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kJson:
      return "json";
  }
  return "parquet";
}

json FieldsJson(const std::vector<Field>& fields) {
  json out = json::array();
  for (const Field& field : fields) {
    json item = {{"name", field.name},
                 {"data_type", ToString(field.data_type)},
                 {"nullable", field.nullable}};
    if (field.description) {
      item["description"] = *field.description;
    }
    out.push_back(std::move(item));
  }
  return out;
}

// A string map as an object (`{}` when empty, never null).
json StringMapJson(const std::map<std::string, std::string>& map) {
  return map.empty() ? json::object() : json(map);
}

// The value, or null when absent.
template <typename T>
json OrNull(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json SourceFormatJson(const SourceFileType& type) {
  json options = json::object();
  if (type.format == FileFormat::kCsv) {
    options["has_header"] = type.has_header;
    options["delimiter"] = std::string(1, type.delimiter);
    if (type.quoted_empty_as_null) {  // written only when not the default
      options["quoted_empty_as_null"] = true;
    }
  }
  options["schema"] = FieldsJson(type.schema);
  return {{"type", FormatTag(type.format)}, {"options", std::move(options)}};
}

json SourceJson(const Source& source) {
  json out = {{"type", SourceTypeName(source)}, {"name", SourceName(source)}};
  if (const auto* file = std::get_if<FileSource>(&source)) {
    out["format"] = SourceFormatJson(file->format);
    out["location"] = file->location.url;
    out["storage_config"] = StringMapJson(file->storage_config);
  } else if (const auto* dir = std::get_if<DirSource>(&source)) {
    out["format"] = SourceFormatJson(dir->format);
    json columns = json::array();
    for (const PartitionColumn& column : dir->partition_columns) {
      columns.push_back({column.name, ToString(column.data_type)});
    }
    out["partition_columns"] = std::move(columns);
    out["location"] = dir->location.url;
    out["storage_config"] = StringMapJson(dir->storage_config);
  } else if (const auto* odbc = std::get_if<OdbcSource>(&source)) {
    out["load_query"] = odbc->load_query;
    out["connection_string"] = odbc->connection_string;
  } else if (const auto* delta = std::get_if<DeltaSource>(&source)) {
    out["location"] = delta->location.url;
    out["storage_config"] = StringMapJson(delta->storage_config);
    out["version"] = OrNull(delta->version);
    out["timestamp"] = OrNull(delta->timestamp);
  }
  return out;
}

json StageJson(const Stage& stage) {
  return {{"name", stage.name},
          {"query", stage.query},
          {"show", OrNull(stage.show)},
          {"explain", stage.explain},
          {"explain_analyze", stage.explain_analyze},
          {"print_schema", stage.print_schema}};
}

json DestinationFormatJson(const DestinationFileType& type) {
  json out = {{"type", FormatTag(type.format)}};
  if (type.format == FileFormat::kParquet) {
    out["options"] = StringMapJson(type.parquet_options);
  } else if (type.format == FileFormat::kCsv) {
    out["options"] = {{"has_header", type.has_header},
                      {"delimiter", std::string(1, type.delimiter)},
                      {"compression", OrNull(type.compression)}};
  }
  return out;
}

json DeltaWriteModeJson(const DeltaWriteMode& mode) {
  switch (mode.operation) {
    case DeltaWriteMode::Operation::kAppend:
      return {{"operation", "append"}};
    case DeltaWriteMode::Operation::kUpsert:
      return {{"operation", "upsert"}, {"params", mode.upsert_keys}};
    case DeltaWriteMode::Operation::kReplace: {
      json params = json::array();
      for (const ReplaceCondition& c : mode.replace_conditions) {
        params.push_back({{"column", c.column}, {"value", c.value}});
      }
      return {{"operation", "replace"}, {"params", std::move(params)}};
    }
  }
  return {{"operation", "append"}};
}

json DestinationJson(const Destination& destination) {
  json out = {{"type", DestinationTypeName(destination)}, {"name", DestinationName(destination)}};
  if (const auto* file = std::get_if<FileDestination>(&destination)) {
    out["location"] = file->location.url;
    out["format"] = DestinationFormatJson(file->format);
    if (file->single_file.has_value()) {  // absent: the location decides
      out["single_file"] = *file->single_file;
    }
    out["partition_columns"] = file->partition_columns;
    out["storage_config"] = StringMapJson(file->storage_config);
  } else if (const auto* odbc = std::get_if<OdbcDestination>(&destination)) {
    out["connection_string"] = odbc->connection_string;
    if (odbc->write_mode.operation == OdbcWriteMode::Operation::kAppend) {
      out["write_mode"] = {{"operation", "append"}};
    } else {
      out["write_mode"] = {{"operation", "custom"},
                           {"transaction",
                            {{"pre_insert", OrNull(odbc->write_mode.pre_insert)},
                             {"insert", odbc->write_mode.insert}}}};
    }
    out["batch_size"] = odbc->batch_size;
  } else if (const auto* delta = std::get_if<DeltaDestination>(&destination)) {
    out["location"] = delta->location.url;
    out["write_mode"] = DeltaWriteModeJson(delta->write_mode);
    out["storage_config"] = StringMapJson(delta->storage_config);
    out["partition_columns"] = delta->partition_columns;
    json properties = json::object();
    for (const auto& [key, value] : delta->table_properties) {
      properties[key] = OrNull(value);
    }
    out["table_properties"] = std::move(properties);
    out["metadata"] = StringMapJson(delta->metadata);
    out["schema"] = FieldsJson(delta->schema);
  }
  return out;
}

}  // namespace

std::string ToJson(const Aqueduct& aqueduct, int indent) {
  json sources = json::array();
  for (const Source& source : aqueduct.sources) {
    sources.push_back(SourceJson(source));
  }
  json stages = json::array();
  for (const auto& group : aqueduct.stages) {
    json inner = json::array();
    for (const Stage& stage : group) {
      inner.push_back(StageJson(stage));
    }
    stages.push_back(std::move(inner));
  }
  json out = {{"version", aqueduct.version},
              {"sources", std::move(sources)},
              {"stages", std::move(stages)},
              {"destination",
               aqueduct.destination ? DestinationJson(*aqueduct.destination) : json(nullptr)}};
  // Replace invalid UTF-8 rather than throw: queries are user text.
  return out.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace aqueducts

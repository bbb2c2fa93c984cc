// Tree -> Destination.

#include "model/builder.h"

namespace aqueducts::model_internal {
namespace {

using Tags = std::vector<std::pair<std::string, std::string>>;

Result<DestinationFileType> ReadDestinationFileType(const TreeReader& reader, const Node& node,
                                                    const std::string& path) {
  AQ_RETURN_IF_ERROR(reader.ExpectMap(node, path));
  DestinationFileType type;
  AQ_ASSIGN_OR_RETURN(type.format, ReadFileFormatTag(reader, node, path));
  // A missing `options` means defaults; json takes no options.
  std::string options_path;
  const Node* options = reader.Find(node, {"options"}, path, &options_path);
  if (options == nullptr || type.format == FileFormat::kJson) {
    return type;
  }
  if (type.format == FileFormat::kParquet) {
    AQ_ASSIGN_OR_RETURN(type.parquet_options, reader.StringMap(*options, options_path));
    return type;
  }
  AQ_RETURN_IF_ERROR(reader.ExpectMap(*options, options_path));
  AQ_RETURN_IF_ERROR(reader.OptionalBool(*options, {"has_header"}, options_path, &type.has_header));
  AQ_RETURN_IF_ERROR(reader.OptionalChar(*options, {"delimiter"}, options_path, &type.delimiter));
  AQ_RETURN_IF_ERROR(
      reader.OptionalString(*options, {"compression"}, options_path, &type.compression));
  return type;
}

Result<Destination> ReadFileDestination(const TreeReader& reader, const Node& node,
                                        const std::string& path) {
  FileDestination destination;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &destination.name));
  AQ_RETURN_IF_ERROR(reader.RequiredLocation(node, {"location"}, path, &destination.location));
  std::string format_path;
  AQ_ASSIGN_OR_RETURN(const Node* format,
                      reader.Require(node, {"format", "file_type"}, path, &format_path));
  AQ_ASSIGN_OR_RETURN(destination.format, ReadDestinationFileType(reader, *format, format_path));
  if (reader.Find(node, {"single_file"}, path) != nullptr) {
    bool single_file = true;
    AQ_RETURN_IF_ERROR(reader.OptionalBool(node, {"single_file"}, path, &single_file));
    destination.single_file = single_file;
  }
  AQ_RETURN_IF_ERROR(reader.OptionalStringList(node, {"partition_columns", "partition_cols"}, path,
                                               &destination.partition_columns));
  AQ_RETURN_IF_ERROR(reader.OptionalStringMap(node, {"storage_config", "storage_options"}, path,
                                              &destination.storage_config));
  return Destination(std::in_place_type<decltype(destination)>, std::move(destination));
}

Result<Destination> ReadOdbcDestination(const TreeReader& reader, const Node& node,
                                        const std::string& path) {
  OdbcDestination destination;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &destination.name));
  AQ_RETURN_IF_ERROR(
      reader.RequiredString(node, {"connection_string"}, path, &destination.connection_string));
  std::string mode_path;
  AQ_ASSIGN_OR_RETURN(const Node* mode, reader.Require(node, {"write_mode"}, path, &mode_path));
  AQ_RETURN_IF_ERROR(reader.ExpectMap(*mode, mode_path));
  static const Tags kTags = {
      {"append", "append"}, {"Append", "append"}, {"custom", "custom"}, {"Custom", "custom"}};
  AQ_ASSIGN_OR_RETURN(std::string operation,
                      reader.Tag(*mode, "operation", mode_path, kTags, "write mode"));
  if (operation == "custom") {
    destination.write_mode.operation = OdbcWriteMode::Operation::kCustom;
    std::string transaction_path;
    AQ_ASSIGN_OR_RETURN(const Node* transaction,
                        reader.Require(*mode, {"transaction"}, mode_path, &transaction_path));
    AQ_RETURN_IF_ERROR(reader.ExpectMap(*transaction, transaction_path));
    AQ_RETURN_IF_ERROR(reader.OptionalString(*transaction, {"pre_insert"}, transaction_path,
                                             &destination.write_mode.pre_insert));
    AQ_RETURN_IF_ERROR(reader.RequiredString(*transaction, {"insert"}, transaction_path,
                                             &destination.write_mode.insert));
  }
  std::string batch_path;
  if (const Node* batch = reader.Find(node, {"batch_size"}, path, &batch_path)) {
    AQ_ASSIGN_OR_RETURN(destination.batch_size, reader.UInt(*batch, batch_path));
    if (destination.batch_size == 0) {
      return reader.Error(*batch, batch_path, "batch_size must be at least 1");
    }
  }
  return Destination(std::in_place_type<decltype(destination)>, std::move(destination));
}

Result<DeltaWriteMode> ReadDeltaWriteMode(const TreeReader& reader, const Node& mode,
                                          const std::string& mode_path) {
  AQ_RETURN_IF_ERROR(reader.ExpectMap(mode, mode_path));
  static const Tags kTags = {{"append", "append"}, {"Append", "append"},   {"upsert", "upsert"},
                             {"Upsert", "upsert"}, {"replace", "replace"}, {"Replace", "replace"}};
  AQ_ASSIGN_OR_RETURN(std::string operation,
                      reader.Tag(mode, "operation", mode_path, kTags, "write mode"));
  DeltaWriteMode write_mode;
  if (operation == "append") {
    return write_mode;
  }
  std::string params_path;
  AQ_ASSIGN_OR_RETURN(const Node* params,
                      reader.Require(mode, {"params"}, mode_path, &params_path));
  if (operation == "upsert") {
    write_mode.operation = DeltaWriteMode::Operation::kUpsert;
    AQ_ASSIGN_OR_RETURN(write_mode.upsert_keys, reader.StringList(*params, params_path));
    return write_mode;
  }
  write_mode.operation = DeltaWriteMode::Operation::kReplace;
  AQ_RETURN_IF_ERROR(reader.ExpectSequence(*params, params_path));
  for (size_t i = 0; i < params->items.size(); ++i) {
    const Node& item = params->items[i];
    std::string item_path = ItemPath(params_path, i);
    AQ_RETURN_IF_ERROR(reader.ExpectMap(item, item_path));
    ReplaceCondition condition;
    AQ_RETURN_IF_ERROR(reader.RequiredString(item, {"column"}, item_path, &condition.column));
    AQ_RETURN_IF_ERROR(reader.RequiredString(item, {"value"}, item_path, &condition.value));
    write_mode.replace_conditions.push_back(std::move(condition));
  }
  return write_mode;
}

Result<Destination> ReadDeltaDestination(const TreeReader& reader, const Node& node,
                                         const std::string& path) {
  DeltaDestination destination;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &destination.name));
  AQ_RETURN_IF_ERROR(reader.RequiredLocation(node, {"location"}, path, &destination.location));
  std::string mode_path;
  AQ_ASSIGN_OR_RETURN(const Node* mode,
                      reader.Require(node, {"write_mode", "mode"}, path, &mode_path));
  AQ_ASSIGN_OR_RETURN(destination.write_mode, ReadDeltaWriteMode(reader, *mode, mode_path));
  AQ_RETURN_IF_ERROR(reader.OptionalStringMap(node, {"storage_config", "storage_options"}, path,
                                              &destination.storage_config));
  AQ_RETURN_IF_ERROR(reader.OptionalStringList(node, {"partition_columns", "partition_cols"}, path,
                                               &destination.partition_columns));
  std::string properties_path;
  if (const Node* properties = reader.Find(node, {"table_properties"}, path, &properties_path)) {
    AQ_RETURN_IF_ERROR(reader.ExpectMap(*properties, properties_path));
    for (const auto& [key, value] : properties->entries) {
      if (value.IsNull()) {
        destination.table_properties[key] = std::nullopt;
        continue;
      }
      AQ_ASSIGN_OR_RETURN(destination.table_properties[key],
                          reader.String(value, properties_path + "." + key));
    }
  }
  AQ_RETURN_IF_ERROR(
      reader.OptionalStringMap(node, {"metadata", "custom_metadata"}, path, &destination.metadata));
  AQ_RETURN_IF_ERROR(reader.OptionalSchema(node, {"schema"}, path, &destination.schema));
  return Destination(std::in_place_type<decltype(destination)>, std::move(destination));
}

}  // namespace

Result<Destination> ReadDestination(const TreeReader& reader, const Node& node,
                                    const std::string& path) {
  AQ_RETURN_IF_ERROR(reader.ExpectMap(node, path));
  static const Tags kTags = {{"in_memory", "in_memory"}, {"memory", "in_memory"},
                             {"InMemory", "in_memory"},  {"file", "file"},
                             {"File", "file"},           {"odbc", "odbc"},
                             {"database", "odbc"},       {"Odbc", "odbc"},
                             {"delta", "delta"},         {"Delta", "delta"}};
  AQ_ASSIGN_OR_RETURN(std::string tag, reader.Tag(node, "type", path, kTags, "destination type"));
  if (tag == "in_memory") {
    InMemoryDestination destination;
    AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &destination.name));
    return Destination(std::in_place_type<decltype(destination)>, std::move(destination));
  }
  if (tag == "file") {
    return ReadFileDestination(reader, node, path);
  }
  if (tag == "odbc") {
    return ReadOdbcDestination(reader, node, path);
  }
  return ReadDeltaDestination(reader, node, path);
}

}  // namespace aqueducts::model_internal

// Tree -> Source.

#include "model/builder.h"

// g++ 12 reports a false -Wfree-nonheap-object when an early error return destroys the unused
// Source alternatives of Result<Source> (GCC bug 108088-like inlining noise).
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"

namespace aqueducts::model_internal {
namespace {

constexpr const char* kPartitionTypeContext = "Invalid data type in partition column: ";

// A partition column is written either ["col", "type"] or {name: col, data_type: type}.
Result<PartitionColumn> ReadPartitionColumn(const TreeReader& reader, const Node& node,
                                            const std::string& path) {
  PartitionColumn column;
  if (node.IsSequence()) {
    if (node.items.size() != 2) {
      return reader.Error(node, path,
                          "expected a pair [\"<column>\", \"<type>\"], got a list of " +
                              std::to_string(node.items.size()) + " item(s)");
    }
    AQ_ASSIGN_OR_RETURN(column.name, reader.String(node.items[0], path + "[0]"));
    AQ_ASSIGN_OR_RETURN(column.data_type,
                        reader.Type(node.items[1], path + "[1]", kPartitionTypeContext));
    return column;
  }
  if (!node.IsMap()) {
    return reader.Error(node, path,
                        "expected a pair [\"<column>\", \"<type>\"] or {name, data_type}");
  }
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &column.name));
  std::string type_path;
  AQ_ASSIGN_OR_RETURN(const Node* type, reader.Require(node, {"data_type"}, path, &type_path));
  AQ_ASSIGN_OR_RETURN(column.data_type, reader.Type(*type, type_path, kPartitionTypeContext));
  return column;
}

Result<SourceFileType> ReadFormat(const TreeReader& reader, const Node& node,
                                  const std::string& path) {
  std::string format_path;
  AQ_ASSIGN_OR_RETURN(const Node* format,
                      reader.Require(node, {"format", "file_type"}, path, &format_path));
  return ReadSourceFileType(reader, *format, format_path);
}

Result<Source> ReadFileSource(const TreeReader& reader, const Node& node, const std::string& path) {
  FileSource source;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &source.name));
  AQ_ASSIGN_OR_RETURN(source.format, ReadFormat(reader, node, path));
  AQ_RETURN_IF_ERROR(reader.RequiredLocation(node, {"location"}, path, &source.location));
  AQ_RETURN_IF_ERROR(reader.OptionalStringMap(node, {"storage_config", "storage_options"}, path,
                                              &source.storage_config));
  return Source(std::in_place_type<decltype(source)>, std::move(source));
}

Result<Source> ReadDirSource(const TreeReader& reader, const Node& node, const std::string& path) {
  DirSource source;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &source.name));
  AQ_ASSIGN_OR_RETURN(source.format, ReadFormat(reader, node, path));
  std::string columns_path;
  if (const Node* columns =
          reader.Find(node, {"partition_columns", "partition_cols"}, path, &columns_path)) {
    AQ_RETURN_IF_ERROR(reader.ExpectSequence(*columns, columns_path));
    for (size_t i = 0; i < columns->items.size(); ++i) {
      AQ_ASSIGN_OR_RETURN(PartitionColumn column, ReadPartitionColumn(reader, columns->items[i],
                                                                      ItemPath(columns_path, i)));
      source.partition_columns.push_back(std::move(column));
    }
  }
  AQ_RETURN_IF_ERROR(reader.RequiredLocation(node, {"location"}, path, &source.location));
  AQ_RETURN_IF_ERROR(reader.OptionalStringMap(node, {"storage_config", "storage_options"}, path,
                                              &source.storage_config));
  return Source(std::in_place_type<decltype(source)>, std::move(source));
}

Result<Source> ReadOdbcSource(const TreeReader& reader, const Node& node, const std::string& path) {
  OdbcSource source;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &source.name));
  AQ_RETURN_IF_ERROR(
      reader.RequiredString(node, {"load_query", "query"}, path, &source.load_query));
  AQ_RETURN_IF_ERROR(
      reader.RequiredString(node, {"connection_string"}, path, &source.connection_string));
  return Source(std::in_place_type<decltype(source)>, std::move(source));
}

Result<Source> ReadDeltaSource(const TreeReader& reader, const Node& node,
                               const std::string& path) {
  DeltaSource source;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &source.name));
  AQ_RETURN_IF_ERROR(reader.RequiredLocation(node, {"location"}, path, &source.location));
  AQ_RETURN_IF_ERROR(reader.OptionalStringMap(node, {"storage_config", "storage_options"}, path,
                                              &source.storage_config));
  std::string version_path;
  if (const Node* version = reader.Find(node, {"version"}, path, &version_path)) {
    AQ_ASSIGN_OR_RETURN(source.version, reader.Int(*version, version_path));
  }
  AQ_RETURN_IF_ERROR(reader.OptionalString(node, {"timestamp"}, path, &source.timestamp));
  return Source(std::in_place_type<decltype(source)>, std::move(source));
}

}  // namespace

Result<Source> ReadSource(const TreeReader& reader, const Node& node, const std::string& path) {
  AQ_RETURN_IF_ERROR(reader.ExpectMap(node, path));
  static const std::vector<std::pair<std::string, std::string>> kTags = {
      {"in_memory", "in_memory"}, {"memory", "in_memory"},    {"InMemory", "in_memory"},
      {"file", "file"},           {"File", "file"},           {"directory", "directory"},
      {"dir", "directory"},       {"Directory", "directory"}, {"odbc", "odbc"},
      {"database", "odbc"},       {"Odbc", "odbc"},           {"delta", "delta"},
      {"Delta", "delta"}};
  AQ_ASSIGN_OR_RETURN(std::string tag, reader.Tag(node, "type", path, kTags, "source type"));
  if (tag == "in_memory") {
    InMemorySource source;
    AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &source.name));
    return Source(std::in_place_type<decltype(source)>, std::move(source));
  }
  if (tag == "file") {
    return ReadFileSource(reader, node, path);
  }
  if (tag == "directory") {
    return ReadDirSource(reader, node, path);
  }
  if (tag == "odbc") {
    return ReadOdbcSource(reader, node, path);
  }
  return ReadDeltaSource(reader, node, path);
}

}  // namespace aqueducts::model_internal

#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aqueducts/data_type.h"

namespace aqueducts {

/// \brief A location: an absolute URL (docs/pipeline-format.md, "Locations"). Local paths are
/// stored as file:// URLs.
struct Location {
  std::string url;  ///< e.g. "file:///data/in.csv", "s3://bucket/key"

  /// The scheme in lower case ("file", "s3", ...).
  std::string Scheme() const;
  /// True for file:// URLs.
  bool IsLocal() const { return Scheme() == "file"; }
  /// The decoded filesystem path of a file:// URL; empty for other schemes.
  std::string LocalPath() const;
  bool operator==(const Location& o) const { return url == o.url; }
};

/// Turn a string from a pipeline file into a Location (docs/pipeline-format.md, "Locations"): URLs
/// are kept, absolute paths become file:// URLs, relative paths are joined to `base_dir` (the
/// process cwd when empty). Never fails: any string is accepted, as in the original.
Location ParseLocation(const std::string& text, const std::string& base_dir = {});

enum class FileFormat { kParquet, kCsv, kJson };

/// Storage options for object stores (docs/object-stores.md), string to string.
using StorageConfig = std::map<std::string, std::string>;

/// \brief The `format` of a file or directory source of docs/pipeline-format.md, "Sources".
struct SourceFileType {
  FileFormat format = FileFormat::kCsv;
  bool has_header = true;  ///< csv only; default true
  char delimiter = ',';    ///< csv only; default ','
  /// csv only; default false: a quoted empty string ("") is an empty string and only an empty
  /// field is NULL. true: both are NULL (the original system's reading).
  bool quoted_empty_as_null = false;
  std::vector<Field> schema;  ///< empty: infer

  bool operator==(const SourceFileType&) const = default;
};

struct InMemorySource {
  std::string name;

  bool operator==(const InMemorySource&) const = default;
};

struct FileSource {
  std::string name;
  SourceFileType format;
  Location location;
  StorageConfig storage_config;

  bool operator==(const FileSource&) const = default;
};

struct PartitionColumn {
  std::string name;
  DataType data_type;

  bool operator==(const PartitionColumn&) const = default;
};

struct DirSource {
  std::string name;
  SourceFileType format;
  std::vector<PartitionColumn> partition_columns;
  Location location;
  StorageConfig storage_config;

  bool operator==(const DirSource&) const = default;
};

struct OdbcSource {
  std::string name;
  std::string load_query;  ///< alias `query`
  std::string connection_string;

  bool operator==(const OdbcSource&) const = default;
};

struct DeltaSource {
  std::string name;
  Location location;
  StorageConfig storage_config;
  std::optional<int64_t> version;        ///< wins over timestamp
  std::optional<std::string> timestamp;  ///< RFC 3339

  bool operator==(const DeltaSource&) const = default;
};

using Source = std::variant<InMemorySource, FileSource, DirSource, OdbcSource, DeltaSource>;

/// The `name` of any source.
const std::string& SourceName(const Source& source);
/// The canonical `type` tag of a source ("file", "delta", ...).
const char* SourceTypeName(const Source& source);

/// \brief One SQL transformation (docs/pipeline-format.md, "Stages").
struct Stage {
  std::string name;
  std::string query;
  std::optional<uint64_t> show;  ///< 0: print all (capped at 500 rows); n: print n rows
  bool explain = false;
  bool explain_analyze = false;
  bool print_schema = false;

  bool operator==(const Stage&) const = default;
};

/// \brief The `format` of a file destination of docs/pipeline-format.md, "Destinations".
struct DestinationFileType {
  FileFormat format = FileFormat::kParquet;
  /// parquet: writer options (`compression`, `row_group_size`/`max_row_group_size`, ...).
  std::map<std::string, std::string> parquet_options;
  bool has_header = true;                  ///< csv
  char delimiter = ',';                    ///< csv
  std::optional<std::string> compression;  ///< csv (gzip, zstd, none)

  bool operator==(const DestinationFileType&) const = default;
};

struct InMemoryDestination {
  std::string name;

  bool operator==(const InMemoryDestination&) const = default;
};

struct FileDestination {
  std::string name;
  Location location;
  DestinationFileType format;
  /// Unset: the location decides (a trailing '/' or no extension, or partition_columns, means a
  /// directory). See docs/pipeline-format.md.
  std::optional<bool> single_file;
  std::vector<std::string> partition_columns;
  StorageConfig storage_config;

  bool operator==(const FileDestination&) const = default;
};

struct OdbcWriteMode {
  enum class Operation { kAppend, kCustom };
  Operation operation = Operation::kAppend;
  std::optional<std::string> pre_insert;  ///< custom only
  std::string insert;                     ///< custom only

  bool operator==(const OdbcWriteMode&) const = default;
};

struct OdbcDestination {
  std::string name;  ///< the target table
  std::string connection_string;
  OdbcWriteMode write_mode;
  uint64_t batch_size = 1000;

  bool operator==(const OdbcDestination&) const = default;
};

struct ReplaceCondition {
  std::string column;
  std::string value;

  bool operator==(const ReplaceCondition&) const = default;
};

struct DeltaWriteMode {
  enum class Operation { kAppend, kUpsert, kReplace };
  Operation operation = Operation::kAppend;
  std::vector<std::string> upsert_keys;              ///< upsert params
  std::vector<ReplaceCondition> replace_conditions;  ///< replace params

  bool operator==(const DeltaWriteMode&) const = default;
};

struct DeltaDestination {
  std::string name;
  Location location;
  DeltaWriteMode write_mode;
  StorageConfig storage_config;
  std::vector<std::string> partition_columns;
  std::map<std::string, std::optional<std::string>> table_properties;
  std::map<std::string, std::string> metadata;  ///< alias custom_metadata
  std::vector<Field> schema;

  bool operator==(const DeltaDestination&) const = default;
};

using Destination =
    std::variant<InMemoryDestination, FileDestination, OdbcDestination, DeltaDestination>;

const std::string& DestinationName(const Destination& destination);
const char* DestinationTypeName(const Destination& destination);

/// \brief A whole pipeline (docs/pipeline-format.md).
struct Aqueduct {
  std::string version = "v2";
  std::vector<Source> sources;
  std::vector<std::vector<Stage>> stages;  ///< outer: sequential groups; inner: parallel stages
  std::optional<Destination> destination;

  bool operator==(const Aqueduct&) const = default;
};

}  // namespace aqueducts

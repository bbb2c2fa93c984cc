#pragma once

// The Delta table schema (`schemaString`): parsing, DuckDB types, column mapping, partition
// values, and the schema we write for new tables.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

namespace aqueducts::delta {

/// \brief One top-level column of a Delta schema.
struct DeltaField {
  std::string name;           ///< logical name
  std::string physical_name;  ///< name in the Parquet files (column mapping), else = name
  nlohmann::json type;        ///< Delta type: a string or a nested object
  bool nullable = true;
  nlohmann::json metadata = nlohmann::json::object();
};

struct DeltaSchema {
  std::vector<DeltaField> fields;
  const DeltaField* Find(const std::string& name) const;
};

/// Parse `schemaString`. With `column_mapping` ("name" or "id") physical names come from
/// `delta.columnMapping.physicalName`.
Result<DeltaSchema> ParseSchemaString(const std::string& schema_string,
                                      const std::string& column_mapping);

/// The pipeline type of a Delta type ("long" -> int64, "timestamp" -> timestamp<us, UTC>,
/// "timestamp_ntz" -> timestamp<us>, "void" -> int32, arrays, maps and structs recursively).
Result<DataType> DataTypeOfDelta(const nlohmann::json& delta_type);
/// The DuckDB type for a Delta type: DataTypeOfDelta, then the engine's one mapping of pipeline
/// types to DuckDB (engine/type_names.h).
Result<std::string> DuckDbType(const nlohmann::json& delta_type);

/// SQL that reads column `field` from a Parquet scan and yields the logical column: renames nested
/// physical names when column mapping is on. `file_type` is the DuckDB type DuckDB reads from the
/// file (empty: unknown), used to read timestamps without zone as UTC instants.
Result<std::string> ColumnReadExpr(const DeltaField& field, bool column_mapping,
                                   const std::string& file_type);

/// A SQL literal for a serialized partition value (NULL when nullopt or "").
Result<std::string> PartitionValueLiteral(const nlohmann::json& delta_type,
                                          const std::optional<std::string>& value);

/// The Delta type of a pipeline data type ("int64" -> "long", timestamps -> "timestamp"...).
Result<nlohmann::json> DeltaTypeOf(const DataType& type);
/// The schemaString object for pipeline fields.
Result<nlohmann::json> SchemaJsonOf(const std::vector<Field>& fields);

/// Format microseconds since the epoch as "YYYY-MM-DD HH:MM:SS.ffffff".
std::string FormatMicros(int64_t micros);

}  // namespace aqueducts::delta

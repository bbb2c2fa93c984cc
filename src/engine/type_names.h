#pragma once

// The one mapping between the pipeline's data types and DuckDB's SQL type names. DuckDB-free:
// the names are SQL text, so io, delta, odbc and the runner build casts and read schemas
// without the DuckDB header. Other type systems map to pipeline types first and reuse this
// (Delta: delta/schema.h DataTypeOfDelta; ODBC: odbc/column_plan.h). The bulk row paths
// (appender, result stream) take DuckDB LogicalTypes from engine/column_types.h, which derives
// them from these names (adding only the layout's rule: microsecond timestamps).

#include <string>
#include <vector>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

namespace aqueducts::engine {

/// The DuckDB SQL type for `type`: int32 -> INTEGER, utf8 -> VARCHAR, timestamp with a time
/// zone -> TIMESTAMPTZ, timestamp<ms> -> TIMESTAMP_MS, list<T> -> T[], struct -> STRUCT(...),
/// map -> MAP(K, V), dictionary -> its value type. kUnsupported for decimal precision > 38.
Result<std::string> DuckDbTypeName(const DataType& type);

/// The pipeline type of a DuckDB type name as DESCRIBE prints it, for the types a pipeline
/// writes to a typed destination: booleans, integers, floats, VARCHAR, BLOB, DATE, TIMESTAMP
/// (and WITH TIME ZONE, as UTC), DECIMAL(p,s) and lists of these. kUnsupported otherwise.
Result<DataType> DataTypeOfDuckDbName(const std::string& duckdb_type);

/// A DuckDB struct literal of column types for read_csv/read_json `columns=`:
/// {'a': 'INTEGER', 'b': 'VARCHAR'}.
Result<std::string> ColumnsLiteral(const std::vector<Field>& schema);

}  // namespace aqueducts::engine

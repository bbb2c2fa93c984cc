#pragma once

// Mapping of pipeline data types to DuckDB type names. DuckDB-free: the names are
// SQL text, so io, delta and others can build casts and read schemas without the engine header.

#include <string>
#include <vector>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

namespace aqueducts::io {

/// The DuckDB SQL type for `type`: int32 -> INTEGER, utf8 -> VARCHAR, timestamp with a time
/// zone -> TIMESTAMPTZ, timestamp<ms> -> TIMESTAMP_MS, list<T> -> T[], struct -> STRUCT(...),
/// map -> MAP(K, V), dictionary -> its value type. kUnsupported for decimal precision > 38.
Result<std::string> DuckDbTypeName(const DataType& type);

/// A DuckDB struct literal of column types for read_csv/read_json `columns=`:
/// {'a': 'INTEGER', 'b': 'VARCHAR'}.
Result<std::string> ColumnsLiteral(const std::vector<Field>& schema);

}  // namespace aqueducts::io

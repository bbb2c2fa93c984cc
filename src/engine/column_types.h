#pragma once

// Pipeline data types as DuckDB logical types, for the bulk row paths (TableAppender,
// ResultStream), derived from the one name mapping in type_names.h. DuckDB-free header: DuckDB
// types are only forward-declared.

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

namespace duckdb {
struct LogicalType;
}

namespace aqueducts::engine {

/// Set `*out` to the DuckDB type storing `type` (see column_batch.h for the value layout).
/// kUnsupported for nested and other types that have no flat column form.
Status ToLogicalType(const DataType& type, duckdb::LogicalType* out);

/// The pipeline type a DuckDB column is read as. Types without a flat form (lists, structs,
/// intervals, ...) read as utf8 text.
DataType FromLogicalType(const duckdb::LogicalType& type);

}  // namespace aqueducts::engine

#pragma once

// DataFusion's arrow_cast(value, 'ArrowType') on DuckDB (docs/sql-functions.md).

#include <string>

#include "aqueducts/status.h"

namespace duckdb {
class DatabaseInstance;
struct LogicalType;
}  // namespace duckdb

namespace aqueducts::engine {

/// Map an Arrow type name as DataFusion writes it ("Int64", "Utf8", "Timestamp(Millisecond,
/// None)", "Decimal128(10, 2)", "List(Int32)", "Dictionary(Int32, Utf8)", ...) to the DuckDB
/// type a cast produces. Unknown names are kInvalidArgument naming the text.
Result<duckdb::LogicalType> ParseArrowType(const std::string& text);

/// Register the scalar function arrow_cast(ANY, VARCHAR) in the database's system catalog.
/// Throws DuckDB's exception when it already exists (callers check first).
void RegisterArrowCast(duckdb::DatabaseInstance& db);

}  // namespace aqueducts::engine

#pragma once

// Translation of DuckDB errors into Status values: the one place exceptions become values.
// DuckDB-free header (forward declarations only).

#include <exception>

#include "aqueducts/status.h"

namespace duckdb {
class ErrorData;
class QueryResult;
}  // namespace duckdb

namespace aqueducts::engine {

/// Map a DuckDB error: interrupt -> kCancelled, out of memory -> kOutOfMemory, parser ->
/// kSqlError, anything else -> kExecutionError; the message is DuckDB's.
Status FromErrorData(const duckdb::ErrorData& error);
/// As FromErrorData, for an exception thrown by DuckDB (or anything else).
Status FromException(const std::exception& e);
/// OK, or the first error of a result chain.
Status CheckResult(duckdb::QueryResult& result);

}  // namespace aqueducts::engine

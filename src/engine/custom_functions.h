#pragma once

// The custom SQL functions of docs/sql-functions.md (unnest_json_array and the json_get* family).

#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace duckdb {
class Connection;
}

namespace aqueducts::engine {

/// Create the functions as SQL macros in the database's default schema (visible to every
/// connection). Idempotent (CREATE OR REPLACE).
///
/// Notes for users: DuckDB's own `->` (json_extract) and `->>` (json_extract_string) operators
/// work on JSON text; the `?` operator of the original (json_contains) cannot be added to
/// DuckDB's grammar: call json_contains(json, key) instead. Up to 8 path arguments are accepted
/// (string: object key, integer: array index).
Status RegisterCustomFunctions(duckdb::Connection& conn);

class Connection;

/// Create the DataFusion functions (datafusion_functions.h) that `queries` name, in the
/// database of `conn` (macros in the default schema; arrow_cast as a C++ function in the system
/// catalog). Creating all of them costs a noticeable part of a second per database, so the
/// runner calls this with a pipeline's stage queries before running them. Idempotent.
Status RegisterDataFusionFunctions(Connection& conn, const std::vector<std::string>& queries);

}  // namespace aqueducts::engine

#pragma once

// The custom SQL functions of spec §3.4 (unnest_json_array and the json_get* family).

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
/// DuckDB's grammar: call json_contains(json, key) instead. Up to 5 path arguments are accepted
/// (string: object key, integer: array index).
Status RegisterCustomFunctions(duckdb::Connection& conn);

}  // namespace aqueducts::engine

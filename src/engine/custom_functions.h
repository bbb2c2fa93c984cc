#pragma once

// The custom SQL functions of docs/sql-functions.md (unnest_json_array and the json_get* family).

#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace duckdb {
class Connection;
class DatabaseInstance;
}  // namespace duckdb

namespace aqueducts::engine {

/// Create the functions, visible to every connection of the database: the json_get* family as
/// C++ functions in the system catalog (json_functions.h, once per database), unnest_json_array
/// and json_contains as SQL macros in the default schema. Idempotent.
///
/// Notes for users: DuckDB's own `->` (json_extract) and `->>` (json_extract_string) operators
/// work on JSON text; the `?` operator of the original (json_contains) cannot be added to
/// DuckDB's grammar: call json_contains(json, key) instead. Paths take any number of steps
/// (string: object key, integer: array index); json_contains up to 32.
Status RegisterCustomFunctions(duckdb::Connection& conn);

/// Run `register_fn` (which adds C++ functions to the system catalog) unless a function named
/// `probe` exists already: once per database, also when a borrowed database is wrapped more than
/// once or connections race.
Status RegisterSystemFunctionsOnce(duckdb::Connection& conn, const std::string& probe,
                                   void (*register_fn)(duckdb::DatabaseInstance&));

class Connection;

/// Create the DataFusion functions (datafusion_functions.h) that `queries` name, in the
/// database of `conn` (macros in the default schema; arrow_cast as a C++ function in the system
/// catalog). Creating all of them costs a noticeable part of a second per database, so the
/// runner calls this with a pipeline's stage queries before running them. Idempotent.
Status RegisterDataFusionFunctions(Connection& conn, const std::vector<std::string>& queries);

}  // namespace aqueducts::engine

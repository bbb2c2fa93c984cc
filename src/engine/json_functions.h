#pragma once

// The json_get* SQL functions (docs/sql-functions.md) as C++ functions with a variadic path.

namespace duckdb {
class DatabaseInstance;
}

namespace aqueducts::engine {

/// Register json_get, json_get_json, json_get_str, json_get_int, json_get_float, json_get_bool,
/// json_get_array, json_as_text, json_length, json_object_keys and __aq_json_contains in the
/// system catalog of `db`. Once per database: a second call throws (the names exist).
void RegisterJsonFunctions(duckdb::DatabaseInstance& db);

}  // namespace aqueducts::engine

#pragma once

// How query results are shown as text (Database::Rows, Render).

#include <string>

namespace duckdb {
class Value;
}

namespace aqueducts::engine {

/// The text of a non-null value. Lists print their elements unquoted, as Arrow's printer does
/// (`[1, 2]`, `["foo", "bar"]` for JSON texts); everything else as DuckDB prints it.
std::string ValueText(const duckdb::Value& value);

}  // namespace aqueducts::engine

#pragma once

// How query results are shown as text (Database::Rows, Render).

#include <cstdint>
#include <string>

#include "aqueducts/run.h"

namespace duckdb {
class Value;
}

namespace aqueducts::engine {

/// The text of a non-null value. Lists print their elements unquoted, as Arrow's printer does
/// (`[1, 2]`, `["foo", "bar"]` for JSON texts); everything else as DuckDB prints it.
std::string ValueText(const duckdb::Value& value);

/// The row count a CREATE TABLE AS, COPY or INSERT reports (the first cell of its result), or
/// -1 when the result holds none.
int64_t ReportedRowCount(const Database::Rows& rows);

}  // namespace aqueducts::engine

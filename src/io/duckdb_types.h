#pragma once

// The io module's names for the engine's one mapping of pipeline data types to DuckDB's
// (engine/type_names.h).

#include "engine/type_names.h"

namespace aqueducts::io {

using engine::ColumnsLiteral;
using engine::DuckDbTypeName;

}  // namespace aqueducts::io

#pragma once

// Rewrites of stage SQL where DuckDB parses a DataFusion form but gives it another meaning.

#include <string>

namespace aqueducts::engine {

/// `sql` with DataFusion forms that DuckDB reads differently rewritten, through DuckDB's parser,
/// into DuckDB forms with DataFusion's meaning; `sql` itself when it has none, or when it does
/// not parse (running it then reports DuckDB's own error). The rewrites:
/// - a cast of the JSON arrow to text, `(doc -> 'key')::VARCHAR` (also CAST and TRY_CAST, to
///   VARCHAR, TEXT or STRING), becomes `json_extract_string(doc, 'key')`: a string's text
///   without its JSON quotes, anything else as its JSON text, NULL for a missing key, as the
///   original gives;
/// - the aggregates `first_value(x ORDER BY y)` and `last_value(...)` (without OVER) become
///   DuckDB's `first`/`last`, and `nth_value(x, n ORDER BY y)` becomes `list(x ORDER BY y)[n]`.
std::string RewriteDataFusionSql(const std::string& sql);

}  // namespace aqueducts::engine

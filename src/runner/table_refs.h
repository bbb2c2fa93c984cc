#pragma once

// Which names a stage's SQL mentions: an identifier tokenizer
// instead of the original's regex, so FROM(x), ,x and "x" count and comments/strings do not.

#include <map>
#include <string>

#include "common/text.h"

namespace aqueducts::runner {

/// Every identifier of `sql` (quoted or not), lower-cased as DuckDB compares identifiers
/// case-insensitively, with how many times it occurs. String literals ('...', E'...',
/// $$...$$), `--` and `/* */` comments are skipped; keywords are identifiers too, which is
/// harmless since only stage names are looked up.
std::map<std::string, int> IdentifierCounts(const std::string& sql);

}  // namespace aqueducts::runner

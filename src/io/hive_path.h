#pragma once

// Hive-style partition directory names, `column=value`, written so that every value reads back
// as itself: NULL is `__HIVE_DEFAULT_PARTITION__`, and the characters Hive escapes (control
// characters, `"#%'*/:=?\{[]^`, DEL) become `%XX` (upper-case hex of the byte), as does the first
// character of a literal `__HIVE_DEFAULT_PARTITION__`. Other bytes (spaces, non-ASCII UTF-8) are
// kept. See docs/pipeline-format.md ("Partitioned directories").

#include <optional>
#include <string>

namespace aqueducts::io {

inline constexpr char kHiveNull[] = "__HIVE_DEFAULT_PARTITION__";

/// The escaped form of a non-NULL value (or of a column name).
std::string HiveEscape(const std::string& value);

/// The directory name component for `column` = `value` (nullopt: NULL).
std::string HiveDirectory(const std::string& column, const std::optional<std::string>& value);

/// The inverse of HiveEscape: every `%XX` with two hex digits becomes its byte; anything else is
/// kept as it is.
std::string HiveUnescape(const std::string& text);

/// A SQL expression (DuckDB) giving the decoded value of partition `column` for a row whose file
/// path is the VARCHAR expression `path_sql`: NULL for `__HIVE_DEFAULT_PARTITION__` or when the
/// path has no `column=` directory, else the HiveUnescape'd text.
std::string HiveValueSql(const std::string& path_sql, const std::string& column);

}  // namespace aqueducts::io

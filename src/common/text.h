#pragma once

// Small text helpers every module uses (ASCII only: identifiers, keys, schemes, SQL keywords).

#include <string>
#include <string_view>

namespace aqueducts {

/// ASCII whitespace: space, tab, CR, LF, form feed, vertical tab.
inline constexpr std::string_view kAsciiSpace = " \t\r\n\f\v";

/// `text` with ASCII letters lower-cased; other bytes (UTF-8 included) unchanged.
std::string ToLowerAscii(std::string_view text);

/// `text` without the characters of `chars` at both ends.
std::string_view Trim(std::string_view text, std::string_view chars = kAsciiSpace);

/// Appends `text` as a JSON string literal: quoted, with `"` `\` and control characters escaped
/// (\n \r \t, others \u00XX); other bytes, UTF-8 included, as they are.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace aqueducts

#pragma once

// UTF-8 <-> UTF-16 (SQLWCHAR) conversion: all text crosses the ODBC API in wide form, so the
// driver manager never guesses a locale encoding and non-ASCII text round-trips exactly.

#include <string>
#include <string_view>

#include <sql.h>

namespace aqueducts::odbc {

using WideString = std::basic_string<SQLWCHAR>;

/// UTF-8 to UTF-16. Invalid bytes become U+FFFD.
WideString ToWide(std::string_view utf8);
/// UTF-16 (`length` code units) to UTF-8. Unpaired surrogates become U+FFFD.
std::string FromWide(const SQLWCHAR* text, size_t length);
inline std::string FromWide(const WideString& text) {
  return FromWide(text.data(), text.size());
}

}  // namespace aqueducts::odbc

#include "io/hive_path.h"

#include <cstring>

#include "common/hex.h"
#include "engine/session.h"

namespace aqueducts::io {
namespace {

bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == 0x7f || std::strchr("\"#%'*/:=?\\{[]^", c) != nullptr;
}

// `text` as an RE2 pattern matching it literally.
std::string RegexLiteral(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::strchr("\\^$.|?*+()[]{}", c) != nullptr) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string HiveEscape(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); i++) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    // A literal "__HIVE_DEFAULT_PARTITION__" must not read back as NULL.
    bool literal_null = i == 0 && value == kHiveNull;
    if (NeedsEscape(c) || literal_null) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string HiveDirectory(const std::string& column, const std::optional<std::string>& value) {
  return HiveEscape(column) + "=" + (value ? HiveEscape(*value) : std::string(kHiveNull));
}

std::string HiveUnescape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigitValue(text[i + 1]) >= 0 &&
        HexDigitValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string HiveValueSql(const std::string& path_sql, const std::string& column) {
  // The last "<column>=<value>/" component of the path (the one nearest the file).
  std::string pattern =
      engine::QuoteLiteral("^(?:.*/)?" + RegexLiteral(HiveEscape(column)) + "=([^/]*)/");
  std::string raw = "regexp_extract(" + path_sql + ", " + pattern + ", 1)";
  // url_decode decodes %XX; '+' is protected first so that it stays a '+' (Hive never turns '+'
  // into a space).
  return "CASE WHEN NOT regexp_matches(" + path_sql + ", " + pattern + ") OR " + raw + " = " +
         engine::QuoteLiteral(kHiveNull) + " THEN NULL ELSE url_decode(replace(" + raw +
         ", '+', '%2B')) END";
}

}  // namespace aqueducts::io

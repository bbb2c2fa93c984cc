#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"

namespace aqueducts::model_internal {

/// Strip ASCII whitespace from both ends.
using ::aqueducts::Trim;

/// How many bytes of a value an error message echoes (kEchoMax) before it is cut.
inline constexpr size_t kEchoMax = 80;

/// `value` for quoting in a message: whole when short, else its first kEchoMax bytes (cut at a
/// UTF-8 character boundary) and "... (N bytes)". Control characters are shown as \xNN so a
/// message stays one readable line.
inline std::string Echo(std::string_view value) {
  size_t keep = value.size();
  if (keep > kEchoMax) {
    keep = kEchoMax;
    while (keep > 0 && (static_cast<unsigned char>(value[keep]) & 0xC0) == 0x80) {
      --keep;
    }
  }
  std::string out;
  for (size_t i = 0; i < keep; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7F) {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (keep < value.size()) {
    out += "... (" + std::to_string(value.size()) + " bytes)";
  }
  return out;
}

/// Join items with ", ".
template <typename Container>
std::string JoinComma(const Container& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += item;
  }
  return out;
}

/// Edit distance counting insertions, deletions, substitutions and swaps of adjacent characters
/// as one edit each ("shwo" is 1 from "show").
size_t EditDistance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` when it is close enough to be a likely typo (at most 2 edits,
/// or a third of the word's length for long words); empty when none is.
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace aqueducts::model_internal

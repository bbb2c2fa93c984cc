#pragma once

#include <string>
#include <string_view>

namespace aqueducts::model_internal {

/// Strip ASCII whitespace from both ends.
inline std::string_view Trim(std::string_view text) {
  const char* kSpace = " \t\r\n\f\v";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
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

}  // namespace aqueducts::model_internal

#include "common/redact.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "common/text.h"

namespace aqueducts {
namespace {

constexpr size_t kMinSecret = 3;
constexpr size_t kMaxRemembered = 4096;

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& Remembered() {
  static std::set<std::string> secrets;
  return secrets;
}

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool IsSecretKey(std::string_view key) {
  std::string k = ToLowerAscii(key);
  return k == "pwd" || k == "pass" || k.find("password") != std::string::npos ||
         k.find("passwd") != std::string::npos || k.find("secret") != std::string::npos ||
         k.find("token") != std::string::npos;
}

// Byte ranges [begin, end) of the credential values in `text`.
std::vector<std::pair<size_t, size_t>> SecretRanges(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> ranges;
  // KEY=VALUE of connection strings.
  for (size_t eq = text.find('='); eq != std::string_view::npos; eq = text.find('=', eq + 1)) {
    size_t key_end = eq;
    while (key_end > 0 && (text[key_end - 1] == ' ' || text[key_end - 1] == '\t')) {
      --key_end;
    }
    size_t key_begin = key_end;
    while (key_begin > 0 && IsKeyChar(text[key_begin - 1])) {
      --key_begin;
    }
    if (key_begin == key_end || !IsSecretKey(text.substr(key_begin, key_end - key_begin))) {
      continue;
    }
    size_t v = eq + 1;
    while (v < text.size() && (text[v] == ' ' || text[v] == '\t')) {
      ++v;
    }
    size_t end = v;
    if (v < text.size() && text[v] == '{') {
      // {braced}: '}}' is an escaped '}'. Unbalanced: the value runs to ';' or the end.
      size_t j = v + 1;
      bool closed = false;
      while (j < text.size()) {
        if (text[j] == '}' && j + 1 < text.size() && text[j + 1] == '}') {
          j += 2;
        } else if (text[j] == '}') {
          closed = true;
          ++j;
          break;
        } else {
          ++j;
        }
      }
      end = closed ? j : std::min(text.size(), text.find_first_of(";\r\n", v));
    } else {
      end = std::min(text.size(), text.find_first_of(";'\"}\r\n", v));
    }
    if (end > v) {
      ranges.emplace_back(v, end);
    }
  }
  // scheme://user:password@host
  for (size_t s = text.find("://"); s != std::string_view::npos; s = text.find("://", s + 3)) {
    size_t begin = s + 3;
    size_t stop = std::min(text.size(), text.find_first_of("/?#\"' \t\r\n", begin));
    size_t at = text.rfind('@', stop == 0 ? 0 : stop - 1);
    if (at == std::string_view::npos || at < begin || at >= stop) {
      continue;
    }
    size_t colon = text.find(':', begin);
    if (colon != std::string_view::npos && colon < at && at > colon + 1) {
      ranges.emplace_back(colon + 1, at);
    }
  }
  return ranges;
}

}  // namespace

std::string RedactSecrets(std::string text) {
  if (text.empty()) {
    return text;
  }
  auto ranges = SecretRanges(text);
  std::sort(ranges.begin(), ranges.end());
  std::string out;
  size_t copied = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin < copied) {
      continue;  // overlaps one already replaced
    }
    out.append(text, copied, begin - copied);
    out += "***";
    copied = end;
  }
  out.append(text, copied, std::string::npos);
  std::lock_guard<std::mutex> lock(Mu());
  for (const std::string& secret : Remembered()) {
    for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 3)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

void RegisterSecretsIn(std::string_view text) {
  auto ranges = SecretRanges(text);
  std::lock_guard<std::mutex> lock(Mu());
  for (const auto& [begin, end] : ranges) {
    std::string value(text.substr(begin, end - begin));
    if (value.size() >= 2 && value.front() == '{' && value.back() == '}') {
      value = value.substr(1, value.size() - 2);  // a driver may echo the unbraced password
    }
    if (value.size() >= kMinSecret && value != "***" && Remembered().size() < kMaxRemembered) {
      Remembered().insert(value);
    }
  }
}

}  // namespace aqueducts

#include "odbc/redact.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/text.h"

namespace aqueducts::odbc {

namespace {

// One KEY=VALUE attribute of a connection string, as byte ranges of the value.
struct Attribute {
  std::string key;
  size_t value_begin = 0;
  size_t value_end = 0;
};

bool IsSecretKey(const std::string& key) {
  const std::string k = ToLowerAscii(Trim(key, " \t"));
  return k == "pwd" || k.find("password") != std::string::npos ||
         k.find("secret") != std::string::npos || k.find("token") != std::string::npos;
}

// ODBC grammar: attributes separated by ';'; a value may be {braced}, where '}}' escapes '}'
// and ';' is literal.
std::vector<Attribute> ParseAttributes(const std::string& s) {
  std::vector<Attribute> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t eq = s.find('=', i);
    size_t semi = s.find(';', i);
    if (eq == std::string::npos || (semi != std::string::npos && semi < eq)) {
      i = semi == std::string::npos ? s.size() : semi + 1;
      continue;
    }
    Attribute attr;
    attr.key = s.substr(i, eq - i);
    size_t v = eq + 1;
    while (v < s.size() && (s[v] == ' ' || s[v] == '\t')) {
      ++v;
    }
    attr.value_begin = v;
    if (v < s.size() && s[v] == '{') {
      size_t j = v + 1;
      while (j < s.size()) {
        if (s[j] == '}') {
          if (j + 1 < s.size() && s[j + 1] == '}') {
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        ++j;
      }
      attr.value_end = j;
      size_t next = s.find(';', j);
      i = next == std::string::npos ? s.size() : next + 1;
    } else {
      attr.value_end = semi == std::string::npos ? s.size() : semi;
      i = semi == std::string::npos ? s.size() : semi + 1;
    }
    out.push_back(attr);
  }
  return out;
}

// Values shorter than 3 bytes are left alone: replacing every "a" of a message would make it
// unreadable, and such a password is no secret worth hiding.
void ReplaceAll(std::string* text, const std::string& needle) {
  if (needle.size() < 3) {
    return;
  }
  for (size_t pos = text->find(needle); pos != std::string::npos;
       pos = text->find(needle, pos + 3)) {
    text->replace(pos, needle.size(), "***");
  }
}

}  // namespace

std::string RedactConnectionString(const std::string& connection_string) {
  std::string out;
  size_t copied = 0;
  for (const Attribute& attr : ParseAttributes(connection_string)) {
    if (!IsSecretKey(attr.key)) {
      continue;
    }
    out.append(connection_string, copied, attr.value_begin - copied);
    out += "***";
    copied = attr.value_end;
  }
  out.append(connection_string, copied, std::string::npos);
  return out;
}

std::string RedactSecrets(std::string text, const std::string& connection_string) {
  for (const Attribute& attr : ParseAttributes(connection_string)) {
    if (!IsSecretKey(attr.key)) {
      continue;
    }
    std::string value = std::string(
        Trim(connection_string.substr(attr.value_begin, attr.value_end - attr.value_begin), " \t"));
    // Both the raw {braced} form and the unescaped password may appear in a message.
    ReplaceAll(&text, value);
    if (value.size() >= 2 && value.front() == '{' && value.back() == '}') {
      std::string inner = value.substr(1, value.size() - 2);
      for (size_t p = inner.find("}}"); p != std::string::npos; p = inner.find("}}", p + 1)) {
        inner.erase(p, 1);
      }
      ReplaceAll(&text, inner);
    }
  }
  return text;
}

}  // namespace aqueducts::odbc

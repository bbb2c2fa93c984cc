#include "odbc/driver_options.h"

#include <algorithm>
#include <cctype>

namespace aqueducts::odbc {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::vector<AttributeSpan> SplitConnectionString(const std::string& connection_string) {
  std::vector<AttributeSpan> spans;
  size_t i = 0;
  while (i < connection_string.size()) {
    AttributeSpan span;
    span.begin = i;
    span.eq = connection_string.find('=', i);
    if (span.eq == std::string::npos) {
      span.end = connection_string.size();
      spans.push_back(span);
      break;
    }
    span.name = Lower(connection_string.substr(i, span.eq - i));
    span.name.erase(0, span.name.find_first_not_of(" \t;"));
    span.name.erase(span.name.find_last_not_of(" \t") + 1);
    size_t end = span.eq + 1;
    while (end < connection_string.size() && connection_string[end] == ' ') {
      ++end;
    }
    if (end < connection_string.size() && connection_string[end] == '{') {
      end = connection_string.find('}', end);
      end = end == std::string::npos ? connection_string.size() : end + 1;
    }
    span.end = std::min(connection_string.find(';', end), connection_string.size());
    spans.push_back(span);
    i = span.end + 1;
  }
  return spans;
}

std::string ConnectionAttribute(const std::string& connection_string, const std::string& key) {
  const std::string wanted = Lower(key);
  for (const AttributeSpan& span : SplitConnectionString(connection_string)) {
    if (span.eq != std::string::npos && span.name == wanted) {
      return connection_string.substr(span.eq + 1, span.end - span.eq - 1);
    }
  }
  return "";
}

bool IsPostgresDriver(const std::string& connection_string) {
  const std::string driver = Lower(ConnectionAttribute(connection_string, "Driver"));
  return driver.find("postgres") != std::string::npos ||
         driver.find("psqlodbc") != std::string::npos;
}

namespace {

std::string WithSeparator(std::string s) {
  if (!s.empty() && s.back() != ';') {
    s += ';';
  }
  return s;
}

}  // namespace

std::string TuneForWriting(const std::string& connection_string, uint64_t batch_size) {
  if (!IsPostgresDriver(connection_string) ||
      !ConnectionAttribute(connection_string, "BatchSize").empty()) {
    return connection_string;
  }
  return WithSeparator(connection_string) + "BatchSize=" + std::to_string(batch_size) + ";";
}

std::string TuneForStreaming(const std::string& connection_string) {
  if (!IsPostgresDriver(connection_string)) {
    return connection_string;
  }
  std::string out = WithSeparator(connection_string);
  if (ConnectionAttribute(out, "UseDeclareFetch").empty()) {
    out += "UseDeclareFetch=1;";
    if (ConnectionAttribute(out, "Fetch").empty()) {
      out += "Fetch=4096;";
    }
  }
  if (ConnectionAttribute(out, "BoolsAsChar").empty()) {
    out += "BoolsAsChar=0;";
  }
  if (ConnectionAttribute(out, "NumericAs").empty()) {
    out += "NumericAs=-1;";  // a numeric without precision as SQL_LONGVARCHAR, not (28,6)
  }
  return out;
}

}  // namespace aqueducts::odbc

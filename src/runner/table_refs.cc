#include "runner/table_refs.h"

#include <cctype>

namespace aqueducts::runner {
namespace {

bool IsIdentStart(unsigned char c) {
  return std::isalpha(c) || c == '_' || c >= 0x80;
}
bool IsIdentChar(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

// Index just past the quoted run starting at `i` (sql[i] == quote); a doubled quote is an
// escaped one. Unterminated: the end of the text.
size_t SkipQuoted(const std::string& sql, size_t i, char quote, std::string* content) {
  for (size_t j = i + 1; j < sql.size(); j++) {
    if (sql[j] != quote) {
      if (content) {
        *content += sql[j];
      }
      continue;
    }
    if (j + 1 < sql.size() && sql[j + 1] == quote) {
      if (content) {
        *content += quote;
      }
      j++;
      continue;
    }
    return j + 1;
  }
  return sql.size();
}

// $tag$ ... $tag$ (PostgreSQL dollar quoting, which DuckDB accepts).
size_t SkipDollarQuoted(const std::string& sql, size_t i) {
  size_t close = sql.find('$', i + 1);
  if (close == std::string::npos) {
    return i + 1;
  }
  std::string tag = sql.substr(i, close - i + 1);
  for (size_t k = i + 1; k < close; k++) {
    if (!IsIdentChar(static_cast<unsigned char>(sql[k]))) {
      return i + 1;  // not a dollar quote (e.g. a positional parameter $1)
    }
  }
  size_t end = sql.find(tag, close + 1);
  return end == std::string::npos ? sql.size() : end + tag.size();
}

size_t SkipBlockComment(const std::string& sql, size_t i) {
  int depth = 0;  // DuckDB, like PostgreSQL, nests block comments
  for (size_t j = i; j + 1 < sql.size(); j++) {
    if (sql[j] == '/' && sql[j + 1] == '*') {
      depth++;
      j++;
    } else if (sql[j] == '*' && sql[j + 1] == '/') {
      if (--depth == 0) {
        return j + 2;
      }
      j++;
    }
  }
  return sql.size();
}

}  // namespace

std::map<std::string, int> IdentifierCounts(const std::string& sql) {
  std::map<std::string, int> counts;
  size_t i = 0;
  while (i < sql.size()) {
    unsigned char c = static_cast<unsigned char>(sql[i]);
    char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '-' && next == '-') {
      size_t end = sql.find('\n', i);
      i = end == std::string::npos ? sql.size() : end + 1;
    } else if (c == '/' && next == '*') {
      i = SkipBlockComment(sql, i);
    } else if (c == '\'') {
      i = SkipQuoted(sql, i, '\'', nullptr);
    } else if (c == '"') {
      std::string name;
      i = SkipQuoted(sql, i, '"', &name);
      counts[ToLowerAscii(name)]++;
    } else if (c == '$') {
      i = SkipDollarQuoted(sql, i);
    } else if (IsIdentStart(c)) {
      size_t start = i;
      while (i < sql.size() && IsIdentChar(static_cast<unsigned char>(sql[i]))) {
        i++;
      }
      // E'...' / X'...' literals: the prefix letter is not a name.
      if (i < sql.size() && sql[i] == '\'' && i - start == 1) {
        continue;
      }
      counts[ToLowerAscii(sql.substr(start, i - start))]++;
    } else if (std::isdigit(c)) {
      while (i < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.')) {
        i++;
      }
    } else {
      i++;
    }
  }
  return counts;
}

}  // namespace aqueducts::runner

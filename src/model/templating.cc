// Template parameters and pipeline-format detection.

#include "model/templating.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "model/text_util.h"

namespace aqueducts {
namespace model_internal {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Add every `${name}` of `text` to `out`.
void CollectNames(std::string_view text, std::set<std::string>* out) {
  size_t pos = 0;
  while ((pos = text.find("${", pos)) != std::string_view::npos) {
    size_t end = pos + 2;
    while (end < text.size() && IsNameChar(text[end])) {
      ++end;
    }
    if (end > pos + 2 && end < text.size() && text[end] == '}') {
      out->insert(std::string(text.substr(pos + 2, end - pos - 2)));
    }
    pos += 2;
  }
}

// Where the `#` comment of `line` starts (npos if none), scanning from `from`. Quotes are tracked
// within the line, and a quote opens a string only where a scalar may start (so the apostrophe of
// "don't" does not). A TOML multi-line string (""" or ''') left open is returned in `*open`.
size_t CommentStart(std::string_view line, size_t from, std::string_view* open) {
  char quote = 0;
  for (size_t i = from; i < line.size(); ++i) {
    char c = line[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    std::string_view rest = line.substr(i);
    if (rest.rfind("\"\"\"", 0) == 0 || rest.rfind("'''", 0) == 0) {
      size_t close = line.find(rest.substr(0, 3), i + 3);
      if (close == std::string_view::npos) {
        *open = rest.substr(0, 3);
        return std::string_view::npos;
      }
      i = close + 2;
      continue;
    }
    char prev = i == 0 ? ' ' : line[i - 1];
    bool boundary = std::isspace(static_cast<unsigned char>(prev)) || prev == '[' || prev == '{' ||
                    prev == ',' || prev == ':' || prev == '=';
    if ((c == '"' || c == '\'') && boundary) {
      quote = c;
    } else if (c == '#' && std::isspace(static_cast<unsigned char>(prev))) {
      return i;
    }
  }
  return std::string_view::npos;
}

// True when `code` (a line without its comment) opens a YAML block scalar: `key: |`, `- >-`.
bool OpensBlockScalar(std::string_view code) {
  size_t space = code.rfind(' ');
  if (space == std::string_view::npos || space == 0) {
    return false;
  }
  std::string_view token = code.substr(space + 1);
  char before = code[space - 1];
  if (token.empty() || token.size() > 3 || (token[0] != '|' && token[0] != '>') ||
      (before != ':' && before != '-')) {
    return false;
  }
  return token.find_first_not_of("+-0123456789", 1) == std::string_view::npos;
}

// Byte ranges [begin, end) of the `#` comments of a YAML or TOML document. Content of YAML block
// scalars and TOML multi-line strings is never a comment. A heuristic, used only where a wrong
// guess is visible: the loader checks for missing parameters on the parsed tree.
std::vector<std::pair<size_t, size_t>> CommentRanges(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> ranges;
  int block_indent = -1;  // >= 0 inside a block scalar whose key sits at that column
  std::string_view open;  // the delimiter of an open multi-line string
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t newline = text.find('\n', line_start);
    size_t line_end = newline == std::string_view::npos ? text.size() : newline;
    std::string_view line = text.substr(line_start, line_end - line_start);
    size_t indent = line.find_first_not_of(" \t\r");
    bool in_block = block_indent >= 0 &&
                    (indent == std::string_view::npos || static_cast<int>(indent) > block_indent);
    if (!in_block) {
      block_indent = -1;
      size_t from = 0;
      if (!open.empty()) {
        size_t close = line.find(open);
        from = close == std::string_view::npos ? line.size() : close + 3;
        if (close != std::string_view::npos) {
          open = {};
        }
      }
      size_t cut = open.empty() ? CommentStart(line, from, &open) : std::string_view::npos;
      if (cut != std::string_view::npos) {
        ranges.emplace_back(line_start + cut, line_end);
      }
      std::string_view code = Trim(line.substr(0, std::min(cut, line.size())));
      if (open.empty() && OpensBlockScalar(code)) {
        block_indent = static_cast<int>(line.find_first_not_of(" \t-"));
      }
    }
    line_start = line_end + 1;
  }
  return ranges;
}

// Call `fn(segment, is_comment)` for consecutive pieces of `text`.
template <typename Fn>
void ForEachSegment(std::string_view text, Fn fn) {
  size_t pos = 0;
  for (const auto& [begin, end] : CommentRanges(text)) {
    fn(text.substr(pos, begin - pos), false);
    fn(text.substr(begin, end - begin), true);
    pos = end;
  }
  fn(text.substr(pos), false);
}

void CollectFromTree(const Node& node, std::set<std::string>* out) {
  if (node.IsScalar()) {
    CollectNames(node.scalar, out);
  }
  for (const Node& item : node.items) {
    CollectFromTree(item, out);
  }
  for (const auto& [key, value] : node.entries) {
    CollectNames(key, out);
    CollectFromTree(value, out);
  }
}

}  // namespace

std::string ReplaceParams(const std::string& text, const Params& params) {
  // Comments are left alone (the original dropped them).
  std::string out;
  ForEachSegment(text, [&](std::string_view segment, bool is_comment) {
    if (is_comment) {
      out += segment;
      return;
    }
    // One pass: a substituted value is never scanned again, so `-p 'a=${b}'` yields `${b}`.
    size_t pos = 0;
    while (pos < segment.size()) {
      size_t open = segment.find("${", pos);
      size_t close = open == std::string_view::npos ? open : segment.find('}', open + 2);
      if (close == std::string_view::npos) {
        break;
      }
      auto it = params.find(std::string(segment.substr(open + 2, close - open - 2)));
      if (it == params.end()) {
        out += segment.substr(pos, open + 2 - pos);
        pos = open + 2;
        continue;
      }
      out += segment.substr(pos, open - pos);
      out += it->second;
      pos = close + 1;
    }
    out += segment.substr(pos);
  });
  return out;
}

std::set<std::string> MissingInText(const std::string& text) {
  std::set<std::string> missing;
  ForEachSegment(text, [&](std::string_view segment, bool is_comment) {
    if (!is_comment) {
      CollectNames(segment, &missing);
    }
  });
  return missing;
}

std::set<std::string> MissingInTree(const Node& tree) {
  std::set<std::string> missing;
  CollectFromTree(tree, &missing);
  return missing;
}

std::set<std::string> OnlyWritten(const std::set<std::string>& names, const std::string& text,
                                  const Params& params) {
  std::set<std::string> written;
  CollectNames(text, &written);
  std::set<std::string> out;
  for (const std::string& name : names) {
    if (written.count(name) > 0 && params.count(name) == 0) {
      out.insert(name);
    }
  }
  return out;
}

Status MissingParamsError(const std::set<std::string>& missing, const std::string& where) {
  std::string example;
  std::vector<std::string> names;
  for (const std::string& name : missing) {
    names.push_back(Echo(name));
    example += " -p " + names.back() + "=<value>";
  }
  return Status(StatusCode::kTemplateError,
                (where.empty() ? "" : where + ": ") + "Missing template parameters: " +
                    JoinComma(names) + ". Pass a value for each with -p key=value, e.g." + example,
                "aqueducts::template::missing_params");
}

}  // namespace model_internal

Result<Format> FormatFromPath(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = file.rfind('.');
  std::string ext = dot == std::string::npos ? "unknown_ext" : file.substr(dot + 1);
  if (ext == "yml" || ext == "yaml") {
    return Format::kYaml;
  }
  if (ext == "json") {
    return Format::kJson;
  }
  if (ext == "toml") {
    return Format::kToml;
  }
  return Status::Unsupported("Unsupported configuration format: '" + ext + "' (file '" + path +
                                 "'; expected .yml, .yaml, .json or .toml)",
                             "aqueducts::template::unknown_format");
}

Result<std::string> SubstituteParams(const std::string& text, const Params& params) {
  std::string out = model_internal::ReplaceParams(text, params);
  std::set<std::string> missing =
      model_internal::OnlyWritten(model_internal::MissingInText(out), text, params);
  if (!missing.empty()) {
    return model_internal::MissingParamsError(missing, "");
  }
  return out;
}

}  // namespace aqueducts

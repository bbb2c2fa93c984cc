// Template parameters (spec 2) and pipeline-format detection (spec 1.10).

#include "model/templating.h"

#include <cctype>
#include <string_view>

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
    while (end < text.size() && IsNameChar(text[end]))
      ++end;
    if (end > pos + 2 && end < text.size() && text[end] == '}') {
      out->insert(std::string(text.substr(pos + 2, end - pos - 2)));
    }
    pos += 2;
  }
}

// The part of `line` before a `#` comment. Quotes are tracked within the line only, and a quote
// opens a string only where a YAML scalar may start (so the apostrophe of "don't" does not).
std::string_view StripComment(std::string_view line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    char prev = i == 0 ? ' ' : line[i - 1];
    bool boundary = std::isspace(static_cast<unsigned char>(prev)) || prev == '[' || prev == '{' ||
                    prev == ',' || prev == ':' || prev == '=';
    if ((c == '"' || c == '\'') && boundary) {
      quote = c;
    } else if (c == '#' && std::isspace(static_cast<unsigned char>(prev))) {
      return line.substr(0, i);
    }
  }
  return line;
}

void CollectFromTree(const Node& node, std::set<std::string>* out) {
  if (node.IsScalar())
    CollectNames(node.scalar, out);
  for (const Node& item : node.items)
    CollectFromTree(item, out);
  for (const auto& [key, value] : node.entries) {
    CollectNames(key, out);
    CollectFromTree(value, out);
  }
}

}  // namespace

std::string ReplaceParams(const std::string& text, const Params& params) {
  std::string out = text;
  for (const auto& [key, value] : params) {
    std::string needle = "${" + key + "}";
    size_t pos = 0;
    while ((pos = out.find(needle, pos)) != std::string::npos) {
      out.replace(pos, needle.size(), value);
      pos += value.size();
    }
  }
  return out;
}

std::set<std::string> MissingInText(const std::string& text) {
  std::set<std::string> missing;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    CollectNames(StripComment(line), &missing);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  }
  return missing;
}

std::set<std::string> MissingInTree(const Node& tree) {
  std::set<std::string> missing;
  CollectFromTree(tree, &missing);
  return missing;
}

Status MissingParamsError(const std::set<std::string>& missing, const std::string& where) {
  std::string example;
  for (const std::string& name : missing)
    example += " -p " + name + "=<value>";
  return Status(StatusCode::kTemplateError,
                (where.empty() ? "" : where + ": ") +
                    "Missing template parameters: " + JoinComma(missing) +
                    ". Pass a value for each with -p key=value, e.g." + example,
                "aqueducts::template::missing_params");
}

}  // namespace model_internal

Result<Format> FormatFromPath(const std::string& path) {
  size_t slash = path.find_last_of("/\\");
  std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = file.rfind('.');
  std::string ext = dot == std::string::npos ? "unknown_ext" : file.substr(dot + 1);
  if (ext == "yml" || ext == "yaml")
    return Format::kYaml;
  if (ext == "json")
    return Format::kJson;
  if (ext == "toml")
    return Format::kToml;
  return Status::Unsupported("Unsupported configuration format: '" + ext + "' (file '" + path +
                                 "'; expected .yml, .yaml, .json or .toml)",
                             "aqueducts::template::unknown_format");
}

Result<std::string> SubstituteParams(const std::string& text, const Params& params) {
  std::string out = model_internal::ReplaceParams(text, params);
  std::set<std::string> missing = model_internal::MissingInText(out);
  if (!missing.empty())
    return model_internal::MissingParamsError(missing, "");
  return out;
}

}  // namespace aqueducts

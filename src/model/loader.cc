// Read -> template -> parse -> model.

#include "aqueducts/loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>

#include "model/builder.h"
#include "model/templating.h"
#include "model/text_util.h"
#include "model/tree.h"

namespace aqueducts {
namespace {

// Line `line` (1-based) of `text`, without its newline.
std::string_view LineOf(const std::string& text, int line) {
  size_t begin = 0;
  for (int i = 1; i < line && begin != std::string::npos; ++i) {
    begin = text.find('\n', begin);
    begin = begin == std::string::npos ? begin : begin + 1;
  }
  if (begin == std::string::npos || begin > text.size()) {
    return {};
  }
  size_t end = text.find('\n', begin);
  return std::string_view(text).substr(begin, end == std::string::npos ? end : end - begin);
}

// The line a query's SQL text begins on: a block scalar (`query: |`) or a TOML multi-line
// string opening at the end of its line starts on the next line.
int SqlStartLine(const std::string& text, int line) {
  std::string_view at = LineOf(text, line);
  size_t colon = at.find_first_of(":=");
  if (colon == std::string_view::npos) {
    return line;
  }
  std::string_view rest = model_internal::Trim(at.substr(colon + 1));
  bool block = !rest.empty() && (rest[0] == '|' || rest[0] == '>') &&
               rest.find_first_of(" #") == std::string_view::npos;
  bool toml_multi = rest == "\"\"\"" || rest == "'''";
  return block || toml_multi ? line + 1 : line;
}

void FillLines(const model_internal::Node& root, const std::string& text, PipelineLines* lines) {
  lines->text = text;
  const model_internal::Node* stages = root.Find("stages");
  if (stages == nullptr) {
    return;
  }
  for (const auto& group : stages->items) {
    for (const auto& stage : group.items) {
      const model_internal::Node* name = stage.Find("name");
      const model_internal::Node* query = stage.Find("query");
      if (name != nullptr && query != nullptr && query->line > 0) {
        lines->stage_query.emplace(name->scalar, SqlStartLine(text, query->line));
      }
    }
  }
}

}  // namespace

Result<Aqueduct> LoadAqueductFromString(const std::string& text, Format format,
                                        const Params& params, const LoadOptions& options,
                                        const std::string& display_name) {
  using model_internal::Node;
  std::string document = options.substitute ? model_internal::ReplaceParams(text, params) : text;
  Result<Node> tree = model_internal::ReadTree(document, format, display_name);
  if (options.substitute) {
    // Parameters left in the tree that the text wrote are the missing ones (comments never reach
    // it; a substituted value may bring in `${...}`, which is text). When
    // a missing value broke the syntax (e.g. JSON `"show": ${n}`), fall back to a text scan so the
    // user is told what is missing rather than where the syntax broke.
    std::set<std::string> missing = model_internal::OnlyWritten(
        tree.ok() ? model_internal::MissingInTree(*tree) : model_internal::MissingInText(document),
        text, params);
    if (!missing.empty()) {
      return model_internal::MissingParamsError(missing, display_name);
    }
  }
  if (!tree.ok()) {
    return tree.status();
  }
  model_internal::TreeReader reader(display_name, format, options.base_dir);
  AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct, model_internal::ReadAqueduct(reader, *tree));
  if (options.lines != nullptr) {
    FillLines(*tree, document, options.lines);
  }
  std::vector<Status> unknown = reader.UnknownKeys(*tree);
  std::vector<Status> duplicates = model_internal::DuplicateNames(reader, *tree);
  unknown.insert(unknown.end(), duplicates.begin(), duplicates.end());
  if (unknown.empty()) {
    return aqueduct;
  }
  if (options.lenient) {
    for (const Status& status : unknown) {
      if (options.warn) {
        options.warn(status.message() + " (lenient: loaded anyway)");
      }
    }
    return aqueduct;
  }
  Status first = unknown.front();
  if (unknown.size() == 1) {
    return first;
  }
  // Every finding on its own line, up to a screenful.
  constexpr size_t kShownLines = 10;
  constexpr size_t kShownBytes = 1500;
  std::string message = first.message();
  size_t shown = 1;
  for (; shown < unknown.size() && shown < kShownLines &&
         message.size() + unknown[shown].message().size() < kShownBytes;
       ++shown) {
    message += "\n" + unknown[shown].message();
  }
  if (shown < unknown.size()) {
    message += "\n(and " + std::to_string(unknown.size() - shown) + " more)";
  }
  return Status::ParseError(message, first.id());
}

Result<Aqueduct> LoadAqueductFromFile(const std::string& path, const Params& params,
                                      const LoadOptions& options) {
  AQ_ASSIGN_OR_RETURN(Format format, FormatFromPath(path));
  std::error_code ec;
  // A directory opens as a stream that reads nothing; say so rather than "empty document".
  if (std::filesystem::is_directory(path, ec)) {
    return Status::NotFound(
        "Aqueducts file '" + path + "' is a directory; pass the pipeline file itself",
        "aqueducts::template::file_not_found");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  if (in) {
    buffer << in.rdbuf();
  }
  if (!in || in.bad()) {
    std::string message = std::filesystem::exists(path, ec)
                              ? "Aqueducts file cannot be read: '" + path + "' (check permissions)"
                              : "Aqueducts file not found: '" + path + "'";
    return Status::NotFound(message, "aqueducts::template::file_not_found");
  }
  return LoadAqueductFromString(buffer.str(), format, params, options, path);
}

}  // namespace aqueducts

// Read -> template -> parse -> model (spec 2, 1.10).

#include "aqueducts/loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "model/builder.h"
#include "model/templating.h"
#include "model/tree.h"

namespace aqueducts {

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
  return model_internal::ReadAqueduct(reader, *tree);
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

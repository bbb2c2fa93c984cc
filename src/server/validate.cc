#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

#include "model/templating.h"
#include "model/tree.h"
#include "server/api.h"

namespace aqueducts::server {

Status ValidatePipelineText(const std::string& text, const std::string& format,
                            std::string* parameters_json) {
  Format fmt;
  if (format == "yaml") {
    fmt = Format::kYaml;
  } else if (format == "json") {
    fmt = Format::kJson;
  } else if (format == "toml") {
    fmt = Format::kToml;
  } else {
    return Status::InvalidArgument("Field \"format\" must be yaml, json or toml, not '" + format +
                                   "'");
  }
  // The parameters: exact from the parsed tree (comments never reach it), else the text scan.
  Result<model_internal::Node> tree = model_internal::ReadTree(text, fmt, "pipeline");
  std::set<std::string> names =
      tree.ok() ? model_internal::MissingInTree(*tree) : model_internal::MissingInText(text);
  nlohmann::json params = nlohmann::json::array();
  for (const auto& n : names) {
    params.push_back(n);
  }
  *parameters_json = params.dump();

  LoadOptions options;
  options.substitute = false;  // `${name}` stays as written: values come with each run
  Result<Aqueduct> verbatim = LoadAqueductFromString(text, fmt, {}, options, "pipeline");
  if (verbatim.ok() || names.empty()) {
    return verbatim.status();
  }
  // A parameter in a typed field (a number or boolean written `${n}`) only parses once it has
  // a value: the text is valid when it loads with placeholder values of either kind.
  for (const char* placeholder : {"0", "true"}) {
    Params values;
    for (const auto& n : names) {
      values[n] = placeholder;
    }
    if (LoadAqueductFromString(text, fmt, values, {}, "pipeline").ok()) {
      return Status::OK();
    }
  }
  return verbatim.status();
}

}  // namespace aqueducts::server

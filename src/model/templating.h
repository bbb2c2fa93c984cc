#pragma once

#include <set>
#include <string>

#include "aqueducts/loader.h"

#include "model/tree.h"

namespace aqueducts::model_internal {

/// Replace every `${key}` of `params` in `text` outside `#` comments (plain text, no escaping),
/// in one pass: `${...}` inside a substituted value stays as written. Comments are
/// found as MissingInText does.
std::string ReplaceParams(const std::string& text, const Params& params);

/// Names written `${name}` ([A-Za-z0-9_]+) in `text` outside `#` comments (YAML/TOML style: a `#`
/// at line start or after whitespace, outside quotes). A heuristic for text that does not parse.
std::set<std::string> MissingInText(const std::string& text);

/// Names written `${name}` in any key or scalar of `tree`: exact, comments never reach the tree.
std::set<std::string> MissingInTree(const Node& tree);

/// The names of `names` that `text` (the document before substitution) writes as `${name}` and
/// `params` has no value for: names that only a substituted value brought in are not missing.
std::set<std::string> OnlyWritten(const std::set<std::string>& names, const std::string& text,
                                  const Params& params);

/// The kTemplateError for `missing` (non-empty), prefixed with `where` when not empty.
Status MissingParamsError(const std::set<std::string>& missing, const std::string& where);

}  // namespace aqueducts::model_internal

#pragma once

#include <map>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

namespace aqueducts {

enum class Format { kYaml, kJson, kToml };

/// Template parameters: name -> value, substituted for `${name}` (spec §2).
using Params = std::map<std::string, std::string>;

/// The format of a pipeline file from its extension (.yml/.yaml, .json, .toml; case-sensitive).
/// Error: "Unsupported configuration format: '<ext>'".
Result<Format> FormatFromPath(const std::string& path);

/// Replace every `${key}` by its value; then fail with kTemplateError listing every name still
/// written `${name}` ("Missing template parameters: a, b").
Result<std::string> SubstituteParams(const std::string& text, const Params& params);

struct LoadOptions {
  /// Directory that relative locations are resolved against; empty: the process cwd.
  std::string base_dir;
  /// Substitute parameters and fail on missing ones. False: keep `${...}` verbatim (spec §9.1 e).
  bool substitute = true;
};

/// Read, template and parse a pipeline file. Errors name the file, the field path and the line
/// where the format gives one. SQL is NOT checked here: see ValidateSql in run.h.
Result<Aqueduct> LoadAqueductFromFile(const std::string& path, const Params& params = {},
                                      const LoadOptions& options = {});

/// As LoadAqueductFromFile, from text; `display_name` names the document in errors.
Result<Aqueduct> LoadAqueductFromString(const std::string& text, Format format,
                                        const Params& params = {}, const LoadOptions& options = {},
                                        const std::string& display_name = "<string>");

/// The canonical JSON form (spec §1.9): what the CLI sends to an executor.
std::string ToJson(const Aqueduct& aqueduct, int indent = -1);

/// The JSON Schema (draft-07) of the pipeline format, generated from the model.
std::string JsonSchema();

}  // namespace aqueducts

#pragma once

#include <functional>
#include <map>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

namespace aqueducts {

enum class Format { kYaml, kJson, kToml };

/// Template parameters: name -> value, substituted for `${name}` (docs/pipeline-format.md,
/// "Templating").
using Params = std::map<std::string, std::string>;

/// The format of a pipeline file from its extension (.yml/.yaml, .json, .toml; case-sensitive).
/// Error: "Unsupported configuration format: '<ext>'".
Result<Format> FormatFromPath(const std::string& path);

/// Replace every `${key}` by its value; then fail with kTemplateError listing every name still
/// written `${name}` ("Missing template parameters: a, b").
Result<std::string> SubstituteParams(const std::string& text, const Params& params);

/// Where a loaded pipeline's parts are written, for messages that point into the file.
struct PipelineLines {
  /// The document after templating, as parsed.
  std::string text;
  /// Stage name -> 1-based line where its query's SQL text begins (the line after a YAML `|`/`>`
  /// or a TOML `"""` that ends its line). The first stage of a name wins.
  std::map<std::string, int> stage_query;
};

struct LoadOptions {
  /// Directory that relative locations are resolved against; empty: the process cwd.
  std::string base_dir;
  /// Substitute parameters and fail on missing ones. False: keep `${...}` verbatim.
  bool substitute = true;
  /// Keys the pipeline format does not know (misspellings such as `partition_column`, or keys
  /// another tool accepted) are an error naming the file, line, field path and the nearest known
  /// key; so is a stage named like a source or an earlier stage (both are named). Lenient: such
  /// keys are ignored and a repeated name replaces the earlier table at run time (as in the
  /// original); each finding is reported to `warn` (when set) instead.
  bool lenient = false;
  std::function<void(const std::string&)> warn;
  /// When set, receives where the stages' queries are written (once the document parsed).
  PipelineLines* lines = nullptr;
};

/// Read, template and parse a pipeline file. Errors name the file, the field path and the line
/// where the format gives one. SQL is NOT checked here: see ValidateSql in run.h.
Result<Aqueduct> LoadAqueductFromFile(const std::string& path, const Params& params = {},
                                      const LoadOptions& options = {});

/// As LoadAqueductFromFile, from text; `display_name` names the document in errors.
Result<Aqueduct> LoadAqueductFromString(const std::string& text, Format format,
                                        const Params& params = {}, const LoadOptions& options = {},
                                        const std::string& display_name = "<string>");

/// The canonical JSON form (the pipeline as JSON with every field explicit): what the CLI sends to
/// an executor.
std::string ToJson(const Aqueduct& aqueduct, int indent = -1);

/// The JSON Schema (draft-07) of the pipeline format, generated from the model.
std::string JsonSchema();

}  // namespace aqueducts

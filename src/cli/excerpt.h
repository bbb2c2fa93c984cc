#pragma once

// Errors that point into the pipeline file: the offending line, with a caret where the position
// is known, instead of the SQL the runner generated around a stage's query.

#include <string>

#include "aqueducts/loader.h"
#include "aqueducts/status.h"

namespace aqueducts::cli {

/// A rustc-style excerpt of line `line` (1-based) of `text`, headed "--> <file>:<line>[:<col>]",
/// with a caret under `column` (1-based; 0: no caret), without a final newline. Empty when the
/// line does not exist.
std::string Excerpt(const std::string& text, const std::string& file, int line, int column);

/// `status` made to point at the pipeline file `file`:
/// - a load error "<file>:<line>[:<col>]: ..." gets the excerpt of that line (read from disk);
/// - an error naming "stage '<name>'" of `aqueduct` whose query `lines` locates loses DuckDB's
/// "LINE n: ..."
///   rendering of the generated SQL and gets the excerpt of the pipeline line (and column) that
///   DuckDB's position falls on.
/// Other statuses are returned unchanged.
Status PointAtPipeline(const Status& status, const std::string& file, const PipelineLines* lines,
                       const Aqueduct* aqueduct);

}  // namespace aqueducts::cli

#pragma once

#include <map>
#include <string>
#include <vector>

#include "aqueducts/model.h"
#include "aqueducts/run.h"
#include "aqueducts/status.h"

namespace aqueducts {

/// \brief How to check a pipeline without running it.
struct CheckOptions {
  /// in_memory sources are looked up here; nullptr: a fresh database (where they do not exist).
  Database* database = nullptr;
  /// Where each stage's query is written ("pipeline.yml:12"), by stage name: prefixes errors.
  std::map<std::string, std::string> stage_locations;
};

/// Check a pipeline as far as possible without reading data: ValidateSql, then local source
/// locations must exist, sources are registered (file/dir sources read only metadata and a
/// sample, Delta sources their log; ODBC sources are not contacted), and every stage is bound
/// (DESCRIBE) in group order against the real source columns and empty tables of the shapes of
/// earlier stages. A stage reading a sibling of its own parallel group is refused as such.
/// Errors are kSqlError naming the stage (and its location when given). On success, notes on
/// what could not be checked. Objects it creates on `options.database` are dropped again.
Result<std::vector<std::string>> CheckPipeline(const Aqueduct& aqueduct,
                                               const CheckOptions& options = {});

}  // namespace aqueducts

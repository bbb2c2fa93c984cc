#pragma once

// A Delta destination without `schema` whose table does not exist yet is created with the
// columns of the stage that feeds it: DuckDB's column types mapped to the pipeline type names.

#include <string>
#include <vector>

#include "aqueducts/data_type.h"
#include "aqueducts/model.h"
#include "aqueducts/run.h"

namespace aqueducts::runner {

/// Whether `destination` is a Delta table without `schema` that does not exist yet (local).
bool NeedsInferredSchema(const Destination& destination);

/// The fields of a `DESCRIBE` result (column_name, column_type, null, ...). DuckDB types without
/// a pipeline spelling (HUGEINT, STRUCT, MAP, UNION, ...) fail with kUnsupported naming the
/// column, so that the user pins `schema`.
Result<std::vector<Field>> FieldsOfDescribe(const Database::Rows& described);

/// The fields as a YAML `schema:` block that can be pasted into the destination.
std::string SchemaYaml(const std::vector<Field>& fields);

}  // namespace aqueducts::runner

#include "runner/infer_schema.h"

#include <filesystem>
#include <map>

#include "engine/type_names.h"

namespace aqueducts::runner {
namespace {

// The pipeline type of a DESCRIBE type name (the engine's one mapping), for a Delta schema.
Result<DataType> TypeOf(const std::string& duckdb_type) {
  auto type = engine::DataTypeOfDuckDbName(duckdb_type);
  if (!type.ok()) {
    return Status::Unsupported("DuckDB type " + duckdb_type + " has no inferred Delta type");
  }
  return type;
}

}  // namespace

bool NeedsInferredSchema(const Destination& destination) {
  const auto* delta = std::get_if<DeltaDestination>(&destination);
  if (delta == nullptr || !delta->schema.empty() || !delta->location.IsLocal()) {
    return false;
  }
  std::error_code ec;
  return !std::filesystem::exists(std::filesystem::path(delta->location.LocalPath()) / "_delta_log",
                                  ec);
}

Result<std::vector<Field>> FieldsOfDescribe(const Database::Rows& described) {
  std::vector<Field> fields;
  for (const auto& row : described.rows) {
    Field field;
    field.name = row[0].value_or("");
    auto type = TypeOf(row[1].value_or(""));
    if (!type.ok()) {
      return Status::Unsupported("column '" + field.name + "': " + type.status().message());
    }
    field.data_type = *type;
    field.nullable = row.size() < 3 || !row[2] || *row[2] != "NO";
    fields.push_back(std::move(field));
  }
  return fields;
}

std::string SchemaYaml(const std::vector<Field>& fields) {
  std::string out = "schema:\n";
  for (const Field& field : fields) {
    out += "  - {name: \"" + field.name + "\", data_type: \"" + ToString(field.data_type) +
           "\", nullable: " + (field.nullable ? "true" : "false") + "}\n";
  }
  return out;
}

}  // namespace aqueducts::runner

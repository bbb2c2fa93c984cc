#include "runner/infer_schema.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>

namespace aqueducts::runner {
namespace {

std::string Upper(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return text;
}

Result<DataType> TypeOf(const std::string& duckdb_type) {
  std::string type = Upper(duckdb_type);
  if (type.size() > 2 && type.compare(type.size() - 2, 2, "[]") == 0) {
    AQ_ASSIGN_OR_RETURN(DataType item, TypeOf(type.substr(0, type.size() - 2)));
    DataType list = MakeType(TypeId::kList);
    Field child;
    child.name = "item";
    child.data_type = std::move(item);
    list.children.push_back(std::move(child));
    return list;
  }
  if (type.rfind("DECIMAL(", 0) == 0) {
    int precision = 0;
    int scale = 0;
    if (std::sscanf(type.c_str(), "DECIMAL(%d,%d)", &precision, &scale) == 2) {
      DataType decimal = MakeType(TypeId::kDecimal128);
      decimal.precision = precision;
      decimal.scale = scale;
      return decimal;
    }
  }
  static const std::map<std::string, TypeId> kSimple = {
      {"BOOLEAN", TypeId::kBoolean},  {"TINYINT", TypeId::kInt8},    {"SMALLINT", TypeId::kInt16},
      {"INTEGER", TypeId::kInt32},    {"BIGINT", TypeId::kInt64},    {"UTINYINT", TypeId::kUInt8},
      {"USMALLINT", TypeId::kUInt16}, {"UINTEGER", TypeId::kUInt32}, {"UBIGINT", TypeId::kUInt64},
      {"FLOAT", TypeId::kFloat32},    {"DOUBLE", TypeId::kFloat64},  {"VARCHAR", TypeId::kUtf8},
      {"BLOB", TypeId::kBinary},      {"DATE", TypeId::kDate32},
  };
  if (auto it = kSimple.find(type); it != kSimple.end()) {
    return MakeType(it->second);
  }
  if (type == "TIMESTAMP" || type == "TIMESTAMP WITH TIME ZONE") {
    DataType timestamp = MakeType(TypeId::kTimestamp);
    timestamp.unit = TimeUnit::kMicrosecond;
    if (type != "TIMESTAMP") {
      timestamp.timezone = "UTC";
    }
    return timestamp;
  }
  return Status::Unsupported("DuckDB type " + duckdb_type + " has no inferred Delta type");
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

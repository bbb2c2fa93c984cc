#include "delta/schema.h"

#include <cctype>
#include <cstdio>
#include <map>

#include "delta/util.h"
#include "engine/session.h"
#include "engine/type_names.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

std::string PhysicalNameOf(const json& field, bool mapping) {
  if (mapping && field.contains("metadata") && field["metadata"].is_object()) {
    auto it = field["metadata"].find("delta.columnMapping.physicalName");
    if (it != field["metadata"].end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return field.value("name", "");
}

bool NeedsRename(const json& type) {
  if (!type.is_object()) {
    return false;
  }
  std::string kind = type.value("type", "");
  if (kind == "struct") {
    return true;
  }
  if (kind == "array") {
    return NeedsRename(type["elementType"]);
  }
  if (kind == "map") {
    return NeedsRename(type["keyType"]) || NeedsRename(type["valueType"]);
  }
  return false;
}

// Rebuild a value read from Parquet with logical nested names.
Result<std::string> RenameExpr(const std::string& expr, const json& type, int depth) {
  if (!type.is_object()) {
    return expr;
  }
  std::string kind = type.value("type", "");
  if (kind == "struct") {
    std::string out = "CASE WHEN " + expr + " IS NULL THEN NULL ELSE struct_pack(";
    bool first = true;
    for (const json& f : type["fields"]) {
      std::string child =
          "struct_extract(" + expr + ", " + engine::QuoteLiteral(PhysicalNameOf(f, true)) + ")";
      AQ_ASSIGN_OR_RETURN(std::string inner, RenameExpr(child, f["type"], depth + 1));
      out += (first ? "" : ", ") + engine::QuoteIdent(f.value("name", "")) + " := " + inner;
      first = false;
    }
    return out + ") END";
  }
  if (kind == "array" && NeedsRename(type["elementType"])) {
    std::string var = "x" + std::to_string(depth);
    AQ_ASSIGN_OR_RETURN(std::string inner, RenameExpr(var, type["elementType"], depth + 1));
    return "list_transform(" + expr + ", " + var + " -> " + inner + ")";
  }
  if (kind == "map" && NeedsRename(type)) {
    std::string var = "m" + std::to_string(depth);
    AQ_ASSIGN_OR_RETURN(std::string key, RenameExpr(var + ".key", type["keyType"], depth + 1));
    AQ_ASSIGN_OR_RETURN(std::string value,
                        RenameExpr(var + ".value", type["valueType"], depth + 1));
    return "CASE WHEN " + expr +
           " IS NULL THEN NULL ELSE map_from_entries(list_transform(map_entries(" + expr + "), " +
           var + " -> struct_pack(key := " + key + ", value := " + value + "))) END";
  }
  return expr;
}

std::string Pad(int64_t v, int width) {
  std::string s = std::to_string(v);
  while (int(s.size()) < width) {
    s = "0" + s;
  }
  return s;
}

}  // namespace

const DeltaField* DeltaSchema::Find(const std::string& name) const {
  for (const auto& f : fields) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

Result<DeltaSchema> ParseSchemaString(const std::string& schema_string,
                                      const std::string& column_mapping) {
  json root;
  try {
    root = json::parse(schema_string);
  } catch (const std::exception& e) {
    return Status::ParseError(std::string("invalid Delta schemaString: ") + e.what());
  }
  if (!root.is_object() || root.value("type", "") != "struct" || !root["fields"].is_array()) {
    return Status::ParseError("invalid Delta schemaString: not a struct with fields");
  }
  bool mapping = column_mapping == "name" || column_mapping == "id";
  DeltaSchema schema;
  for (const json& f : root["fields"]) {
    DeltaField field;
    field.name = f.value("name", "");
    field.physical_name = PhysicalNameOf(f, mapping);
    field.type = f.contains("type") ? f["type"] : json("string");
    field.nullable =
        !f.contains("nullable") || !f["nullable"].is_boolean() || f["nullable"].get<bool>();
    if (f.contains("metadata") && f["metadata"].is_object()) {
      field.metadata = f["metadata"];
    }
    schema.fields.push_back(std::move(field));
  }
  return schema;
}

Result<DataType> DataTypeOfDelta(const json& t) {
  if (t.is_string()) {
    std::string s = t.get<std::string>();
    static const std::map<std::string, TypeId> kPrimitive = {
        {"string", TypeId::kUtf8},
        {"long", TypeId::kInt64},
        {"integer", TypeId::kInt32},
        {"short", TypeId::kInt16},
        {"byte", TypeId::kInt8},
        {"float", TypeId::kFloat32},
        {"double", TypeId::kFloat64},
        {"boolean", TypeId::kBoolean},
        {"binary", TypeId::kBinary},
        {"date", TypeId::kDate32},
        // A column that only ever held nulls; read as a 32-bit integer column.
        {"void", TypeId::kInt32},
    };
    if (auto it = kPrimitive.find(s); it != kPrimitive.end()) {
      return MakeType(it->second);
    }
    if (s == "timestamp" || s == "timestamp_ntz") {
      DataType type = MakeType(TypeId::kTimestamp);  // microseconds
      if (s == "timestamp") {
        type.timezone = "UTC";  // an instant
      }
      return type;
    }
    if (s.rfind("decimal", 0) == 0) {
      size_t open = s.find('('), comma = s.find(','), close = s.find(')');
      int precision = 0, scale = 0;
      if (open == std::string::npos || comma == std::string::npos || close == std::string::npos ||
          std::sscanf(s.c_str() + open, "(%d ,%d )", &precision, &scale) != 2) {
        return Status::Unsupported("unsupported Delta type '" + s + "'");
      }
      DataType type = MakeType(TypeId::kDecimal128);
      type.precision = precision;
      type.scale = scale;
      return type;
    }
    return Status::Unsupported("unsupported Delta type '" + s + "'");
  }
  if (!t.is_object()) {
    return Status::Unsupported("unsupported Delta type " + t.dump());
  }
  std::string kind = t.value("type", "");
  auto child = [](std::string name, const json& type) -> Result<Field> {
    Field field;
    field.name = std::move(name);
    AQ_ASSIGN_OR_RETURN(field.data_type, DataTypeOfDelta(type));
    return field;
  };
  if (kind == "array") {
    DataType list = MakeType(TypeId::kList);
    AQ_ASSIGN_OR_RETURN(Field item, child("item", t["elementType"]));
    list.children.push_back(std::move(item));
    return list;
  }
  if (kind == "map") {
    DataType map = MakeType(TypeId::kMap);
    AQ_ASSIGN_OR_RETURN(Field key, child("key", t["keyType"]));
    AQ_ASSIGN_OR_RETURN(Field value, child("value", t["valueType"]));
    map.children.push_back(std::move(key));
    map.children.push_back(std::move(value));
    return map;
  }
  if (kind == "struct") {
    DataType record = MakeType(TypeId::kStruct);
    for (const json& f : t["fields"]) {
      AQ_ASSIGN_OR_RETURN(Field field, child(f.value("name", ""), f["type"]));
      record.children.push_back(std::move(field));
    }
    return record;
  }
  return Status::Unsupported("unsupported Delta type " + t.dump());
}

Result<std::string> DuckDbType(const json& t) {
  AQ_ASSIGN_OR_RETURN(DataType type, DataTypeOfDelta(t));
  return engine::DuckDbTypeName(type);
}

Result<std::string> ColumnReadExpr(const DeltaField& field, bool column_mapping,
                                   const std::string& file_type) {
  AQ_ASSIGN_OR_RETURN(std::string type, DuckDbType(field.type));
  if (field.type.is_string() && field.type.get<std::string>() == "void") {
    return std::string("NULL::INTEGER");
  }
  std::string expr = engine::QuoteIdent(field.physical_name);
  if (file_type.empty()) {
    return "CAST(NULL AS " + type + ")";
  }
  if (column_mapping && NeedsRename(field.type)) {
    AQ_ASSIGN_OR_RETURN(expr, RenameExpr(expr, field.type, 0));
  }
  // A zone-less Parquet timestamp (INT96 or isAdjustedToUTC=0) in a Delta `timestamp` column
  // holds a UTC instant: convert explicitly so the session time zone does not matter.
  if (type == "TIMESTAMPTZ" && file_type.rfind("TIMESTAMP", 0) == 0 &&
      file_type.find("TIME ZONE") == std::string::npos) {
    return "timezone('UTC', CAST(" + expr + " AS TIMESTAMP))";
  }
  // A plain column reference (no cast) lets DuckDB push filters into the Parquet scan, which
  // then skips row groups by their min/max statistics.
  if (file_type == type || (type == "TIMESTAMPTZ" && file_type == "TIMESTAMP WITH TIME ZONE")) {
    return expr;
  }
  if (type == "TIMESTAMP" && file_type == "TIMESTAMP WITH TIME ZONE") {
    return "timezone('UTC', " + expr + ")";
  }
  return "CAST(" + expr + " AS " + type + ")";
}

std::string FormatMicros(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000;
  int64_t frac = micros - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  // Civil from days (Howard Hinnant's algorithm).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  return Pad(y, 4) + "-" + Pad(m, 2) + "-" + Pad(d, 2) + " " + Pad(rem / 3600, 2) + ":" +
         Pad(rem / 60 % 60, 2) + ":" + Pad(rem % 60, 2) + "." + Pad(frac, 6);
}

Result<std::string> PartitionValueLiteral(const json& delta_type,
                                          const std::optional<std::string>& value) {
  AQ_ASSIGN_OR_RETURN(std::string type, DuckDbType(delta_type));
  std::string t = delta_type.is_string() ? delta_type.get<std::string>() : "";
  if (!value.has_value() || value->empty()) {
    return "CAST(NULL AS " + type + ")";
  }
  if (t == "timestamp") {
    auto micros = ParseTimestampMicros(*value);
    if (!micros) {
      return Status::InvalidArgument("invalid timestamp partition value '" + *value + "'");
    }
    // Zone-less values (old Spark) are read as UTC; see docs/delta.md.
    return "TIMESTAMPTZ " + engine::QuoteLiteral(FormatMicros(*micros) + "+00");
  }
  if (t == "binary") {
    return "encode(" + engine::QuoteLiteral(*value) + ")";
  }
  return "CAST(" + engine::QuoteLiteral(*value) + " AS " + type + ")";
}

Result<json> DeltaTypeOf(const DataType& type) {
  switch (type.id) {
    case TypeId::kBoolean:
      return json("boolean");
    case TypeId::kInt8:
      return json("byte");
    case TypeId::kInt16:
    case TypeId::kUInt8:
      return json("short");
    case TypeId::kInt32:
    case TypeId::kUInt16:
      return json("integer");
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return json("long");
    case TypeId::kFloat16:
    case TypeId::kFloat32:
      return json("float");
    case TypeId::kFloat64:
      return json("double");
    case TypeId::kUtf8:
    case TypeId::kLargeUtf8:
      return json("string");
    case TypeId::kBinary:
    case TypeId::kLargeBinary:
    case TypeId::kFixedSizeBinary:
      return json("binary");
    case TypeId::kDate32:
    case TypeId::kDate64:
      return json("date");
    case TypeId::kTimestamp:
      // Delta has instants (timestamp) and wall-clock times (timestamp_ntz); as delta-rs does,
      // a zone-less Arrow timestamp is timestamp_ntz.
      return json(type.timezone.has_value() ? "timestamp" : "timestamp_ntz");
    case TypeId::kDecimal128:
    case TypeId::kDecimal256:
      if (type.precision > 38) {
        return Status::Unsupported("Delta decimals have at most 38 digits, got " + ToString(type));
      }
      return json("decimal(" + std::to_string(type.precision) + "," + std::to_string(type.scale) +
                  ")");
    case TypeId::kList:
    case TypeId::kLargeList:
    case TypeId::kFixedSizeList: {
      if (type.children.empty()) {
        return Status::InvalidArgument("list type without element");
      }
      AQ_ASSIGN_OR_RETURN(json e, DeltaTypeOf(type.children[0].data_type));
      return json{
          {"type", "array"}, {"elementType", e}, {"containsNull", type.children[0].nullable}};
    }
    case TypeId::kMap: {
      if (type.children.size() != 2) {
        return Status::InvalidArgument("map type needs key and value");
      }
      AQ_ASSIGN_OR_RETURN(json k, DeltaTypeOf(type.children[0].data_type));
      AQ_ASSIGN_OR_RETURN(json v, DeltaTypeOf(type.children[1].data_type));
      return json{{"type", "map"},
                  {"keyType", k},
                  {"valueType", v},
                  {"valueContainsNull", type.children[1].nullable}};
    }
    case TypeId::kStruct:
      return SchemaJsonOf(type.children);
    default:
      return Status::Unsupported("data type " + ToString(type) + " has no Delta Lake equivalent");
  }
}

Result<json> SchemaJsonOf(const std::vector<Field>& fields) {
  json out = {{"type", "struct"}, {"fields", json::array()}};
  for (const Field& f : fields) {
    auto t = DeltaTypeOf(f.data_type);
    if (!t.ok()) {
      return t.status().WithPrefix("column '" + f.name + "': ");
    }
    out["fields"].push_back(
        {{"name", f.name}, {"type", *t}, {"nullable", f.nullable}, {"metadata", json::object()}});
  }
  return out;
}

}  // namespace aqueducts::delta

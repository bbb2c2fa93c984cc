#include "engine/type_names.h"

#include <cctype>
#include <cstdio>
#include <map>

#include "engine/session.h"

namespace aqueducts::engine {
namespace {

Result<std::string> ChildType(const DataType& type, size_t index) {
  if (type.children.size() <= index) {
    return Status::InvalidArgument("data type " + ToString(type) + " is missing a child type");
  }
  return DuckDbTypeName(type.children[index].data_type);
}

Result<std::string> StructType(const DataType& type, const char* keyword) {
  std::string out = std::string(keyword) + "(";
  for (size_t i = 0; i < type.children.size(); i++) {
    AQ_ASSIGN_OR_RETURN(std::string child, DuckDbTypeName(type.children[i].data_type));
    out += (i ? ", " : "") + QuoteIdent(type.children[i].name) + " " + child;
  }
  return out + ")";
}

const char* TimestampType(const DataType& type) {
  // DuckDB keeps instants with a zone as TIMESTAMPTZ (microseconds) whatever the unit.
  if (type.timezone.has_value()) {
    return "TIMESTAMPTZ";
  }
  switch (type.unit) {
    case TimeUnit::kSecond:
      return "TIMESTAMP_S";
    case TimeUnit::kMillisecond:
      return "TIMESTAMP_MS";
    case TimeUnit::kMicrosecond:
      return "TIMESTAMP";
    case TimeUnit::kNanosecond:
      return "TIMESTAMP_NS";
  }
  return "TIMESTAMP";
}

}  // namespace

Result<std::string> DuckDbTypeName(const DataType& type) {
  switch (type.id) {
    case TypeId::kBoolean:
      return std::string("BOOLEAN");
    case TypeId::kInt8:
      return std::string("TINYINT");
    case TypeId::kInt16:
      return std::string("SMALLINT");
    case TypeId::kInt32:
      return std::string("INTEGER");
    case TypeId::kInt64:
      return std::string("BIGINT");
    case TypeId::kUInt8:
      return std::string("UTINYINT");
    case TypeId::kUInt16:
      return std::string("USMALLINT");
    case TypeId::kUInt32:
      return std::string("UINTEGER");
    case TypeId::kUInt64:
      return std::string("UBIGINT");
    case TypeId::kFloat16:  // DuckDB has no half float; FLOAT holds every value.
    case TypeId::kFloat32:
      return std::string("FLOAT");
    case TypeId::kFloat64:
      return std::string("DOUBLE");
    case TypeId::kUtf8:
    case TypeId::kLargeUtf8:
      return std::string("VARCHAR");
    case TypeId::kBinary:
    case TypeId::kLargeBinary:
    case TypeId::kFixedSizeBinary:
      return std::string("BLOB");
    case TypeId::kDate32:
    case TypeId::kDate64:
      return std::string("DATE");
    case TypeId::kTime32:
    case TypeId::kTime64:
      return std::string("TIME");
    case TypeId::kTimestamp:
      return std::string(TimestampType(type));
    case TypeId::kDuration:
    case TypeId::kInterval:
      return std::string("INTERVAL");
    case TypeId::kDecimal128:
    case TypeId::kDecimal256:
      if (type.precision > 38) {
        return Status::Unsupported("data type " + ToString(type) +
                                   " is not supported: DuckDB decimals hold at most 38 digits");
      }
      return "DECIMAL(" + std::to_string(type.precision) + ", " + std::to_string(type.scale) + ")";
    case TypeId::kList:
    case TypeId::kLargeList: {
      AQ_ASSIGN_OR_RETURN(std::string child, ChildType(type, 0));
      return child + "[]";
    }
    case TypeId::kFixedSizeList: {
      AQ_ASSIGN_OR_RETURN(std::string child, ChildType(type, 0));
      return child + "[" + std::to_string(type.size) + "]";
    }
    case TypeId::kStruct:
      return StructType(type, "STRUCT");
    case TypeId::kUnion:
      return StructType(type, "UNION");
    case TypeId::kMap: {
      AQ_ASSIGN_OR_RETURN(std::string key, ChildType(type, 0));
      AQ_ASSIGN_OR_RETURN(std::string value, ChildType(type, 1));
      return "MAP(" + key + ", " + value + ")";
    }
    case TypeId::kDictionary:
      return ChildType(type, 1);  // dictionary encoding is physical only
  }
  return Status::Internal("unhandled data type id");
}

Result<DataType> DataTypeOfDuckDbName(const std::string& duckdb_type) {
  std::string type = duckdb_type;
  for (char& c : type) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (type.size() > 2 && type.compare(type.size() - 2, 2, "[]") == 0) {
    AQ_ASSIGN_OR_RETURN(DataType item, DataTypeOfDuckDbName(type.substr(0, type.size() - 2)));
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
  if (type == "TIMESTAMP" || type == "TIMESTAMP WITH TIME ZONE" || type == "TIMESTAMPTZ") {
    DataType timestamp = MakeType(TypeId::kTimestamp);
    timestamp.unit = TimeUnit::kMicrosecond;
    if (type != "TIMESTAMP") {
      timestamp.timezone = "UTC";
    }
    return timestamp;
  }
  return Status::Unsupported("DuckDB type " + duckdb_type + " has no pipeline type");
}

Result<std::string> ColumnsLiteral(const std::vector<Field>& schema) {
  std::string out = "{";
  for (size_t i = 0; i < schema.size(); i++) {
    AQ_ASSIGN_OR_RETURN(std::string type, DuckDbTypeName(schema[i].data_type));
    out += (i ? ", " : "") + QuoteLiteral(schema[i].name) + ": " + QuoteLiteral(type);
  }
  return out + "}";
}

}  // namespace aqueducts::engine

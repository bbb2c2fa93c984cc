#include "engine/column_types.h"

#include <duckdb.hpp>

#include "engine/type_names.h"

namespace aqueducts::engine {
namespace {

// The pipeline types whose values the bulk paths hold in a flat column (column_batch.h).
bool HasFlatColumnForm(TypeId id) {
  switch (id) {
    case TypeId::kList:
    case TypeId::kLargeList:
    case TypeId::kFixedSizeList:
    case TypeId::kStruct:
    case TypeId::kUnion:
    case TypeId::kMap:
    case TypeId::kDictionary:
    case TypeId::kDuration:
    case TypeId::kInterval:
      return false;
    default:
      return true;
  }
}

}  // namespace

// Derived from the one name mapping (type_names.h, DuckDbTypeName), so the two never disagree;
// only the bulk layout's own rule is added here: zone-less timestamps are always microseconds.
Status ToLogicalType(const DataType& type, duckdb::LogicalType* out) {
  if (!HasFlatColumnForm(type.id)) {
    return Status::Unsupported("Unsupported column type " + ToString(type) +
                               " for a bulk table load");
  }
  bool decimal = type.id == TypeId::kDecimal128 || type.id == TypeId::kDecimal256;
  if (decimal && (type.precision < 1 || type.precision > 38 || type.scale < 0 ||
                  type.scale > type.precision)) {
    return Status::Unsupported("Unsupported decimal type " + ToString(type) +
                               ": precision must be 1-38 and scale 0-precision");
  }
  AQ_ASSIGN_OR_RETURN(std::string name, DuckDbTypeName(type));
  duckdb::LogicalType logical;
  try {
    logical = duckdb::TransformStringToLogicalType(name);
  } catch (const std::exception& e) {
    return Status::Internal("DuckDB does not parse its type name '" + name + "': " + e.what());
  }
  switch (logical.id()) {
    case duckdb::LogicalTypeId::TIMESTAMP_SEC:
    case duckdb::LogicalTypeId::TIMESTAMP_MS:
    case duckdb::LogicalTypeId::TIMESTAMP_NS:
      logical = duckdb::LogicalType::TIMESTAMP;
      break;
    default:
      break;
  }
  *out = std::move(logical);
  return Status::OK();
}

// The name mapping (DataTypeOfDuckDbName) for what it knows, plus the flat types it leaves out
// because a typed destination never declares them; anything without a flat form reads as text.
DataType FromLogicalType(const duckdb::LogicalType& type) {
  using duckdb::LogicalTypeId;
  switch (type.id()) {
    case LogicalTypeId::TIME:
      return MakeType(TypeId::kTime64);
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_NS:
      return MakeType(TypeId::kTimestamp);
    case LogicalTypeId::HUGEINT:
    case LogicalTypeId::UHUGEINT: {
      DataType wide = MakeType(TypeId::kDecimal128);
      wide.precision = 38;
      wide.scale = 0;
      return wide;
    }
    case LogicalTypeId::LIST:
    case LogicalTypeId::ARRAY:
    case LogicalTypeId::STRUCT:
    case LogicalTypeId::MAP:
    case LogicalTypeId::UNION:
      return MakeType(TypeId::kUtf8);
    default:
      break;
  }
  auto mapped = DataTypeOfDuckDbName(type.ToString());
  return mapped.ok() ? *mapped : MakeType(TypeId::kUtf8);
}

}  // namespace aqueducts::engine

#include "engine/column_types.h"

#include <duckdb.hpp>

namespace aqueducts::engine {

Status ToLogicalType(const DataType& type, duckdb::LogicalType* out) {
  using duckdb::LogicalType;
  switch (type.id) {
    case TypeId::kBoolean:
      *out = LogicalType::BOOLEAN;
      return Status::OK();
    case TypeId::kInt8:
      *out = LogicalType::TINYINT;
      return Status::OK();
    case TypeId::kInt16:
      *out = LogicalType::SMALLINT;
      return Status::OK();
    case TypeId::kInt32:
      *out = LogicalType::INTEGER;
      return Status::OK();
    case TypeId::kInt64:
      *out = LogicalType::BIGINT;
      return Status::OK();
    case TypeId::kUInt8:
      *out = LogicalType::UTINYINT;
      return Status::OK();
    case TypeId::kUInt16:
      *out = LogicalType::USMALLINT;
      return Status::OK();
    case TypeId::kUInt32:
      *out = LogicalType::UINTEGER;
      return Status::OK();
    case TypeId::kUInt64:
      *out = LogicalType::UBIGINT;
      return Status::OK();
    case TypeId::kFloat16:
    case TypeId::kFloat32:
      *out = LogicalType::FLOAT;
      return Status::OK();
    case TypeId::kFloat64:
      *out = LogicalType::DOUBLE;
      return Status::OK();
    case TypeId::kUtf8:
    case TypeId::kLargeUtf8:
      *out = LogicalType::VARCHAR;
      return Status::OK();
    case TypeId::kBinary:
    case TypeId::kLargeBinary:
    case TypeId::kFixedSizeBinary:
      *out = LogicalType::BLOB;
      return Status::OK();
    case TypeId::kDate32:
    case TypeId::kDate64:
      *out = LogicalType::DATE;
      return Status::OK();
    case TypeId::kTime32:
    case TypeId::kTime64:
      *out = LogicalType::TIME;
      return Status::OK();
    case TypeId::kTimestamp:
      *out = type.timezone ? LogicalType::TIMESTAMP_TZ : LogicalType::TIMESTAMP;
      return Status::OK();
    case TypeId::kDecimal128:
    case TypeId::kDecimal256:
      if (type.precision < 1 || type.precision > 38 || type.scale < 0 ||
          type.scale > type.precision) {
        return Status::Unsupported("Unsupported decimal type " + ToString(type) +
                                   ": precision must be 1-38 and scale 0-precision");
      }
      *out = LogicalType::DECIMAL(static_cast<uint8_t>(type.precision),
                                  static_cast<uint8_t>(type.scale));
      return Status::OK();
    default:
      return Status::Unsupported("Unsupported column type " + ToString(type) +
                                 " for a bulk table load");
  }
}

DataType FromLogicalType(const duckdb::LogicalType& type) {
  using duckdb::LogicalTypeId;
  DataType result;
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN:
      result.id = TypeId::kBoolean;
      break;
    case LogicalTypeId::TINYINT:
      result.id = TypeId::kInt8;
      break;
    case LogicalTypeId::SMALLINT:
      result.id = TypeId::kInt16;
      break;
    case LogicalTypeId::INTEGER:
      result.id = TypeId::kInt32;
      break;
    case LogicalTypeId::BIGINT:
      result.id = TypeId::kInt64;
      break;
    case LogicalTypeId::UTINYINT:
      result.id = TypeId::kUInt8;
      break;
    case LogicalTypeId::USMALLINT:
      result.id = TypeId::kUInt16;
      break;
    case LogicalTypeId::UINTEGER:
      result.id = TypeId::kUInt32;
      break;
    case LogicalTypeId::UBIGINT:
      result.id = TypeId::kUInt64;
      break;
    case LogicalTypeId::FLOAT:
      result.id = TypeId::kFloat32;
      break;
    case LogicalTypeId::DOUBLE:
      result.id = TypeId::kFloat64;
      break;
    case LogicalTypeId::VARCHAR:
      result.id = TypeId::kUtf8;
      break;
    case LogicalTypeId::BLOB:
      result.id = TypeId::kBinary;
      break;
    case LogicalTypeId::DATE:
      result.id = TypeId::kDate32;
      break;
    case LogicalTypeId::TIME:
      result.id = TypeId::kTime64;
      break;
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_NS:
      result.id = TypeId::kTimestamp;
      break;
    case LogicalTypeId::TIMESTAMP_TZ:
      result.id = TypeId::kTimestamp;
      result.timezone = "UTC";
      break;
    case LogicalTypeId::DECIMAL:
      result.id = TypeId::kDecimal128;
      result.precision = duckdb::DecimalType::GetWidth(type);
      result.scale = duckdb::DecimalType::GetScale(type);
      break;
    case LogicalTypeId::HUGEINT:
    case LogicalTypeId::UHUGEINT:
      result.id = TypeId::kDecimal128;
      result.precision = 38;
      result.scale = 0;
      break;
    default:
      result.id = TypeId::kUtf8;
      break;
  }
  return result;
}

}  // namespace aqueducts::engine

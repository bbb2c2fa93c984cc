#pragma once

// Plain C++ column vectors: how rows cross the engine boundary in bulk (TableAppender in,
// ResultStream out) without anyone else seeing DuckDB types.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/data_type.h"

namespace aqueducts::engine {

/// Which member of a ColumnVector holds a column's values.
enum class Storage {
  kInt,     ///< `ints`: boolean (0/1), (u)int8..64, date32 (days since 1970-01-01),
            ///< time32/time64 (µs since midnight), timestamp (µs since epoch, UTC when a
            ///< timezone is set), decimal with precision <= 18 (unscaled value)
  kDouble,  ///< `doubles`: float16/32/64
  kString,  ///< `strings`: utf8, binary (raw bytes), decimal with precision > 18 (text such as
            ///< "-12.50"), and any other type (its text form)
};

/// The storage of a type (see Storage).
inline Storage StorageOf(const DataType& type) {
  switch (type.id) {
    case TypeId::kBoolean:
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
    case TypeId::kDate32:
    case TypeId::kTime32:
    case TypeId::kTime64:
    case TypeId::kTimestamp:
      return Storage::kInt;
    case TypeId::kDecimal128:
    case TypeId::kDecimal256:
      return type.precision <= 18 ? Storage::kInt : Storage::kString;
    case TypeId::kFloat16:
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return Storage::kDouble;
    default:
      return Storage::kString;
  }
}

/// \brief One column of a batch: a logical type, the values in the member StorageOf(type)
/// names, and a validity flag per row (0 = NULL; the value slot of a NULL is unspecified).
struct ColumnVector {
  std::string name;
  DataType type;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  std::vector<uint8_t> valid;

  Storage storage() const { return StorageOf(type); }
  size_t size() const { return valid.size(); }
  bool IsNull(size_t row) const { return valid[row] == 0; }
  /// Remove all values, keeping name, type and capacity.
  void Clear() {
    ints.clear();
    doubles.clear();
    strings.clear();
    valid.clear();
  }
};

/// \brief A set of equally long columns.
struct ColumnBatch {
  std::vector<ColumnVector> columns;

  size_t num_rows() const { return columns.empty() ? 0 : columns[0].size(); }
  void Clear() {
    for (auto& column : columns) {
      column.Clear();
    }
  }
};

}  // namespace aqueducts::engine

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts {

struct Field;

/// Arrow-shaped logical types of the pipeline format (docs/pipeline-format.md, "Data types").
enum class TypeId {
  kBoolean,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat16,
  kFloat32,
  kFloat64,
  kUtf8,
  kLargeUtf8,
  kBinary,
  kLargeBinary,
  kFixedSizeBinary,
  kDate32,
  kDate64,
  kTime32,
  kTime64,
  kTimestamp,
  kDuration,
  kInterval,
  kDecimal128,
  kDecimal256,
  kList,
  kLargeList,
  kFixedSizeList,
  kStruct,
  kMap,
  kUnion,
  kDictionary,
};

enum class TimeUnit { kSecond, kMillisecond, kMicrosecond, kNanosecond };
enum class IntervalUnit { kYearMonth, kDayTime, kMonthDayNano };
enum class UnionMode { kSparse, kDense };

/// \brief A data type. Parameter members are meaningful only for the ids that use them.
struct DataType {
  TypeId id = TypeId::kUtf8;
  TimeUnit unit = TimeUnit::kMicrosecond;  ///< time32/time64/timestamp/duration
  std::optional<std::string> timezone;     ///< timestamp only, kept verbatim
  IntervalUnit interval_unit = IntervalUnit::kMonthDayNano;
  UnionMode union_mode = UnionMode::kSparse;
  int32_t size = 0;       ///< fixed_binary<N>, fixed_list<T,N>
  int32_t precision = 0;  ///< decimal
  int32_t scale = 0;      ///< decimal
  /// list/large_list/fixed_list: one child named "item"; struct/union: members;
  /// map: two children "key" (non-null) and "value"; dictionary: key type, value type.
  std::vector<Field> children;

  bool operator==(const DataType& other) const;
  bool operator!=(const DataType& other) const { return !(*this == other); }
};

/// \brief A named column of a schema (name, data_type, nullable, description).
struct Field {
  std::string name;
  DataType data_type;
  bool nullable = true;
  std::optional<std::string> description;

  bool operator==(const Field& other) const;
};

/// Parse the type grammar of docs/pipeline-format.md, "Data types" (`int32`, `list<string>`,
/// `struct<a:int32,b:string>`...). Errors are kInvalidArgument with messages such as "Unknown data
/// type: X".
Result<DataType> ParseDataType(std::string_view text);

/// Print the canonical spelling; ParseDataType(ToString(t)) == t for every parseable type.
std::string ToString(const DataType& type);

/// Build a simple (parameterless) type.
DataType MakeType(TypeId id);

}  // namespace aqueducts

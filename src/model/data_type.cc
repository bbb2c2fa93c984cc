#include "aqueducts/data_type.h"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

#include "model/text_util.h"

namespace aqueducts {
namespace {

using model_internal::Echo;
using model_internal::Trim;

struct SimpleName {
  const char* name;
  TypeId id;
};

// Accepted spellings of the parameterless types. The first spelling of each id is the
// canonical one printed by ToString.
constexpr std::array<SimpleName, 27> kSimpleNames = {{
    {"bool", TypeId::kBoolean},
    {"boolean", TypeId::kBoolean},
    {"int8", TypeId::kInt8},
    {"int16", TypeId::kInt16},
    {"int32", TypeId::kInt32},
    {"int", TypeId::kInt32},
    {"integer", TypeId::kInt32},
    {"int64", TypeId::kInt64},
    {"long", TypeId::kInt64},
    {"uint8", TypeId::kUInt8},
    {"uint16", TypeId::kUInt16},
    {"uint32", TypeId::kUInt32},
    {"uint64", TypeId::kUInt64},
    {"float16", TypeId::kFloat16},
    {"float32", TypeId::kFloat32},
    {"float", TypeId::kFloat32},
    {"float64", TypeId::kFloat64},
    {"double", TypeId::kFloat64},
    {"string", TypeId::kUtf8},
    {"utf8", TypeId::kUtf8},
    {"large_string", TypeId::kLargeUtf8},
    {"large_utf8", TypeId::kLargeUtf8},
    {"binary", TypeId::kBinary},
    {"large_binary", TypeId::kLargeBinary},
    {"date32", TypeId::kDate32},
    {"date", TypeId::kDate32},
    {"date64", TypeId::kDate64},
}};

const char* TimeUnitName(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSecond:
      return "second";
    case TimeUnit::kMillisecond:
      return "millisecond";
    case TimeUnit::kMicrosecond:
      return "microsecond";
    case TimeUnit::kNanosecond:
      return "nanosecond";
  }
  return "microsecond";
}

const char* IntervalUnitName(IntervalUnit unit) {
  switch (unit) {
    case IntervalUnit::kYearMonth:
      return "year_month";
    case IntervalUnit::kDayTime:
      return "day_time";
    case IntervalUnit::kMonthDayNano:
      return "month_day_nano";
  }
  return "month_day_nano";
}

Result<TimeUnit> ParseTimeUnit(std::string_view text) {
  if (text == "second" || text == "s") {
    return TimeUnit::kSecond;
  }
  if (text == "millisecond" || text == "ms") {
    return TimeUnit::kMillisecond;
  }
  if (text == "microsecond" || text == "us") {
    return TimeUnit::kMicrosecond;
  }
  if (text == "nanosecond" || text == "ns") {
    return TimeUnit::kNanosecond;
  }
  return Status::InvalidArgument("Unknown time unit: " + Echo(text));
}

Result<IntervalUnit> ParseIntervalUnit(std::string_view text) {
  if (text == "year_month") {
    return IntervalUnit::kYearMonth;
  }
  if (text == "day_time") {
    return IntervalUnit::kDayTime;
  }
  if (text == "month_day_nano") {
    return IntervalUnit::kMonthDayNano;
  }
  return Status::InvalidArgument("Unknown interval unit: " + Echo(text) +
                                 " (expected year_month, day_time or month_day_nano)");
}

// Parse an integer in [lo, hi]; `what` names it in the error ("size", "precision", "scale").
Result<int32_t> ParseBoundedInt(std::string_view text, int32_t lo, int32_t hi, const char* what) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < lo ||
      value > hi) {
    return Status::InvalidArgument(std::string("Invalid ") + what + ": " + Echo(text));
  }
  return static_cast<int32_t>(value);
}

// Split the parameter list at top-level commas (commas nested inside <...> stay put).
std::vector<std::string_view> SplitParams(std::string_view text) {
  std::vector<std::string_view> parts;
  if (Trim(text).empty()) {
    return parts;
  }
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') {
      ++depth;
    } else if (text[i] == '>') {
      --depth;
    } else if (text[i] == ',' && depth == 0) {
      parts.push_back(Trim(text.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(Trim(text.substr(start)));
  return parts;
}

Status ArityError(std::string_view name, size_t expected, size_t got) {
  return Status::InvalidArgument(std::string(name) + " type requires exactly " +
                                 std::to_string(expected) + " parameter" +
                                 (expected == 1 ? "" : "s") + ", got " + std::to_string(got));
}

Field MakeField(std::string name, DataType type, bool nullable = true) {
  Field field;
  field.name = std::move(name);
  field.data_type = std::move(type);
  field.nullable = nullable;
  return field;
}

// Parse `name:type` members of struct<...> and union<...>.
Result<std::vector<Field>> ParseMembers(const std::vector<std::string_view>& params) {
  std::vector<Field> fields;
  for (std::string_view member : params) {
    size_t colon = member.find(':');
    if (colon == std::string_view::npos || Trim(member.substr(0, colon)).empty()) {
      return Status::InvalidArgument("Invalid struct field definition: " + Echo(member) +
                                     ". Expected format: name:type");
    }
    AQ_ASSIGN_OR_RETURN(DataType type, ParseDataType(member.substr(colon + 1)));
    fields.push_back(MakeField(std::string(Trim(member.substr(0, colon))), std::move(type)));
  }
  return fields;
}

Result<DataType> ParseTimeType(std::string_view name, const std::vector<std::string_view>& params) {
  DataType type;
  if (name == "timestamp") {
    if (params.empty() || params.size() > 2) {
      return Status::InvalidArgument("timestamp type requires 1 or 2 parameters, got " +
                                     std::to_string(params.size()));
    }
    type.id = TypeId::kTimestamp;
    if (params.size() == 2) {
      type.timezone = std::string(params[1]);
    }
  } else {
    if (params.size() != 1) {
      return ArityError(name, 1, params.size());
    }
    type.id = name == "time32"   ? TypeId::kTime32
              : name == "time64" ? TypeId::kTime64
                                 : TypeId::kDuration;
  }
  AQ_ASSIGN_OR_RETURN(type.unit, ParseTimeUnit(params[0]));
  bool coarse = type.unit == TimeUnit::kSecond || type.unit == TimeUnit::kMillisecond;
  if (type.id == TypeId::kTime32 && !coarse) {
    return Status::InvalidArgument("time32 requires unit second or millisecond, got " +
                                   std::string(params[0]));
  }
  if (type.id == TypeId::kTime64 && coarse) {
    return Status::InvalidArgument("time64 requires unit microsecond or nanosecond, got " +
                                   std::string(params[0]));
  }
  return type;
}

Result<DataType> ParseParameterized(std::string_view name,
                                    const std::vector<std::string_view>& params) {
  DataType type;
  auto need = [&](size_t n) -> Status {
    return params.size() == n ? Status::OK() : ArityError(name, n, params.size());
  };
  if (name == "list" || name == "large_list") {
    AQ_RETURN_IF_ERROR(need(1));
    type.id = name == "list" ? TypeId::kList : TypeId::kLargeList;
    AQ_ASSIGN_OR_RETURN(DataType child, ParseDataType(params[0]));
    type.children.push_back(MakeField("item", std::move(child)));
  } else if (name == "fixed_list") {
    AQ_RETURN_IF_ERROR(need(2));
    type.id = TypeId::kFixedSizeList;
    AQ_ASSIGN_OR_RETURN(DataType child, ParseDataType(params[0]));
    type.children.push_back(MakeField("item", std::move(child)));
    AQ_ASSIGN_OR_RETURN(type.size,
                        ParseBoundedInt(params[1], 0, std::numeric_limits<int32_t>::max(), "size"));
  } else if (name == "fixed_binary") {
    AQ_RETURN_IF_ERROR(need(1));
    type.id = TypeId::kFixedSizeBinary;
    AQ_ASSIGN_OR_RETURN(type.size,
                        ParseBoundedInt(params[0], 0, std::numeric_limits<int32_t>::max(), "size"));
  } else if (name == "decimal" || name == "decimal256") {
    AQ_RETURN_IF_ERROR(need(2));
    type.id = name == "decimal" ? TypeId::kDecimal128 : TypeId::kDecimal256;
    // Precision is read as u8 and scale as i8, as the original does.
    AQ_ASSIGN_OR_RETURN(type.precision, ParseBoundedInt(params[0], 0, 255, "precision"));
    AQ_ASSIGN_OR_RETURN(type.scale, ParseBoundedInt(params[1], -128, 127, "scale"));
  } else if (name == "timestamp" || name == "time32" || name == "time64" || name == "duration") {
    return ParseTimeType(name, params);
  } else if (name == "interval") {
    AQ_RETURN_IF_ERROR(need(1));
    type.id = TypeId::kInterval;
    AQ_ASSIGN_OR_RETURN(type.interval_unit, ParseIntervalUnit(params[0]));
  } else if (name == "struct") {
    type.id = TypeId::kStruct;
    AQ_ASSIGN_OR_RETURN(type.children, ParseMembers(params));
  } else if (name == "union") {
    // Unlike the original, union<sparse|dense,a:T,...> parses back what ToString prints.
    type.id = TypeId::kUnion;
    if (!params.empty() && (params[0] == "sparse" || params[0] == "dense")) {
      type.union_mode = params[0] == "dense" ? UnionMode::kDense : UnionMode::kSparse;
      std::vector<std::string_view> members(params.begin() + 1, params.end());
      AQ_ASSIGN_OR_RETURN(type.children, ParseMembers(members));
    } else {
      return Status::InvalidArgument("union type requires a mode (sparse or dense) first, got " +
                                     std::string(params.empty() ? "nothing" : params[0]));
    }
  } else if (name == "map" || name == "dictionary") {
    AQ_RETURN_IF_ERROR(need(2));
    type.id = name == "map" ? TypeId::kMap : TypeId::kDictionary;
    AQ_ASSIGN_OR_RETURN(DataType key, ParseDataType(params[0]));
    AQ_ASSIGN_OR_RETURN(DataType value, ParseDataType(params[1]));
    type.children.push_back(MakeField("key", std::move(key), name != "map"));
    type.children.push_back(MakeField("value", std::move(value)));
  } else {
    return Status::InvalidArgument("Unknown parameterized type: " + Echo(name));
  }
  return type;
}

std::string MembersToString(const std::vector<Field>& fields) {
  std::string out;
  for (const Field& field : fields) {
    out += ',' + field.name + ':' + ToString(field.data_type);
  }
  return out;
}

std::string ChildType(const DataType& type, size_t i) {
  return i < type.children.size() ? ToString(type.children[i].data_type) : "null";
}

}  // namespace

bool DataType::operator==(const DataType& other) const {
  if (id != other.id) {
    return false;
  }
  switch (id) {
    case TypeId::kTime32:
    case TypeId::kTime64:
    case TypeId::kDuration:
      return unit == other.unit;
    case TypeId::kTimestamp:
      return unit == other.unit && timezone == other.timezone;
    case TypeId::kInterval:
      return interval_unit == other.interval_unit;
    case TypeId::kFixedSizeBinary:
      return size == other.size;
    case TypeId::kDecimal128:
    case TypeId::kDecimal256:
      return precision == other.precision && scale == other.scale;
    case TypeId::kFixedSizeList:
      return size == other.size && children == other.children;
    case TypeId::kUnion:
      return union_mode == other.union_mode && children == other.children;
    default:
      return children == other.children;
  }
}

bool Field::operator==(const Field& other) const {
  return name == other.name && data_type == other.data_type && nullable == other.nullable &&
         description == other.description;
}

DataType MakeType(TypeId id) {
  DataType type;
  type.id = id;
  return type;
}

Result<DataType> ParseDataType(std::string_view text) {
  std::string_view trimmed = Trim(text);
  size_t open = trimmed.find('<');
  if (open == std::string_view::npos) {
    for (const SimpleName& simple : kSimpleNames) {
      if (trimmed == simple.name) {
        return MakeType(simple.id);
      }
    }
    return Status::InvalidArgument("Unknown data type: " + Echo(trimmed));
  }
  if (trimmed.back() != '>') {
    return Status::InvalidArgument("Unknown data type: " + Echo(trimmed));
  }
  std::string_view name = Trim(trimmed.substr(0, open));
  std::string_view inner = trimmed.substr(open + 1, trimmed.size() - open - 2);
  int depth = 0;
  for (char c : inner) {
    depth += c == '<' ? 1 : c == '>' ? -1 : 0;
    if (depth < 0) {
      break;
    }
  }
  if (depth != 0) {
    return Status::InvalidArgument("Unknown data type: " + Echo(trimmed) +
                                   " (unbalanced '<' and '>')");
  }
  return ParseParameterized(name, SplitParams(inner));
}

std::string ToString(const DataType& type) {
  switch (type.id) {
    case TypeId::kFixedSizeBinary:
      return "fixed_binary<" + std::to_string(type.size) + ">";
    case TypeId::kTime32:
      return std::string("time32<") + TimeUnitName(type.unit) + ">";
    case TypeId::kTime64:
      return std::string("time64<") + TimeUnitName(type.unit) + ">";
    case TypeId::kDuration:
      return std::string("duration<") + TimeUnitName(type.unit) + ">";
    case TypeId::kTimestamp:
      return std::string("timestamp<") + TimeUnitName(type.unit) +
             (type.timezone ? "," + *type.timezone : "") + ">";
    case TypeId::kInterval:
      return std::string("interval<") + IntervalUnitName(type.interval_unit) + ">";
    case TypeId::kDecimal128:
    case TypeId::kDecimal256:
      return std::string(type.id == TypeId::kDecimal128 ? "decimal<" : "decimal256<") +
             std::to_string(type.precision) + "," + std::to_string(type.scale) + ">";
    case TypeId::kList:
      return "list<" + ChildType(type, 0) + ">";
    case TypeId::kLargeList:
      return "large_list<" + ChildType(type, 0) + ">";
    case TypeId::kFixedSizeList:
      return "fixed_list<" + ChildType(type, 0) + "," + std::to_string(type.size) + ">";
    case TypeId::kStruct: {
      std::string members = MembersToString(type.children);
      return "struct<" + (members.empty() ? members : members.substr(1)) + ">";
    }
    case TypeId::kUnion:
      return std::string("union<") + (type.union_mode == UnionMode::kDense ? "dense" : "sparse") +
             MembersToString(type.children) + ">";
    case TypeId::kMap:
      return "map<" + ChildType(type, 0) + "," + ChildType(type, 1) + ">";
    case TypeId::kDictionary:
      return "dictionary<" + ChildType(type, 0) + "," + ChildType(type, 1) + ">";
    default:
      break;
  }
  for (const SimpleName& simple : kSimpleNames) {
    if (simple.id == type.id) {
      return simple.name;
    }
  }
  return "unknown";
}

}  // namespace aqueducts

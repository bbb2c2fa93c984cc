// arrow_cast(value, 'ArrowType'): DataFusion's cast to a type named the way Arrow prints types.
// The type argument must be a constant; it is parsed when the query is bound, so a bad name is
// an error before any row is read.
#include "engine/arrow_cast.h"

#include <cctype>
#include <map>

#include <duckdb.hpp>
#include <duckdb/execution/expression_executor.hpp>
#include <duckdb/main/extension/extension_loader.hpp>

#include "common/text.h"

namespace aqueducts::engine {
namespace {

// Split "a, B(c, d), e" at top-level commas.
std::vector<std::string> TopLevelArgs(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') {
      depth++;
    } else if (c == ')') {
      depth--;
    }
    if (c == ',' && depth == 0) {
      out.emplace_back(Trim(cur, " \t"));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.emplace_back(Trim(cur, " \t"));
  return out;
}

bool ParseInt(const std::string& s, int* value) {
  if (s.empty() || s.size() > 3) {
    return false;
  }
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  *value = std::stoi(s);
  return true;
}

}  // namespace

Result<duckdb::LogicalType> ParseArrowType(const std::string& text) {
  using duckdb::LogicalType;
  std::string t(Trim(text, " \t"));
  static const std::map<std::string, LogicalType> simple = {
      {"Null", LogicalType::SQLNULL},      {"Boolean", LogicalType::BOOLEAN},
      {"Int8", LogicalType::TINYINT},      {"Int16", LogicalType::SMALLINT},
      {"Int32", LogicalType::INTEGER},     {"Int64", LogicalType::BIGINT},
      {"UInt8", LogicalType::UTINYINT},    {"UInt16", LogicalType::USMALLINT},
      {"UInt32", LogicalType::UINTEGER},   {"UInt64", LogicalType::UBIGINT},
      {"Float16", LogicalType::FLOAT},     {"Float32", LogicalType::FLOAT},
      {"Float64", LogicalType::DOUBLE},    {"Utf8", LogicalType::VARCHAR},
      {"LargeUtf8", LogicalType::VARCHAR}, {"Utf8View", LogicalType::VARCHAR},
      {"Binary", LogicalType::BLOB},       {"LargeBinary", LogicalType::BLOB},
      {"BinaryView", LogicalType::BLOB},   {"Date32", LogicalType::DATE},
      {"Date64", LogicalType::DATE},
  };
  if (auto it = simple.find(t); it != simple.end()) {
    return it->second;
  }
  size_t open = t.find('(');
  if (open == std::string::npos || t.back() != ')') {
    return Status::InvalidArgument("arrow_cast: unknown Arrow type '" + text + "'");
  }
  std::string head = t.substr(0, open);
  std::vector<std::string> args = TopLevelArgs(t.substr(open + 1, t.size() - open - 2));
  auto unit = [&](size_t i) { return i < args.size() ? args[i] : std::string(); };
  if (head == "Timestamp") {
    std::string tz = unit(1);
    if (!tz.empty() && tz != "None") {
      return LogicalType(LogicalType::TIMESTAMP_TZ);
    }
    static const std::map<std::string, LogicalType> units = {
        {"Second", LogicalType::TIMESTAMP_S},
        {"Millisecond", LogicalType::TIMESTAMP_MS},
        {"Microsecond", LogicalType::TIMESTAMP},
        {"Nanosecond", LogicalType::TIMESTAMP_NS}};
    if (auto it = units.find(unit(0)); it != units.end()) {
      return it->second;
    }
  } else if (head == "Time32" || head == "Time64") {
    return LogicalType(LogicalType::TIME);
  } else if (head == "Duration" || head == "Interval") {
    return LogicalType(LogicalType::INTERVAL);
  } else if (head == "FixedSizeBinary") {
    return LogicalType(LogicalType::BLOB);
  } else if (head == "Decimal32" || head == "Decimal64" || head == "Decimal128" ||
             head == "Decimal256") {
    int precision = 0, scale = 0;
    if (args.size() == 2 && ParseInt(args[0], &precision) && ParseInt(args[1], &scale) &&
        precision >= 1 && precision <= 38 && scale <= precision) {
      return LogicalType::DECIMAL(precision, scale);
    }
    return Status::InvalidArgument("arrow_cast: '" + text +
                                   "': DuckDB decimals take a precision of 1 to 38 and a scale "
                                   "not above it");
  } else if (head == "List" || head == "LargeList" || head == "ListView" ||
             head == "LargeListView") {
    AQ_ASSIGN_OR_RETURN(LogicalType child, ParseArrowType(unit(0)));
    return LogicalType::LIST(child);
  } else if (head == "FixedSizeList") {
    AQ_ASSIGN_OR_RETURN(LogicalType child, ParseArrowType(unit(1)));
    return LogicalType::LIST(child);
  } else if (head == "Dictionary") {
    return ParseArrowType(unit(1));  // DuckDB has no dictionary type: the value type
  }
  return Status::InvalidArgument("arrow_cast: unknown Arrow type '" + text + "'");
}

namespace {

struct ArrowCastData : public duckdb::FunctionData {
  explicit ArrowCastData(duckdb::LogicalType t) : type(std::move(t)) {}
  duckdb::unique_ptr<duckdb::FunctionData> Copy() const override {
    return duckdb::make_uniq<ArrowCastData>(type);
  }
  bool Equals(const duckdb::FunctionData& other) const override {
    return type == other.Cast<ArrowCastData>().type;
  }
  duckdb::LogicalType type;
};

duckdb::unique_ptr<duckdb::FunctionData> BindArrowCast(
    duckdb::ClientContext& context, duckdb::ScalarFunction& function,
    duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& arguments) {
  if (!arguments[1]->IsFoldable()) {
    throw duckdb::BinderException("arrow_cast: the type argument must be a constant string");
  }
  duckdb::Value name = duckdb::ExpressionExecutor::EvaluateScalar(context, *arguments[1]);
  if (name.IsNull()) {
    throw duckdb::BinderException("arrow_cast: the type argument must not be NULL");
  }
  auto type = ParseArrowType(name.ToString());
  if (!type.ok()) {
    throw duckdb::BinderException(type.status().message());
  }
  function.return_type = *type;
  return duckdb::make_uniq<ArrowCastData>(*type);
}

void ExecuteArrowCast(duckdb::DataChunk& args, duckdb::ExpressionState& state,
                      duckdb::Vector& result) {
  duckdb::VectorOperations::Cast(state.GetContext(), args.data[0], result, args.size());
}

}  // namespace

void RegisterArrowCast(duckdb::DatabaseInstance& db) {
  duckdb::ScalarFunction function("arrow_cast",
                                  {duckdb::LogicalType::ANY, duckdb::LogicalType::VARCHAR},
                                  duckdb::LogicalType::ANY, ExecuteArrowCast, BindArrowCast);
  duckdb::ExtensionLoader loader(db, "aqueducts");
  loader.RegisterFunction(function);
}

}  // namespace aqueducts::engine

#include "odbc/column_plan.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "odbc/odbc_values.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Unconstrained decimals (PostgreSQL `numeric` without a precision) become DECIMAL(38,18); a
// value with more digits is refused rather than rounded.
constexpr int32_t kFreePrecision = 38;
constexpr int32_t kFreeScale = 18;

void PlanDecimal(ColumnPlan* plan, int32_t precision, int32_t scale) {
  plan->field.data_type.id = TypeId::kDecimal128;
  plan->field.data_type.precision = precision;
  plan->field.data_type.scale = scale;
  plan->c_type = SQL_C_CHAR;
  plan->element_bytes = 64;
}

}  // namespace

// DuckDB rejects duplicates such as two "?column?": a repeated name gets the first free suffix.
void DeduplicateNames(std::vector<ColumnPlan>* plans) {
  std::set<std::string> seen;
  for (auto& plan : *plans) {
    std::string name = plan.field.name.empty() ? "column" : plan.field.name;
    std::string candidate = name;
    for (int n = 1; !seen.insert(Lower(candidate)).second; ++n) {
      candidate = name + "_" + std::to_string(n);
    }
    plan.field.name = candidate;
  }
}

ColumnPlan PlanColumn(std::string name, SQLSMALLINT sql_type, SQLULEN size, SQLSMALLINT digits,
                      std::string_view type_name) {
  ColumnPlan plan;
  plan.field.name = std::move(name);
  DataType& type = plan.field.data_type;
  auto text = [&](SQLULEN chars) {
    type.id = TypeId::kUtf8;
    plan.c_type = SQL_C_WCHAR;
    // Two UTF-16 units per character covers surrogate pairs, plus the terminator.
    plan.long_data = chars == 0 || chars > kMaxBoundChars;
    plan.element_bytes = static_cast<SQLLEN>((2 * chars + 1) * sizeof(SQLWCHAR));
  };
  const bool decimal_type = sql_type == SQL_DECIMAL || sql_type == SQL_NUMERIC;
  if (!decimal_type && Lower(type_name) == "numeric") {
    // psqlODBC's NumericAs=-1 (driver_options.h): a numeric without precision described as
    // text, so it is told apart from a real numeric(28,6).
    PlanDecimal(&plan, kFreePrecision, kFreeScale);
    plan.long_data = true;
    return plan;
  }
  switch (sql_type) {
    case SQL_BIT:
      type.id = TypeId::kBoolean;
      plan.c_type = SQL_C_BIT;
      plan.element_bytes = 1;
      break;
    case SQL_TINYINT:
      type.id = TypeId::kInt8;
      break;
    case SQL_SMALLINT:
      type.id = TypeId::kInt16;
      break;
    case SQL_INTEGER:
      type.id = TypeId::kInt32;
      break;
    case SQL_BIGINT:
      type.id = TypeId::kInt64;
      break;
    case SQL_REAL:
      type.id = TypeId::kFloat32;
      break;
    case SQL_FLOAT:
    case SQL_DOUBLE:
      type.id = TypeId::kFloat64;
      break;
    case SQL_DECIMAL:
    case SQL_NUMERIC:
      if (size >= 1 && size <= 38 && digits >= 0 && static_cast<SQLULEN>(digits) <= size) {
        PlanDecimal(&plan, static_cast<int32_t>(size), digits);
      } else if (size > 38 && digits >= 0 && digits <= 38) {
        // Wider than DuckDB's DECIMAL: keep the scale, refuse values with too many digits.
        PlanDecimal(&plan, kFreePrecision, digits);
        plan.element_bytes = static_cast<SQLLEN>(std::min<SQLULEN>(size, 1000) + 3);
      } else {
        PlanDecimal(&plan, kFreePrecision, kFreeScale);
        plan.long_data = true;
      }
      break;
    case SQL_TYPE_DATE:
    case SQL_DATE:
      type.id = TypeId::kDate32;
      plan.temporal = TemporalKind::kDate;
      break;
    case SQL_TYPE_TIME:
    case SQL_TIME:
      type.id = TypeId::kTime64;
      plan.temporal = TemporalKind::kTime;
      break;
    case SQL_TYPE_TIMESTAMP:
    case SQL_TIMESTAMP:
      type.id = TypeId::kTimestamp;
      plan.temporal = TemporalKind::kTimestamp;
      if (Lower(type_name) == "timestamptz" || Lower(type_name) == "timestamp with time zone") {
        type.timezone = "UTC";  // an instant: DuckDB TIMESTAMPTZ
        plan.temporal = TemporalKind::kTimestampTz;
      }
      break;
    case SQL_BINARY:
    case SQL_VARBINARY:
    case SQL_LONGVARBINARY:
      type.id = TypeId::kBinary;
      plan.c_type = SQL_C_BINARY;
      plan.long_data = sql_type == SQL_LONGVARBINARY || size == 0 || size > kMaxBoundChars;
      plan.element_bytes = static_cast<SQLLEN>(size);
      break;
    case SQL_LONGVARCHAR:
    case SQL_WLONGVARCHAR:
      text(0);
      break;
    default:
      text(sql_type == SQL_GUID ? 36 : size);
      plan.lower_case = sql_type == SQL_GUID;
      break;
  }
  switch (type.id) {
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
      plan.c_type = SQL_C_SBIGINT;
      plan.element_bytes = 8;
      break;
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      plan.c_type = SQL_C_DOUBLE;
      plan.element_bytes = 8;
      break;
    case TypeId::kDate32:
    case TypeId::kTime64:
    case TypeId::kTimestamp:
      plan.c_type = SQL_C_CHAR;  // ISO text, see ColumnPlan::temporal
      plan.element_bytes = 64;
      break;
    default:
      break;
  }
  return plan;
}

namespace {

Status ValueError(const ColumnPlan& plan, int64_t row, const Status& cause) {
  return Status::ExecutionError("Column '" + plan.field.name + "', row " + std::to_string(row) +
                                ": " + cause.message() + " (a " + ToString(plan.field.data_type) +
                                " column cannot hold it exactly; cast it in load_query, e.g. "
                                "to text)");
}

// Decimal or date/time text of a SQL_C_CHAR column.
Status AppendText(const ColumnPlan& plan, std::string_view text, int64_t row,
                  engine::ColumnVector* out) {
  const DataType& type = plan.field.data_type;
  if (plan.temporal) {
    auto value = ParseTemporal(text, *plan.temporal);
    if (!value.ok()) {
      return ValueError(plan, row, value.status());
    }
    out->ints.push_back(*value);
    return Status::OK();
  }
  if (out->storage() == engine::Storage::kString) {
    auto fitted = FitDecimalText(text, type.precision, type.scale);
    if (!fitted.ok()) {
      return ValueError(plan, row, fitted.status());
    }
    out->strings.push_back(std::move(fitted).value());
    return Status::OK();
  }
  auto unscaled = ParseUnscaled(text, type.scale);
  if (!unscaled) {
    Status why = FitDecimalText(text, type.precision, type.scale).status();
    return ValueError(
        plan, row,
        why.ok() ? Status::ExecutionError("value '" + std::string(text) + "' does not fit") : why);
  }
  out->ints.push_back(*unscaled);
  return Status::OK();
}

}  // namespace

Status AppendValue(const ColumnPlan& plan, const char* data, SQLLEN ind, int64_t row,
                   engine::ColumnVector* out) {
  const engine::Storage storage = out->storage();
  const bool is_null = ind == SQL_NULL_DATA;
  if (is_null) {
    out->valid.push_back(0);
    if (storage == engine::Storage::kInt) {
      out->ints.push_back(0);
    } else if (storage == engine::Storage::kDouble) {
      out->doubles.push_back(0);
    } else {
      out->strings.emplace_back();
    }
    return Status::OK();
  }
  switch (plan.c_type) {
    case SQL_C_BIT:
      out->ints.push_back(*reinterpret_cast<const unsigned char*>(data) ? 1 : 0);
      break;
    case SQL_C_SBIGINT: {
      int64_t v;
      std::memcpy(&v, data, sizeof v);
      out->ints.push_back(v);
      break;
    }
    case SQL_C_DOUBLE: {
      double v;
      std::memcpy(&v, data, sizeof v);
      out->doubles.push_back(v);
      break;
    }
    case SQL_C_CHAR:
      AQ_RETURN_IF_ERROR(
          AppendText(plan, std::string_view(data, static_cast<size_t>(ind)), row, out));
      break;
    case SQL_C_BINARY:
      out->strings.emplace_back(data, static_cast<size_t>(ind));
      break;
    default: {  // SQL_C_WCHAR
      std::string text = FromWide(reinterpret_cast<const SQLWCHAR*>(data),
                                  static_cast<size_t>(ind) / sizeof(SQLWCHAR));
      if (plan.lower_case) {
        text = Lower(text);
      }
      out->strings.push_back(std::move(text));
      break;
    }
  }
  out->valid.push_back(1);  // after the value: a refused value leaves the column consistent
  return Status::OK();
}

Result<std::vector<ColumnPlan>> DescribeColumns(OdbcConnection& conn, SQLHSTMT stmt) {
  SQLSMALLINT count = 0;
  if (!Succeeded(SQLNumResultCols(stmt, &count))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Reading the result columns failed");
  }
  if (count == 0) {
    return Status::InvalidArgument(
        "load_query returned no result set (it must be a query such as SELECT)");
  }
  std::vector<ColumnPlan> plans;
  for (SQLUSMALLINT c = 1; c <= static_cast<SQLUSMALLINT>(count); ++c) {
    SQLWCHAR name[512] = {};
    SQLSMALLINT name_length = 0, sql_type = 0, digits = 0, nullable = 0;
    SQLULEN size = 0;
    if (!Succeeded(SQLDescribeColW(stmt, c, name, 512, &name_length, &sql_type, &size, &digits,
                                   &nullable))) {
      return conn.Diagnose(SQL_HANDLE_STMT, stmt,
                           "Describing result column " + std::to_string(c) + " failed");
    }
    SQLWCHAR type_name[128] = {};
    SQLSMALLINT type_name_bytes = 0;
    if (!Succeeded(SQLColAttributeW(stmt, c, SQL_DESC_TYPE_NAME, type_name, sizeof(type_name),
                                    &type_name_bytes, nullptr))) {
      type_name_bytes = 0;  // optional: only refines the mapping
    }
    plans.push_back(
        PlanColumn(FromWide(name, std::min<size_t>(name_length, 511)), sql_type, size, digits,
                   FromWide(type_name, std::min<size_t>(type_name_bytes / sizeof(SQLWCHAR), 127))));
  }
  DeduplicateNames(&plans);
  return plans;
}

}  // namespace aqueducts::odbc

#include "odbc/column_plan.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "odbc/odbc_values.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

// Make column names unique (DuckDB rejects duplicates such as two "?column?").
void DeduplicateNames(std::vector<ColumnPlan>* plans) {
  std::set<std::string> seen;
  for (auto& plan : *plans) {
    std::string name = plan.field.name.empty() ? "column" : plan.field.name;
    std::string candidate = name;
    for (int n = 1; !seen.insert(candidate).second; ++n) {
      candidate = name + "_" + std::to_string(n);
    }
    plan.field.name = candidate;
  }
}

}  // namespace

ColumnPlan PlanColumn(std::string name, SQLSMALLINT sql_type, SQLULEN size, SQLSMALLINT digits) {
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
        type.id = TypeId::kDecimal128;
        type.precision = static_cast<int32_t>(size);
        type.scale = digits;
        plan.c_type = SQL_C_CHAR;
        plan.element_bytes = 64;
      } else {
        type.id = TypeId::kFloat64;  // unconstrained or too wide for DuckDB's DECIMAL
      }
      break;
    case SQL_TYPE_DATE:
    case SQL_DATE:
      type.id = TypeId::kDate32;
      break;
    case SQL_TYPE_TIME:
    case SQL_TIME:
      type.id = TypeId::kTime64;
      break;
    case SQL_TYPE_TIMESTAMP:
    case SQL_TIMESTAMP:
      type.id = TypeId::kTimestamp;
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
      plan.c_type = SQL_C_TYPE_DATE;
      plan.element_bytes = sizeof(SQL_DATE_STRUCT);
      break;
    case TypeId::kTime64:
      plan.c_type = SQL_C_TYPE_TIME;
      plan.element_bytes = sizeof(SQL_TIME_STRUCT);
      break;
    case TypeId::kTimestamp:
      plan.c_type = SQL_C_TYPE_TIMESTAMP;
      plan.element_bytes = sizeof(SQL_TIMESTAMP_STRUCT);
      break;
    default:
      break;
  }
  return plan;
}

// Append one fetched value (`ind` bytes at `data`, or SQL_NULL_DATA) to `out`.
Status AppendValue(const ColumnPlan& plan, const char* data, SQLLEN ind,
                   engine::ColumnVector* out) {
  const engine::Storage storage = out->storage();
  const bool is_null = ind == SQL_NULL_DATA;
  out->valid.push_back(is_null ? 0 : 1);
  if (is_null) {
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
    case SQL_C_TYPE_DATE: {
      const auto* d = reinterpret_cast<const SQL_DATE_STRUCT*>(data);
      out->ints.push_back(DaysFromCivil(d->year, d->month, d->day));
      break;
    }
    case SQL_C_TYPE_TIME: {
      const auto* t = reinterpret_cast<const SQL_TIME_STRUCT*>(data);
      out->ints.push_back((t->hour * 3600LL + t->minute * 60LL + t->second) * 1000000LL);
      break;
    }
    case SQL_C_TYPE_TIMESTAMP:
      out->ints.push_back(
          MicrosFromTimestamp(*reinterpret_cast<const SQL_TIMESTAMP_STRUCT*>(data)));
      break;
    case SQL_C_CHAR: {  // decimal text
      std::string_view text(data, static_cast<size_t>(ind));
      if (storage == engine::Storage::kString) {
        out->strings.emplace_back(text);
        break;
      }
      auto unscaled = ParseUnscaled(text, plan.field.data_type.scale);
      if (!unscaled) {
        return Status::ExecutionError("Column '" + plan.field.name + "': value '" +
                                      std::string(text) + "' does not fit " +
                                      ToString(plan.field.data_type));
      }
      out->ints.push_back(*unscaled);
      break;
    }
    case SQL_C_BINARY:
      out->strings.emplace_back(data, static_cast<size_t>(ind));
      break;
    default:  // SQL_C_WCHAR
      out->strings.push_back(FromWide(reinterpret_cast<const SQLWCHAR*>(data),
                                      static_cast<size_t>(ind) / sizeof(SQLWCHAR)));
      break;
  }
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
    plans.push_back(
        PlanColumn(FromWide(name, std::min<size_t>(name_length, 511)), sql_type, size, digits));
  }
  DeduplicateNames(&plans);
  return plans;
}

}  // namespace aqueducts::odbc

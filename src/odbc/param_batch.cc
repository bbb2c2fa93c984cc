#include "odbc/param_batch.h"

#include <algorithm>
#include <cstring>

#include "odbc/odbc_values.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

// The C type, SQL type, column size and decimal digits a column's values are bound as.
struct Binding {
  SQLSMALLINT c_type;
  SQLSMALLINT sql_type;
  SQLULEN column_size = 0;
  SQLSMALLINT digits = 0;
  size_t element_bytes = 0;
};

Binding FixedBinding(const DataType& type) {
  switch (type.id) {
    case TypeId::kBoolean:
      return {SQL_C_BIT, SQL_BIT, 1, 0, 1};
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
      return {SQL_C_SLONG, SQL_INTEGER, 10, 0, sizeof(SQLINTEGER)};
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return {SQL_C_SBIGINT, SQL_BIGINT, 19, 0, sizeof(int64_t)};
    case TypeId::kFloat16:
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return {SQL_C_DOUBLE, SQL_DOUBLE, 15, 0, sizeof(double)};
    case TypeId::kDate32:
    case TypeId::kDate64:
      return {SQL_C_TYPE_DATE, SQL_TYPE_DATE, 10, 0, sizeof(SQL_DATE_STRUCT)};
    case TypeId::kTime32:
    case TypeId::kTime64:
      return {SQL_C_TYPE_TIME, SQL_TYPE_TIME, 8, 0, sizeof(SQL_TIME_STRUCT)};
    case TypeId::kTimestamp:
      return {SQL_C_TYPE_TIMESTAMP, SQL_TYPE_TIMESTAMP, 26, 6, sizeof(SQL_TIMESTAMP_STRUCT)};
    case TypeId::kDecimal128:
    case TypeId::kDecimal256:
      return {SQL_C_CHAR, SQL_NUMERIC, static_cast<SQLULEN>(type.precision),
              static_cast<SQLSMALLINT>(type.scale), 48};
    case TypeId::kBinary:
    case TypeId::kLargeBinary:
    case TypeId::kFixedSizeBinary:
      return {SQL_C_BINARY, SQL_VARBINARY};
    default:
      return {SQL_C_WCHAR, SQL_WVARCHAR};
  }
}

void WriteFixed(const engine::ColumnVector& column, size_t row, const Binding& b, char* out) {
  switch (b.c_type) {
    case SQL_C_BIT:
      *reinterpret_cast<unsigned char*>(out) = column.ints[row] ? 1 : 0;
      break;
    case SQL_C_SLONG: {
      const auto v = static_cast<SQLINTEGER>(column.ints[row]);
      std::memcpy(out, &v, sizeof v);
      break;
    }
    case SQL_C_SBIGINT:
      std::memcpy(out, &column.ints[row], sizeof(int64_t));
      break;
    case SQL_C_DOUBLE:
      std::memcpy(out, &column.doubles[row], sizeof(double));
      break;
    case SQL_C_TYPE_DATE: {
      SQL_DATE_STRUCT d = DateFromDays(column.ints[row]);
      std::memcpy(out, &d, sizeof d);
      break;
    }
    case SQL_C_TYPE_TIME: {
      const int64_t seconds = column.ints[row] / 1000000;
      SQL_TIME_STRUCT t;
      t.hour = static_cast<SQLUSMALLINT>(seconds / 3600);
      t.minute = static_cast<SQLUSMALLINT>(seconds / 60 % 60);
      t.second = static_cast<SQLUSMALLINT>(seconds % 60);
      std::memcpy(out, &t, sizeof t);
      break;
    }
    case SQL_C_TYPE_TIMESTAMP: {
      SQL_TIMESTAMP_STRUCT ts = TimestampFromMicros(column.ints[row]);
      std::memcpy(out, &ts, sizeof ts);
      break;
    }
    default:
      break;
  }
}

}  // namespace

Status ParamBatch::Bind(OdbcConnection& conn, SQLHSTMT stmt, const engine::ColumnBatch& batch,
                        size_t offset, size_t count) {
  columns_.resize(batch.columns.size());
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    const engine::ColumnVector& column = batch.columns[c];
    Column& buffer = columns_[c];
    Binding binding = FixedBinding(column.type);
    buffer.indicators.assign(count, 0);
    std::vector<WideString> wide;
    if (binding.element_bytes == 0) {
      // Variable-length: size the element to the longest value of this slice.
      size_t longest = 1;
      if (binding.c_type == SQL_C_WCHAR) {
        wide.resize(count);
        for (size_t r = 0; r < count; ++r) {
          if (!column.IsNull(offset + r)) {
            wide[r] = ToWide(column.strings[offset + r]);
            longest = std::max(longest, wide[r].size());
          }
        }
        binding.element_bytes = (longest + 1) * sizeof(SQLWCHAR);
      } else {
        for (size_t r = 0; r < count; ++r) {
          longest = std::max(longest, column.strings[offset + r].size());
        }
        binding.element_bytes = longest;
      }
      binding.column_size = longest;
    }
    buffer.data.assign(count * binding.element_bytes, 0);
    for (size_t r = 0; r < count; ++r) {
      const size_t row = offset + r;
      char* out = buffer.data.data() + r * binding.element_bytes;
      if (column.IsNull(row)) {
        buffer.indicators[r] = SQL_NULL_DATA;
      } else if (binding.c_type == SQL_C_WCHAR) {
        std::memcpy(out, wide[r].data(), wide[r].size() * sizeof(SQLWCHAR));
        buffer.indicators[r] = static_cast<SQLLEN>(wide[r].size() * sizeof(SQLWCHAR));
      } else if (binding.c_type == SQL_C_BINARY) {
        const std::string& s = column.strings[row];
        std::memcpy(out, s.data(), s.size());
        buffer.indicators[r] = static_cast<SQLLEN>(s.size());
      } else if (binding.c_type == SQL_C_CHAR) {
        const std::string text = column.storage() == engine::Storage::kInt
                                     ? FormatUnscaled(column.ints[row], column.type.scale)
                                     : column.strings[row];
        std::memcpy(out, text.data(), std::min(text.size(), binding.element_bytes - 1));
        buffer.indicators[r] = SQL_NTS;
      } else {
        WriteFixed(column, row, binding, out);
        buffer.indicators[r] = static_cast<SQLLEN>(binding.element_bytes);
      }
    }
    SQLRETURN rc =
        SQLBindParameter(stmt, static_cast<SQLUSMALLINT>(c + 1), SQL_PARAM_INPUT, binding.c_type,
                         binding.sql_type, binding.column_size, binding.digits, buffer.data.data(),
                         static_cast<SQLLEN>(binding.element_bytes), buffer.indicators.data());
    if (!Succeeded(rc)) {
      return conn.Diagnose(
          SQL_HANDLE_STMT, stmt,
          "Binding parameter " + std::to_string(c + 1) + " ('" + column.name + "') failed");
    }
  }
  if (!Succeeded(SQLSetStmtAttr(stmt, SQL_ATTR_PARAMSET_SIZE,
                                reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(count)), 0))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Setting the parameter array size failed");
  }
  return Status::OK();
}

}  // namespace aqueducts::odbc

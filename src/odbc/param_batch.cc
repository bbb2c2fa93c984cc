#include "odbc/param_batch.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

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
    case TypeId::kTime32:
    case TypeId::kTime64:
    case TypeId::kTimestamp:
      // ISO text (see Bind): typed by the server from the target column, so PostgreSQL reads
      // "... BC", "infinity" and "+00" exactly (psqlODBC would re-parse a date/time parameter
      // and cast it to timestamp, dropping the offset).
      return {SQL_C_CHAR, SQL_VARCHAR, 40, 0, 48};
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
    default:
      break;
  }
}

// The SQL_C_CHAR text of a decimal or date/time value.
std::string CharText(const engine::ColumnVector& column, size_t row) {
  if (auto temporal = TemporalOf(column.type)) {
    return FormatTemporal(column.ints[row], *temporal);
  }
  return column.storage() == engine::Storage::kInt
             ? FormatUnscaled(column.ints[row], column.type.scale)
             : column.strings[row];
}

}  // namespace

Status ParamBatch::Bind(OdbcConnection& conn, SQLHSTMT stmt, const engine::ColumnBatch& batch,
                        size_t offset, size_t count, int64_t first_row, size_t rows_per_set) {
  const size_t ncols = batch.columns.size();
  std::vector<Binding> bindings(ncols);
  std::vector<std::vector<WideString>> wide(ncols);
  // Row-major layout: per row, for each column an SQLLEN indicator then the value, 8-aligned,
  // so one stride (SQL_ATTR_PARAM_BIND_TYPE) serves every parameter.
  std::vector<size_t> column_offsets(ncols);
  size_t row_bytes = 0;
  for (size_t c = 0; c < ncols; ++c) {
    const engine::ColumnVector& column = batch.columns[c];
    Binding& binding = bindings[c];
    binding = FixedBinding(column.type);
    if (binding.element_bytes == 0) {
      // Variable-length: size the element to the longest value of this slice.
      size_t longest = 1;
      if (binding.c_type == SQL_C_WCHAR) {
        wide[c].resize(count);
        for (size_t r = 0; r < count; ++r) {
          if (!column.IsNull(offset + r)) {
            const std::string& text = column.strings[offset + r];
            if (text.find('\0') != std::string::npos) {
              return Status::InvalidArgument(
                  "Column '" + column.name + "', row " +
                  std::to_string(first_row + static_cast<int64_t>(r)) +
                  ": the text contains a NUL character (U+0000), which ODBC text parameters "
                  "cannot carry (the value would be cut); remove it, e.g. with "
                  "replace(x, chr(0), ''), or write it as a BLOB");
            }
            wide[c][r] = ToWide(text);
            longest = std::max(longest, wide[c][r].size());
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
    column_offsets[c] = row_bytes;
    row_bytes += sizeof(SQLLEN) + (binding.element_bytes + 7) / 8 * 8;
  }
  buffer_.assign(count * row_bytes / sizeof(int64_t), 0);
  char* base = reinterpret_cast<char*>(buffer_.data());
  for (size_t c = 0; c < ncols; ++c) {
    const engine::ColumnVector& column = batch.columns[c];
    const Binding& binding = bindings[c];
    for (size_t r = 0; r < count; ++r) {
      const size_t row = offset + r;
      auto* indicator = reinterpret_cast<SQLLEN*>(base + r * row_bytes + column_offsets[c]);
      char* out = reinterpret_cast<char*>(indicator + 1);
      if (column.IsNull(row)) {
        *indicator = SQL_NULL_DATA;
      } else if (binding.c_type == SQL_C_WCHAR) {
        std::memcpy(out, wide[c][r].data(), wide[c][r].size() * sizeof(SQLWCHAR));
        *indicator = static_cast<SQLLEN>(wide[c][r].size() * sizeof(SQLWCHAR));
      } else if (binding.c_type == SQL_C_BINARY) {
        const std::string& bytes = column.strings[row];
        std::memcpy(out, bytes.data(), bytes.size());
        *indicator = static_cast<SQLLEN>(bytes.size());
      } else if (binding.c_type == SQL_C_CHAR) {
        const std::string text = CharText(column, row);
        std::memcpy(out, text.data(), std::min(text.size(), binding.element_bytes - 1));
        *indicator = SQL_NTS;
      } else {
        WriteFixed(column, row, binding, out);
        *indicator = static_cast<SQLLEN>(binding.element_bytes);
      }
    }
  }
  // Parameter (j, c) of a statement with `rows_per_set` rows of markers is column c of row j of
  // each parameter set.
  for (size_t j = 0; j < rows_per_set; ++j) {
    for (size_t c = 0; c < ncols; ++c) {
      const Binding& b = bindings[c];
      auto* indicator = reinterpret_cast<SQLLEN*>(base + j * row_bytes + column_offsets[c]);
      const auto number = static_cast<SQLUSMALLINT>(j * ncols + c + 1);
      SQLRETURN rc = SQLBindParameter(stmt, number, SQL_PARAM_INPUT, b.c_type, b.sql_type,
                                      b.column_size, b.digits, indicator + 1,
                                      static_cast<SQLLEN>(b.element_bytes), indicator);
      if (!Succeeded(rc)) {
        return conn.Diagnose(SQL_HANDLE_STMT, stmt,
                             "Binding parameter " + std::to_string(number) + " ('" +
                                 batch.columns[c].name + "') failed");
      }
    }
  }
  const auto stride = static_cast<SQLULEN>(rows_per_set * row_bytes);
  const auto sets = static_cast<SQLULEN>(count / rows_per_set);
  if (!Succeeded(SQLSetStmtAttr(stmt, SQL_ATTR_PARAM_BIND_TYPE,
                                reinterpret_cast<SQLPOINTER>(stride), 0)) ||
      !Succeeded(
          SQLSetStmtAttr(stmt, SQL_ATTR_PARAMSET_SIZE, reinterpret_cast<SQLPOINTER>(sets), 0))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Setting up the parameter arrays failed");
  }
  return Status::OK();
}

}  // namespace aqueducts::odbc

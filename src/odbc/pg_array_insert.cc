#include "odbc/pg_array_insert.h"

#include <charconv>
#include <cmath>
#include <future>
#include <optional>

#include "odbc/odbc_values.h"

namespace aqueducts::odbc {

namespace {

bool IsDecimal(const DataType& type) {
  return type.id == TypeId::kDecimal128 || type.id == TypeId::kDecimal256;
}

bool IsBinary(const DataType& type) {
  return type.id == TypeId::kBinary || type.id == TypeId::kLargeBinary ||
         type.id == TypeId::kFixedSizeBinary;
}

void AppendQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
    }
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendDouble(double value, bool single, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "Infinity" : "-Infinity");
    return;
  }
  char buffer[32];
  // Shortest text that reads back as the same value (of the FLOAT itself for FLOAT columns).
  auto result = single ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(value))
                       : std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, result.ptr);
}

// Whether the target type (PostgreSQL's name of it, without modifiers) reads the element text
// of `source` as the generic path's parameter would be stored. Text-like values (strings,
// dates, times) are sent as the same text either way; numbers and booleans only into types
// whose input function takes their text.
bool Compatible(const DataType& source, const std::string& target) {
  if (target.empty() || target.back() == ']' || target == "character" || target == "\"char\"" ||
      target.rfind("bit", 0) == 0 || target.rfind("\"bit\"", 0) == 0) {
    // Arrays would be flattened by unnest; `character` and `bit` without a length mean
    // length 1 in a cast, which would cut the values.
    return false;
  }
  const bool text_target = target == "text" || target == "character varying" || target == "name";
  const bool float_target = target == "real" || target == "double precision";
  const bool numeric_target = target == "numeric" || float_target;
  if (IsBinary(source)) {
    return target == "bytea";
  }
  if (TemporalOf(source)) {
    return true;
  }
  if (source.id == TypeId::kBoolean) {
    return target == "boolean";
  }
  if (IsDecimal(source)) {
    return numeric_target || text_target;
  }
  switch (engine::StorageOf(source)) {
    case engine::Storage::kInt:
      return numeric_target || text_target || target == "smallint" || target == "integer" ||
             target == "bigint";
    case engine::Storage::kDouble:
      return numeric_target || text_target;
    case engine::Storage::kString:
      return true;
  }
  return false;
}

// PostgreSQL's names of the types of `columns` of `table`, in order.
Result<std::vector<std::string>> TargetTypes(OdbcConnection& conn, const std::string& table,
                                             const std::vector<std::string>& columns) {
  std::string select;
  for (size_t i = 0; i < columns.size(); ++i) {
    select += (i ? ", " : "") + std::string("pg_typeof(aq_t.") + columns[i] + ")::text";
  }
  std::string names;
  for (size_t i = 0; i < columns.size(); ++i) {
    names += (i ? ", " : "") + columns[i];
  }
  // The LEFT JOIN yields one row of NULLs whose types are the target columns' types.
  const std::string sql = "SELECT " + select + " FROM (SELECT 1 AS aq_one) AS aq_one LEFT JOIN " +
                          "(SELECT " + names + " FROM " + table + " WHERE 1=0) AS aq_t ON true";
  AQ_ASSIGN_OR_RETURN(auto stmt, conn.NewStatement());
  WideString wide = ToWide(sql);
  if (!Succeeded(
          SQLExecDirectW(stmt->handle(), wide.data(), static_cast<SQLINTEGER>(wide.size())))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt->handle(),
                         "Reading the column types of " + table + " failed");
  }
  if (!Succeeded(SQLFetch(stmt->handle()))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt->handle(),
                         "Reading the column types of " + table + " returned no row");
  }
  std::vector<std::string> types;
  for (size_t i = 0; i < columns.size(); ++i) {
    SQLWCHAR buffer[256] = {};
    SQLLEN length = 0;
    if (!Succeeded(SQLGetData(stmt->handle(), static_cast<SQLUSMALLINT>(i + 1), SQL_C_WCHAR, buffer,
                              sizeof buffer, &length)) ||
        length < 0 || static_cast<size_t>(length) >= sizeof buffer) {
      types.emplace_back();  // unknown: the generic path is used
      continue;
    }
    types.push_back(FromWide(buffer, static_cast<size_t>(length) / sizeof(SQLWCHAR)));
  }
  return types;
}

}  // namespace

Status AppendArrayElement(const engine::ColumnVector& column, size_t row, int64_t row_number,
                          std::string* out) {
  if (column.IsNull(row)) {
    out->append("NULL");
    return Status::OK();
  }
  const DataType& type = column.type;
  if (auto temporal = TemporalOf(type)) {
    AppendQuoted(FormatTemporal(column.ints[row], *temporal), out);
    return Status::OK();
  }
  switch (column.storage()) {
    case engine::Storage::kInt: {
      const int64_t value = column.ints[row];
      if (type.id == TypeId::kBoolean) {
        out->push_back(value ? 't' : 'f');
      } else if (IsDecimal(type)) {
        out->append(FormatUnscaled(value, type.scale));
      } else {
        char buffer[24];
        auto result =
            type.id == TypeId::kUInt64
                ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<uint64_t>(value))
                : std::to_chars(buffer, buffer + sizeof buffer, value);
        out->append(buffer, result.ptr);
      }
      return Status::OK();
    }
    case engine::Storage::kDouble:
      AppendDouble(column.doubles[row], type.id == TypeId::kFloat32 || type.id == TypeId::kFloat16,
                   out);
      return Status::OK();
    case engine::Storage::kString:
      break;
  }
  const std::string& text = column.strings[row];
  if (IsBinary(type)) {
    static constexpr char kHex[] = "0123456789abcdef";
    out->append("\"\\\\x");  // bytea hex input `\x...`, its backslash escaped in the array
    for (unsigned char byte : text) {
      out->push_back(kHex[byte >> 4]);
      out->push_back(kHex[byte & 15]);
    }
    out->push_back('"');
    return Status::OK();
  }
  if (text.find('\0') != std::string::npos) {
    return Status::InvalidArgument(
        "Column '" + column.name + "', row " + std::to_string(row_number) +
        ": the text contains a NUL character (U+0000), which ODBC text parameters cannot carry "
        "(the value would be cut); remove it, e.g. with replace(x, chr(0), ''), or write it as "
        "a BLOB");
  }
  AppendQuoted(text, out);
  return Status::OK();
}

Result<std::unique_ptr<PgArrayInsert>> PgArrayInsert::Prepare(
    OdbcConnection& conn, const std::string& table, const std::vector<std::string>& columns,
    const std::vector<Field>& schema) {
  AQ_ASSIGN_OR_RETURN(std::vector<std::string> types, TargetTypes(conn, table, columns));
  std::string names;
  std::string arrays;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!Compatible(schema[i].data_type, types[i])) {
      return std::unique_ptr<PgArrayInsert>();
    }
    names += (i ? ", " : "") + columns[i];
    arrays += (i ? ", unnest(CAST(? AS " : "unnest(CAST(? AS ") + types[i] + "[]))";
  }
  const std::string sql = "INSERT INTO " + table + " (" + names + ") SELECT " + arrays;
  AQ_ASSIGN_OR_RETURN(auto stmt, conn.NewStatement());
  WideString wide = ToWide(sql);
  if (!Succeeded(SQLPrepareW(stmt->handle(), wide.data(), static_cast<SQLINTEGER>(wide.size())))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt->handle(),
                         "INSERT INTO " + table + " could not be prepared");
  }
  return std::unique_ptr<PgArrayInsert>(new PgArrayInsert(conn, std::move(stmt)));
}

PgArrayInsert::~PgArrayInsert() {
  (void)Finish();  // the statement must not be freed while a batch is being sent
}

Status PgArrayInsert::Encode(const engine::ColumnBatch& batch, size_t offset, size_t count,
                             int64_t first_row, Encoded* out) {
  const size_t ncols = batch.columns.size();
  out->names.resize(ncols);
  out->columns.resize(ncols);
  out->indicators.resize(ncols);
  out->count = count;
  out->first_row = first_row;
  for (size_t c = 0; c < ncols; ++c) {
    const engine::ColumnVector& column = batch.columns[c];
    out->names[c] = column.name;
    text_.clear();
    text_.push_back('{');
    for (size_t r = 0; r < count; ++r) {
      if (r > 0) {
        text_.push_back(',');
      }
      AQ_RETURN_IF_ERROR(
          AppendArrayElement(column, offset + r, first_row + static_cast<int64_t>(r), &text_));
    }
    text_.push_back('}');
    out->columns[c] = ToWide(text_);
    out->indicators[c] = static_cast<SQLLEN>(out->columns[c].size() * sizeof(SQLWCHAR));
  }
  return Status::OK();
}

Status PgArrayInsert::Send(Encoded& encoded, const std::string& what) {
  SQLHSTMT stmt = stmt_->handle();
  for (size_t c = 0; c < encoded.columns.size(); ++c) {
    WideString& text = encoded.columns[c];
    SQLRETURN rc = SQLBindParameter(stmt, static_cast<SQLUSMALLINT>(c + 1), SQL_PARAM_INPUT,
                                    SQL_C_WCHAR, SQL_WLONGVARCHAR, text.size(), 0, text.data(),
                                    encoded.indicators[c], &encoded.indicators[c]);
    if (!Succeeded(rc)) {
      return conn_.Diagnose(
          SQL_HANDLE_STMT, stmt,
          "Binding parameter " + std::to_string(c + 1) + " ('" + encoded.names[c] + "') failed");
    }
  }
  const std::string first = std::to_string(encoded.first_row);
  if (!Succeeded(SQLExecute(stmt))) {
    return conn_.Diagnose(SQL_HANDLE_STMT, stmt,
                          what + " failed in the batch starting at row " + first);
  }
  SQLLEN inserted = -1;
  if (!Succeeded(SQLRowCount(stmt, &inserted)) || inserted != static_cast<SQLLEN>(encoded.count)) {
    return Status::ExecutionError(what + ": the batch starting at row " + first + " sent " +
                                  std::to_string(encoded.count) + " rows but the server reported " +
                                  std::to_string(inserted) + " inserted");
  }
  return Status::OK();
}

Status PgArrayInsert::Add(const engine::ColumnBatch& batch, size_t offset, size_t count,
                          int64_t first_row, const std::string& what) {
  // sets_[next_] was sent two Adds ago, and that send was waited for by the last Add.
  Encoded& encoded = sets_[next_];
  AQ_RETURN_IF_ERROR(Encode(batch, offset, count, first_row, &encoded));
  AQ_RETURN_IF_ERROR(Finish());
  in_flight_ =
      std::async(std::launch::async, [this, &encoded, what] { return Send(encoded, what); });
  next_ ^= 1;
  return Status::OK();
}

Status PgArrayInsert::Finish() {
  if (!in_flight_.valid()) {
    return Status::OK();
  }
  return in_flight_.get();
}

}  // namespace aqueducts::odbc

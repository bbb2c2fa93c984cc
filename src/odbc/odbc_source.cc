// ODBC source (spec §1.3, §7): load_query runs on the remote database and its rows stream into
// a DuckDB table in blocks (block cursor + TableAppender), so the result is never held whole.

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "engine/appender.h"
#include "odbc/driver_options.h"
#include "odbc/odbc.h"
#include "odbc/odbc_connection.h"
#include "odbc/odbc_values.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

// Values longer than this (or of unknown length) are read with SQLGetData, one row at a time,
// instead of a fixed-size block buffer.
constexpr SQLULEN kMaxBoundChars = 4000;
// Memory budget of one block of bound buffers, and the rows per block limits.
constexpr size_t kBlockBytes = 8 << 20;
constexpr size_t kMaxBlockRows = 4096;
// Bound buffer of a long column when the driver can re-read single values of a block.
constexpr SQLLEN kOverflowBytes = 1024;

// How one result column is fetched and stored.
struct ColumnPlan {
  Field field;
  SQLSMALLINT c_type = SQL_C_WCHAR;
  SQLLEN element_bytes = 0;  // bound buffer bytes per row
  bool long_data = false;    // fetched with SQLGetData instead of a bound buffer
  bool overflow = false;     // bound to a short buffer; longer values re-read with SQLGetData
  std::vector<char> buffer;
  std::vector<SQLLEN> indicators;
};

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
    case SQL_BIT: type.id = TypeId::kBoolean; plan.c_type = SQL_C_BIT; plan.element_bytes = 1; break;
    case SQL_TINYINT: type.id = TypeId::kInt8; break;
    case SQL_SMALLINT: type.id = TypeId::kInt16; break;
    case SQL_INTEGER: type.id = TypeId::kInt32; break;
    case SQL_BIGINT: type.id = TypeId::kInt64; break;
    case SQL_REAL: type.id = TypeId::kFloat32; break;
    case SQL_FLOAT:
    case SQL_DOUBLE: type.id = TypeId::kFloat64; break;
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
    case SQL_DATE: type.id = TypeId::kDate32; break;
    case SQL_TYPE_TIME:
    case SQL_TIME: type.id = TypeId::kTime64; break;
    case SQL_TYPE_TIMESTAMP:
    case SQL_TIMESTAMP: type.id = TypeId::kTimestamp; break;
    case SQL_BINARY:
    case SQL_VARBINARY:
    case SQL_LONGVARBINARY:
      type.id = TypeId::kBinary;
      plan.c_type = SQL_C_BINARY;
      plan.long_data = sql_type == SQL_LONGVARBINARY || size == 0 || size > kMaxBoundChars;
      plan.element_bytes = static_cast<SQLLEN>(size);
      break;
    case SQL_LONGVARCHAR:
    case SQL_WLONGVARCHAR: text(0); break;
    default: text(sql_type == SQL_GUID ? 36 : size); break;
  }
  switch (type.id) {
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64: plan.c_type = SQL_C_SBIGINT; plan.element_bytes = 8; break;
    case TypeId::kFloat32:
    case TypeId::kFloat64: plan.c_type = SQL_C_DOUBLE; plan.element_bytes = 8; break;
    case TypeId::kDate32: plan.c_type = SQL_C_TYPE_DATE; plan.element_bytes = sizeof(SQL_DATE_STRUCT); break;
    case TypeId::kTime64: plan.c_type = SQL_C_TYPE_TIME; plan.element_bytes = sizeof(SQL_TIME_STRUCT); break;
    case TypeId::kTimestamp:
      plan.c_type = SQL_C_TYPE_TIMESTAMP;
      plan.element_bytes = sizeof(SQL_TIMESTAMP_STRUCT);
      break;
    default: break;
  }
  return plan;
}

// Append one fetched value (`ind` bytes at `data`, or SQL_NULL_DATA) to `out`.
Status AppendValue(const ColumnPlan& plan, const char* data, SQLLEN ind, engine::ColumnVector* out) {
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
    case SQL_C_BIT: out->ints.push_back(*reinterpret_cast<const unsigned char*>(data) ? 1 : 0); break;
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
      out->ints.push_back(MicrosFromTimestamp(*reinterpret_cast<const SQL_TIMESTAMP_STRUCT*>(data)));
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
    case SQL_C_BINARY: out->strings.emplace_back(data, static_cast<size_t>(ind)); break;
    default:  // SQL_C_WCHAR
      out->strings.push_back(FromWide(reinterpret_cast<const SQLWCHAR*>(data),
                                      static_cast<size_t>(ind) / sizeof(SQLWCHAR)));
      break;
  }
  return Status::OK();
}

// Read a long value of the current row in pieces with SQLGetData.
Status GetLongValue(OdbcConnection& conn, SQLHSTMT stmt, SQLUSMALLINT column,
                    const ColumnPlan& plan, engine::ColumnVector* out) {
  std::string bytes;
  std::vector<char> piece(64 * 1024);
  const size_t terminator = plan.c_type == SQL_C_WCHAR ? sizeof(SQLWCHAR) : 0;
  for (;;) {
    SQLLEN ind = 0;
    SQLRETURN rc = SQLGetData(stmt, column, plan.c_type, piece.data(),
                              static_cast<SQLLEN>(piece.size()), &ind);
    if (rc == SQL_NO_DATA) {
      break;
    }
    if (!Succeeded(rc)) {
      return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Reading column '" + plan.field.name + "' failed");
    }
    if (ind == SQL_NULL_DATA) {
      return AppendValue(plan, nullptr, SQL_NULL_DATA, out);
    }
    const size_t available = piece.size() - terminator;
    const bool more = ind == SQL_NO_TOTAL || static_cast<size_t>(ind) > available;
    bytes.append(piece.data(), more ? available : static_cast<size_t>(ind));
    if (!more) {
      break;
    }
  }
  return AppendValue(plan, bytes.data(), static_cast<SQLLEN>(bytes.size()), out);
}

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

Result<std::vector<ColumnPlan>> DescribeColumns(OdbcConnection& conn, SQLHSTMT stmt) {
  SQLSMALLINT count = 0;
  if (!Succeeded(SQLNumResultCols(stmt, &count))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Reading the result columns failed");
  }
  if (count == 0) {
    return Status::InvalidArgument("load_query returned no result set (it must be a query such as SELECT)");
  }
  std::vector<ColumnPlan> plans;
  for (SQLUSMALLINT c = 1; c <= static_cast<SQLUSMALLINT>(count); ++c) {
    SQLWCHAR name[512] = {};
    SQLSMALLINT name_length = 0, sql_type = 0, digits = 0, nullable = 0;
    SQLULEN size = 0;
    if (!Succeeded(SQLDescribeColW(stmt, c, name, 512, &name_length, &sql_type, &size, &digits,
                                   &nullable))) {
      return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Describing result column " + std::to_string(c) + " failed");
    }
    plans.push_back(PlanColumn(FromWide(name, std::min<size_t>(name_length, 511)), sql_type, size, digits));
  }
  DeduplicateNames(&plans);
  return plans;
}

// Fetch every row of the executed `stmt` into `appender`, a block of rows at a time.
Status FetchAll(OdbcConnection& conn, SQLHSTMT stmt, std::vector<ColumnPlan>& plans,
                engine::TableAppender& appender) {
  // With SQL_GD_BLOCK a long column can stay in the block cursor with a short buffer: the few
  // values that do not fit are re-read by positioning on their row (SQLSetPos + SQLGetData).
  // Otherwise long columns force one row per fetch.
  SQLUINTEGER getdata = 0;
  if (Succeeded(SQLGetInfo(conn.dbc(), SQL_GETDATA_EXTENSIONS, &getdata, sizeof getdata, nullptr)) &&
      (getdata & SQL_GD_BLOCK) && (getdata & SQL_GD_BOUND)) {
    for (auto& plan : plans) {
      if (plan.long_data) {
        plan.long_data = false;
        plan.overflow = true;
        plan.element_bytes = kOverflowBytes;
      }
    }
  }
  size_t row_bytes = 0;
  bool any_long = false;
  for (const auto& plan : plans) {
    any_long = any_long || plan.long_data;
    row_bytes += plan.long_data ? 0 : static_cast<size_t>(plan.element_bytes) + sizeof(SQLLEN);
  }
  const size_t rows = any_long ? 1 : std::clamp<size_t>(kBlockBytes / std::max<size_t>(row_bytes, 1), 1, kMaxBlockRows);
  SQLULEN fetched = 0;
  SQLSetStmtAttr(stmt, SQL_ATTR_ROW_BIND_TYPE, reinterpret_cast<SQLPOINTER>(SQL_BIND_BY_COLUMN), 0);
  if (!Succeeded(SQLSetStmtAttr(stmt, SQL_ATTR_ROW_ARRAY_SIZE, reinterpret_cast<SQLPOINTER>(rows), 0)) ||
      !Succeeded(SQLSetStmtAttr(stmt, SQL_ATTR_ROWS_FETCHED_PTR, &fetched, 0))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Setting up the block cursor failed");
  }
  engine::ColumnBatch batch;
  for (size_t c = 0; c < plans.size(); ++c) {
    auto& plan = plans[c];
    batch.columns.push_back({plan.field.name, plan.field.data_type, {}, {}, {}, {}});
    if (plan.long_data) {
      continue;
    }
    plan.buffer.assign(rows * static_cast<size_t>(plan.element_bytes), 0);
    plan.indicators.assign(rows, 0);
    if (!Succeeded(SQLBindCol(stmt, static_cast<SQLUSMALLINT>(c + 1), plan.c_type, plan.buffer.data(),
                              plan.element_bytes, plan.indicators.data()))) {
      return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Binding column '" + plan.field.name + "' failed");
    }
  }
  for (;;) {
    SQLRETURN rc = SQLFetch(stmt);
    if (rc == SQL_NO_DATA) {
      break;
    }
    if (!Succeeded(rc)) {
      return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Fetching rows failed");
    }
    for (size_t c = 0; c < plans.size(); ++c) {
      auto& plan = plans[c];
      if (plan.long_data) {
        AQ_RETURN_IF_ERROR(GetLongValue(conn, stmt, static_cast<SQLUSMALLINT>(c + 1), plan, &batch.columns[c]));
        continue;
      }
      for (size_t r = 0; r < fetched; ++r) {
        const SQLLEN ind = plan.indicators[r];
        // Character data needs room for its terminator; binary does not.
        const bool variable = plan.c_type == SQL_C_WCHAR || plan.c_type == SQL_C_CHAR ||
                              plan.c_type == SQL_C_BINARY;
        const SQLLEN room = plan.c_type == SQL_C_BINARY ? plan.element_bytes : plan.element_bytes - 1;
        const bool truncated = variable && ind != SQL_NULL_DATA && (ind == SQL_NO_TOTAL || ind > room);
        if (truncated && plan.overflow) {
          if (!Succeeded(SQLSetPos(stmt, static_cast<SQLSETPOSIROW>(r + 1), SQL_POSITION, SQL_LOCK_NO_CHANGE))) {
            return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Re-reading a long value of column '" + plan.field.name + "' failed");
          }
          AQ_RETURN_IF_ERROR(GetLongValue(conn, stmt, static_cast<SQLUSMALLINT>(c + 1), plan, &batch.columns[c]));
          continue;
        }
        if (truncated) {
          return Status::ExecutionError("Column '" + plan.field.name + "': a value is longer than the " +
                                        "size the driver reported; cast it to a longer type in load_query");
        }
        AQ_RETURN_IF_ERROR(AppendValue(plan, plan.buffer.data() + r * plan.element_bytes, ind, &batch.columns[c]));
      }
    }
    AQ_RETURN_IF_ERROR(appender.Append(batch));
    batch.Clear();
  }
  return Status::OK();
}

Status LoadSource(engine::Session& session, const OdbcSource& source) {
  AQ_ASSIGN_OR_RETURN(auto conn, OdbcConnection::Open(TuneForStreaming(source.connection_string)));
  AQ_ASSIGN_OR_RETURN(auto stmt, conn->NewStatement());
  WideString query = ToWide(source.load_query);
  SQLRETURN rc = SQLExecDirectW(stmt->handle(), query.data(), static_cast<SQLINTEGER>(query.size()));
  if (!Succeeded(rc)) {
    return conn->Diagnose(SQL_HANDLE_STMT, stmt->handle(), "load_query failed");
  }
  AQ_ASSIGN_OR_RETURN(auto plans, DescribeColumns(*conn, stmt->handle()));
  std::vector<Field> fields;
  for (const auto& plan : plans) {
    fields.push_back(plan.field);
  }
  AQ_ASSIGN_OR_RETURN(auto duck, session.Connect());
  AQ_ASSIGN_OR_RETURN(auto appender, engine::TableAppender::Create(*duck, source.name, fields));
  Status status = FetchAll(*conn, stmt->handle(), plans, *appender);
  if (status.ok()) {
    status = appender->Close();
  }
  if (!status.ok()) {
    (void)appender->Abort();  // the fetch error is the one worth reporting
  }
  return status;
}

}  // namespace

Status RegisterOdbcSource(engine::Session& session, const OdbcSource& source) {
  Status status = LoadSource(session, source);
  if (!status.ok()) {
    return status.WithPrefix("Failed to register ODBC source '" + source.name + "'. ",
                             "aqueducts::source::register_odbc");
  }
  return Status::OK();
}

}  // namespace aqueducts::odbc

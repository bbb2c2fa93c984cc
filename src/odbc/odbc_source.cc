// ODBC source (spec §1.3, §7): load_query runs on the remote database and its rows stream into
// a DuckDB table in blocks (block cursor + TableAppender), so the result is never held whole.

#include <algorithm>
#include <vector>

#include "engine/appender.h"
#include "odbc/column_plan.h"
#include "odbc/driver_options.h"
#include "odbc/odbc.h"
#include "odbc/odbc_connection.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

// Memory budget of one block of bound buffers, and the rows per block limits.
constexpr size_t kBlockBytes = 8 << 20;
constexpr size_t kMaxBlockRows = 4096;
// Bound buffer of a long column when the driver can re-read single values of a block.
constexpr SQLLEN kOverflowBytes = 1024;

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
      return conn.Diagnose(SQL_HANDLE_STMT, stmt,
                           "Reading column '" + plan.field.name + "' failed");
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

// Fetch every row of the executed `stmt` into `appender`, a block of rows at a time.
Status FetchAll(OdbcConnection& conn, SQLHSTMT stmt, std::vector<ColumnPlan>& plans,
                engine::TableAppender& appender, const CancelToken* cancel) {
  // With SQL_GD_BLOCK a long column can stay in the block cursor with a short buffer: the few
  // values that do not fit are re-read by positioning on their row (SQLSetPos + SQLGetData).
  // Otherwise long columns force one row per fetch.
  SQLUINTEGER getdata = 0;
  if (Succeeded(
          SQLGetInfo(conn.dbc(), SQL_GETDATA_EXTENSIONS, &getdata, sizeof getdata, nullptr)) &&
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
  const size_t rows =
      any_long ? 1
               : std::clamp<size_t>(kBlockBytes / std::max<size_t>(row_bytes, 1), 1, kMaxBlockRows);
  SQLULEN fetched = 0;
  SQLSetStmtAttr(stmt, SQL_ATTR_ROW_BIND_TYPE, reinterpret_cast<SQLPOINTER>(SQL_BIND_BY_COLUMN), 0);
  if (!Succeeded(
          SQLSetStmtAttr(stmt, SQL_ATTR_ROW_ARRAY_SIZE, reinterpret_cast<SQLPOINTER>(rows), 0)) ||
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
    if (!Succeeded(SQLBindCol(stmt, static_cast<SQLUSMALLINT>(c + 1), plan.c_type,
                              plan.buffer.data(), plan.element_bytes, plan.indicators.data()))) {
      return conn.Diagnose(SQL_HANDLE_STMT, stmt,
                           "Binding column '" + plan.field.name + "' failed");
    }
  }
  for (;;) {
    if (cancel != nullptr && cancel->cancelled()) {
      (void)SQLCancel(stmt);
      return Status::Cancelled("ODBC fetch cancelled");
    }
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
        AQ_RETURN_IF_ERROR(
            GetLongValue(conn, stmt, static_cast<SQLUSMALLINT>(c + 1), plan, &batch.columns[c]));
        continue;
      }
      // Character data needs room for its terminator; binary does not.
      const bool variable =
          plan.c_type == SQL_C_WCHAR || plan.c_type == SQL_C_CHAR || plan.c_type == SQL_C_BINARY;
      const SQLLEN room = plan.c_type == SQL_C_BINARY ? plan.element_bytes : plan.element_bytes - 1;
      for (size_t r = 0; r < fetched; ++r) {
        const SQLLEN ind = plan.indicators[r];
        const bool truncated =
            variable && ind != SQL_NULL_DATA && (ind == SQL_NO_TOTAL || ind > room);
        if (truncated && plan.overflow) {
          if (!Succeeded(SQLSetPos(stmt, static_cast<SQLSETPOSIROW>(r + 1), SQL_POSITION,
                                   SQL_LOCK_NO_CHANGE))) {
            return conn.Diagnose(
                SQL_HANDLE_STMT, stmt,
                "Re-reading a long value of column '" + plan.field.name + "' failed");
          }
          AQ_RETURN_IF_ERROR(
              GetLongValue(conn, stmt, static_cast<SQLUSMALLINT>(c + 1), plan, &batch.columns[c]));
          continue;
        }
        if (truncated) {
          return Status::ExecutionError(
              "Column '" + plan.field.name + "': a value is longer than the " +
              "size the driver reported; cast it to a longer type in load_query");
        }
        AQ_RETURN_IF_ERROR(
            AppendValue(plan, plan.buffer.data() + r * plan.element_bytes, ind, &batch.columns[c]));
      }
    }
    AQ_RETURN_IF_ERROR(appender.Append(batch));
    batch.Clear();
  }
  return Status::OK();
}

Status LoadSource(engine::Session& session, const OdbcSource& source, const CancelToken* cancel) {
  AQ_ASSIGN_OR_RETURN(auto conn, OdbcConnection::Open(TuneForStreaming(source.connection_string)));
  AQ_ASSIGN_OR_RETURN(auto stmt, conn->NewStatement());
  WideString query = ToWide(source.load_query);
  SQLRETURN rc =
      SQLExecDirectW(stmt->handle(), query.data(), static_cast<SQLINTEGER>(query.size()));
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
  Status status = FetchAll(*conn, stmt->handle(), plans, *appender, cancel);
  if (status.ok()) {
    status = appender->Close();
  }
  if (!status.ok()) {
    (void)appender->Abort();  // the fetch error is the one worth reporting
  }
  return status;
}

}  // namespace

Status RegisterOdbcSource(engine::Session& session, const OdbcSource& source,
                          const CancelToken* cancel) {
  Status status = LoadSource(session, source, cancel);
  if (!status.ok()) {
    return status.WithPrefix("Failed to register ODBC source '" + source.name + "'. ",
                             "aqueducts::source::register_odbc");
  }
  return Status::OK();
}

}  // namespace aqueducts::odbc

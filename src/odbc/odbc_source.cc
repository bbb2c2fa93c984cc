// ODBC source (docs/odbc.md, "Source"): load_query runs on the remote database and its rows stream
// into a DuckDB table in blocks (block cursor + TableAppender), so the result is never held whole.

#include <algorithm>
#include <cctype>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "engine/appender.h"
#include "odbc/column_plan.h"
#include "odbc/connectors.h"
#include "odbc/driver_options.h"
#include "odbc/odbc.h"
#include "odbc/odbc_connection.h"
#include "odbc/pg_copy_source.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

// Memory budget of one block of bound buffers, and the rows per block limits.
constexpr size_t kBlockBytes = 8 << 20;
constexpr size_t kMaxBlockRows = 4096;
// Rows collected before a batch is handed to the DuckDB appender (blocks of one row, when a
// driver cannot re-read values of a block, are gathered first).
constexpr size_t kAppendRows = 2048;
// Bound buffer of a long column when the driver can re-read single values of a block.
constexpr SQLLEN kOverflowBytes = 1024;

// Read a long value of the current row (`row`, 1-based) in pieces with SQLGetData.
Status GetLongValue(OdbcConnection& conn, SQLHSTMT stmt, SQLUSMALLINT column,
                    const ColumnPlan& plan, int64_t row, engine::ColumnVector* out) {
  std::string bytes;
  std::vector<char> piece(64 * 1024);
  const size_t terminator = plan.c_type == SQL_C_WCHAR  ? sizeof(SQLWCHAR)
                            : plan.c_type == SQL_C_CHAR ? 1
                                                        : 0;
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
      return AppendValue(plan, nullptr, SQL_NULL_DATA, row, out);
    }
    const size_t available = piece.size() - terminator;
    const bool more = ind == SQL_NO_TOTAL || static_cast<size_t>(ind) > available;
    bytes.append(piece.data(), more ? available : static_cast<size_t>(ind));
    if (!more) {
      break;
    }
  }
  return AppendValue(plan, bytes.data(), static_cast<SQLLEN>(bytes.size()), row, out);
}

// Fetch every row of the executed `stmt` into `appender`, a block of rows at a time, telling
// `ctx` the rows loaded so far after each block (live progress).
Status FetchAll(OdbcConnection& conn, SQLHSTMT stmt, std::vector<ColumnPlan>& plans,
                engine::TableAppender& appender, const connector::RunContext& ctx) {
  const CancelToken* cancel = ctx.cancel();
  // With SQL_GD_BLOCK a long column can stay in the block cursor with a short buffer: the few
  // values that do not fit are re-read by positioning on their row (SQLSetPos + SQLGetData).
  // Otherwise long columns force one row per fetch. Every text or binary column may overflow:
  // psqlODBC describes types it does not know (jsonb, ...) and varchar without a length as 255
  // characters wide, yet returns longer values.
  SQLUINTEGER getdata = 0;
  if (Succeeded(
          SQLGetInfo(conn.dbc(), SQL_GETDATA_EXTENSIONS, &getdata, sizeof getdata, nullptr)) &&
      (getdata & SQL_GD_BLOCK) && (getdata & SQL_GD_BOUND)) {
    for (auto& plan : plans) {
      if (plan.long_data) {
        plan.long_data = false;
        plan.overflow = true;
        plan.element_bytes = kOverflowBytes;
      } else if (plan.c_type == SQL_C_WCHAR || plan.c_type == SQL_C_BINARY) {
        plan.overflow = true;
      }
    }
  }
  size_t row_bytes = 0;
  bool any_long = false;
  for (const auto& plan : plans) {
    any_long = any_long || plan.long_data;
    row_bytes += plan.long_data ? 0 : static_cast<size_t>(plan.element_bytes) + sizeof(SQLLEN);
  }
  // A power of two, so a block divides the driver's fetch size (TuneForStreaming asks
  // psqlODBC for kMaxBlockRows rows per round trip): a block never spans two round trips.
  size_t rows = 1;
  if (!any_long) {
    const size_t fit =
        std::clamp<size_t>(kBlockBytes / std::max<size_t>(row_bytes, 1), 1, kMaxBlockRows);
    while (rows * 2 <= fit) {
      rows *= 2;
    }
  }
  SQLULEN fetched = 0;
  SQLSetStmtAttr(stmt, SQL_ATTR_ROW_BIND_TYPE, reinterpret_cast<SQLPOINTER>(SQL_BIND_BY_COLUMN), 0);
  if (!Succeeded(
          SQLSetStmtAttr(stmt, SQL_ATTR_ROW_ARRAY_SIZE, reinterpret_cast<SQLPOINTER>(rows), 0)) ||
      !Succeeded(SQLSetStmtAttr(stmt, SQL_ATTR_ROWS_FETCHED_PTR, &fetched, 0))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt, "Setting up the block cursor failed");
  }
  // Two batches: one is appended to DuckDB on a helper thread while the next block is fetched
  // and converted into the other (ODBC calls stay on this thread, DuckDB calls on the helper).
  engine::ColumnBatch batches[2];
  for (size_t c = 0; c < plans.size(); ++c) {
    auto& plan = plans[c];
    for (auto& batch : batches) {
      batch.columns.push_back({plan.field.name, plan.field.data_type, {}, {}, {}, {}});
    }
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
  int64_t rows_before = 0;        // rows of the earlier blocks, for row numbers in errors
  int current = 0;                // the batch being filled
  int64_t handed_off = 0;         // rows given to the appender so far
  std::future<Status> appending;  // after `batches`: destroyed (waited for) first
  // Start appending the current batch once the previous append is done; fill the other next.
  auto hand_off = [&]() -> Status {
    if (appending.valid()) {
      AQ_RETURN_IF_ERROR(appending.get());
      ctx.Rows(handed_off);  // the earlier batches are in DuckDB
    }
    handed_off = rows_before;
    engine::ColumnBatch& full = batches[current];
    appending =
        std::async(std::launch::async, [&appender, &full] { return appender.Append(full); });
    current ^= 1;
    batches[current].Clear();  // its append was waited for above
    return Status::OK();
  };
  for (;;) {
    engine::ColumnBatch& batch = batches[current];
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
        AQ_RETURN_IF_ERROR(GetLongValue(conn, stmt, static_cast<SQLUSMALLINT>(c + 1), plan,
                                        rows_before + 1, &batch.columns[c]));
        continue;
      }
      // Character data needs room for its terminator; binary does not.
      const bool variable =
          plan.c_type == SQL_C_WCHAR || plan.c_type == SQL_C_CHAR || plan.c_type == SQL_C_BINARY;
      const SQLLEN room = plan.c_type == SQL_C_BINARY ? plan.element_bytes : plan.element_bytes - 1;
      for (size_t r = 0; r < fetched; ++r) {
        const int64_t row = rows_before + static_cast<int64_t>(r) + 1;
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
          AQ_RETURN_IF_ERROR(GetLongValue(conn, stmt, static_cast<SQLUSMALLINT>(c + 1), plan, row,
                                          &batch.columns[c]));
          continue;
        }
        if (truncated) {
          return Status::ExecutionError(
              "Column '" + plan.field.name + "', row " + std::to_string(row) +
              ": a value is longer than the size the driver reported; cast it to a longer type "
              "in load_query");
        }
        AQ_RETURN_IF_ERROR(AppendValue(plan, plan.buffer.data() + r * plan.element_bytes, ind, row,
                                       &batch.columns[c]));
      }
    }
    rows_before += static_cast<int64_t>(fetched);
    if (batch.num_rows() >= kAppendRows) {
      AQ_RETURN_IF_ERROR(hand_off());
    }
  }
  if (batches[current].num_rows() > 0) {
    AQ_RETURN_IF_ERROR(hand_off());
  }
  if (appending.valid()) {
    AQ_RETURN_IF_ERROR(appending.get());
  }
  ctx.Rows(rows_before);
  return Status::OK();
}

Status ExecDirect(OdbcConnection& conn, SQLHSTMT stmt, const std::string& sql,
                  const std::string& what) {
  WideString wide = ToWide(sql);
  if (!Succeeded(SQLExecDirectW(stmt, wide.data(), static_cast<SQLINTEGER>(wide.size())))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt, what);
  }
  return Status::OK();
}

// `query` as a subquery whose date/time columns are cast to text. psqlODBC parses date, time
// and timestamp values itself (four-digit years, no infinities, BC lost, the zone of a
// timestamptz dropped) even when asked for text; PostgreSQL's own text (DateStyle ISO) is
// exact. The alias list gives every column a unique name, so repeated names are fine.
std::string TemporalAsText(std::string query, const std::vector<ColumnPlan>& plans) {
  while (!query.empty() &&
         (std::isspace(static_cast<unsigned char>(query.back())) || query.back() == ';')) {
    query.pop_back();
  }
  std::string columns, aliases;
  for (size_t c = 0; c < plans.size(); ++c) {
    const std::string alias = "aq_c" + std::to_string(c + 1);
    aliases += (c ? ", " : "") + alias;
    columns += (c ? ", " : "") + alias + (plans[c].temporal ? "::text" : "");
  }
  return "SELECT " + columns + " FROM (\n" + query + "\n) AS aq_src (" + aliases + ")";
}

// Run load_query on `stmt` and describe its columns. On PostgreSQL the query is prepared and
// described first, and run as TemporalAsText when it has date/time columns.
Result<std::vector<ColumnPlan>> RunQuery(OdbcConnection& conn, std::unique_ptr<OdbcStatement>& stmt,
                                         const std::string& load_query, bool postgres) {
  if (!postgres) {
    AQ_RETURN_IF_ERROR(ExecDirect(conn, stmt->handle(), load_query, "load_query failed"));
    return DescribeColumns(conn, stmt->handle());
  }
  WideString query = ToWide(load_query);
  SQLSMALLINT count = 0;
  if (!Succeeded(
          SQLPrepareW(stmt->handle(), query.data(), static_cast<SQLINTEGER>(query.size()))) ||
      !Succeeded(SQLNumResultCols(stmt->handle(), &count))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt->handle(), "load_query failed");
  }
  AQ_ASSIGN_OR_RETURN(auto plans, DescribeColumns(conn, stmt->handle()));
  const bool temporal =
      std::any_of(plans.begin(), plans.end(), [](const ColumnPlan& plan) { return plan.temporal; });
  if (!temporal) {
    if (!Succeeded(SQLExecute(stmt->handle()))) {
      return conn.Diagnose(SQL_HANDLE_STMT, stmt->handle(), "load_query failed");
    }
    return plans;
  }
  AQ_ASSIGN_OR_RETURN(stmt, conn.NewStatement());
  AQ_RETURN_IF_ERROR(ExecDirect(conn, stmt->handle(), TemporalAsText(load_query, plans),
                                "load_query failed (run as a subquery, which reads its dates "
                                "and times exactly)"));
  return plans;
}

}  // namespace

Status LoadOdbcSource(const OdbcSource& source, const connector::RunContext& ctx) {
  // PostgreSQL named by server: COPY through libpq (pg_copy_source.h). Anything it does not
  // load (a type it does not decode, an error) is loaded, or refused, by the ODBC path below.
  if (auto target = PgCopyTargetOf(source.connection_string)) {
    Status status = LoadByPgCopy(*target, source.load_query, source.name, ctx);
    if (status.ok() || status.code() == StatusCode::kCancelled) {
      return status;
    }
  }
  AQ_ASSIGN_OR_RETURN(
      auto conn,
      OdbcConnection::Open(TuneForStreaming(WithoutPgCopySwitch(source.connection_string))));
  const bool postgres = conn->IsPostgres();
  AQ_RETURN_IF_ERROR(conn->UseUtcSession());
  AQ_ASSIGN_OR_RETURN(auto stmt, conn->NewStatement());
  AQ_ASSIGN_OR_RETURN(auto plans, RunQuery(*conn, stmt, source.load_query, postgres));
  std::vector<Field> fields;
  for (const auto& plan : plans) {
    fields.push_back(plan.field);
  }
  AQ_ASSIGN_OR_RETURN(auto appender,
                      engine::TableAppender::Create(ctx.conn(), source.name, fields));
  Status status = FetchAll(*conn, stmt->handle(), plans, *appender, ctx);
  if (status.ok()) {
    status = appender->Close();
  }
  if (!status.ok()) {
    (void)appender->Abort();  // the fetch error is the one worth reporting
  }
  return status;
}

Status RegisterOdbcSource(engine::Session& session, const OdbcSource& source,
                          const CancelToken* cancel) {
  auto duck = session.Connect();
  if (!duck.ok()) {
    return kSourceLabel.Apply(duck.status(), source.name);
  }
  connector::RunContext ctx(session, **duck, cancel, nullptr);
  return kSourceLabel.Apply(LoadOdbcSource(source, ctx), source.name);
}

}  // namespace aqueducts::odbc

// ODBC destination (docs/odbc.md, "Destination"). Both write modes run in ONE transaction: a
// failure half-way (a bad row, a lost connection, a failing statement) rolls back, so the target
// table is left exactly as it was. (The original appended in autocommit mode, so a failed append
// could leave part of the rows behind; we deliberately do not keep that.)

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/result_stream.h"
#include "odbc/connectors.h"
#include "odbc/driver_options.h"
#include "odbc/odbc.h"
#include "odbc/odbc_connection.h"
#include "odbc/param_batch.h"
#include "odbc/pg_array_insert.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

bool IsPlainIdentifier(const std::string& name) {
  static const std::set<std::string> kReserved = {
      "all",        "and",     "any",        "as",     "asc",      "case",   "check", "column",
      "constraint", "create",  "default",    "desc",   "distinct", "do",     "else",  "end",
      "for",        "foreign", "from",       "grant",  "group",    "having", "in",    "into",
      "is",         "join",    "limit",      "not",    "null",     "offset", "on",    "or",
      "order",      "primary", "references", "select", "table",    "then",   "to",    "union",
      "unique",     "user",    "using",      "when",   "where",    "with"};
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return kReserved.count(lower) == 0;
}

// Plain names stay unquoted so the DBMS folds their case as it would in hand-written SQL.
std::string ColumnSql(const std::string& name, const std::string& quote) {
  if (IsPlainIdentifier(name) || quote.empty()) {
    return name;
  }
  std::string out = quote;
  for (char c : name) {
    out += c;
    if (std::string(1, c) == quote) {
      out += c;
    }
  }
  return out + quote;
}

std::string AppendStatement(const std::string& table, const std::vector<Field>& schema,
                            const std::string& quote, size_t rows) {
  std::string columns;
  std::string marks;
  for (size_t i = 0; i < schema.size(); ++i) {
    columns += (i ? ", " : "") + ColumnSql(schema[i].name, quote);
    marks += i ? ", ?" : "?";
  }
  std::string values;
  for (size_t r = 0; r < rows; ++r) {
    values += (r ? ", (" : "(") + marks + ")";
  }
  return "INSERT INTO " + table + " (" + columns + ") VALUES " + values;
}

// Rows per multi-row INSERT for drivers that run each parameter set as its own statement
// (psqlODBC: one parse and plan per row on the server). The largest divisor of batch_size
// keeping ~2000 markers per statement, so a full batch is still one execution.
size_t RowsPerStatement(const OdbcDestination& destination, size_t batch_size, size_t columns) {
  if (destination.write_mode.operation != OdbcWriteMode::Operation::kAppend ||
      !IsPostgresDriver(destination.connection_string)) {
    return 1;
  }
  const size_t limit = std::max<size_t>(1, 2000 / std::max<size_t>(columns, 1));
  for (size_t rows = std::min(limit, batch_size); rows > 1; --rows) {
    if (batch_size % rows == 0) {
      return rows;
    }
  }
  return 1;
}

Result<std::unique_ptr<OdbcStatement>> Prepare(OdbcConnection& conn, const std::string& sql,
                                               const std::string& what) {
  AQ_ASSIGN_OR_RETURN(auto stmt, conn.NewStatement());
  WideString wide = ToWide(sql);
  if (!Succeeded(SQLPrepareW(stmt->handle(), wide.data(), static_cast<SQLINTEGER>(wide.size())))) {
    return conn.Diagnose(SQL_HANDLE_STMT, stmt->handle(), what + " could not be prepared");
  }
  return stmt;
}

// Run `count` rows from `offset` through `stmt` (rows_per_set rows of markers per statement).
Status Execute(OdbcConnection& conn, ParamBatch& params, SQLHSTMT stmt,
               const engine::ColumnBatch& batch, size_t offset, size_t count, size_t rows_per_set,
               const std::string& what, int64_t first_row) {
  AQ_RETURN_IF_ERROR(params.Bind(conn, stmt, batch, offset, count, first_row, rows_per_set));
  SQLRETURN rc = SQLExecute(stmt);
  if (!Succeeded(rc) && rc != SQL_NO_DATA) {
    return conn.Diagnose(
        SQL_HANDLE_STMT, stmt,
        what + " failed in the batch starting at row " + std::to_string(first_row));
  }
  return Status::OK();
}

// Stream the rows of `relation_sql` through the prepared `stmt`, batch_size rows per execution.
// `arrays` (may be null) takes every batch when set (PostgreSQL: each batch is sent while the
// next is read from DuckDB and encoded); otherwise `multi` (may be
// null) holds `rows_per_statement` rows of markers and `single` one row.
Result<int64_t> InsertRows(OdbcConnection& conn, PgArrayInsert* arrays, SQLHSTMT single,
                           SQLHSTMT multi, size_t rows_per_statement, engine::ResultStream& stream,
                           size_t batch_size, const std::string& what, const CancelToken* cancel) {
  ParamBatch params;
  engine::ColumnBatch batch = stream.MakeBatch();
  int64_t written = 0;
  bool more = true;
  while (more) {
    if (cancel != nullptr && cancel->cancelled()) {
      return Status::Cancelled("ODBC write cancelled");
    }
    AQ_ASSIGN_OR_RETURN(more, stream.Next(&batch));
    size_t offset = 0;
    // Send full batches while rows arrive; the tail goes once the result is exhausted.
    while (batch.num_rows() - offset >= batch_size || (!more && offset < batch.num_rows())) {
      const size_t count = std::min(batch_size, batch.num_rows() - offset);
      if (arrays != nullptr) {
        AQ_RETURN_IF_ERROR(arrays->Add(batch, offset, count, written + 1, what));
        offset += count;
        written += static_cast<int64_t>(count);
        continue;
      }
      const size_t full = multi ? count / rows_per_statement * rows_per_statement : 0;
      if (full > 0) {
        AQ_RETURN_IF_ERROR(Execute(conn, params, multi, batch, offset, full, rows_per_statement,
                                   what, written + 1));
      }
      if (count > full) {
        AQ_RETURN_IF_ERROR(Execute(conn, params, single, batch, offset + full, count - full, 1,
                                   what, written + static_cast<int64_t>(full) + 1));
      }
      offset += count;
      written += static_cast<int64_t>(count);
    }
    for (auto& column : batch.columns) {
      auto erase_front = [offset](auto& values) {
        if (!values.empty()) {
          values.erase(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(offset));
        }
      };
      erase_front(column.ints);
      erase_front(column.doubles);
      erase_front(column.strings);
      erase_front(column.valid);
    }
  }
  if (arrays != nullptr) {
    AQ_RETURN_IF_ERROR(arrays->Finish());  // the last batch is inserted
  }
  return written;
}

Result<int64_t> WriteInTransaction(engine::Connection& duck, OdbcConnection& conn,
                                   const OdbcDestination& destination,
                                   const std::string& relation_sql, const CancelToken* cancel) {
  AQ_ASSIGN_OR_RETURN(auto stream, engine::ResultStream::Open(duck, relation_sql));
  const bool custom = destination.write_mode.operation == OdbcWriteMode::Operation::kCustom;
  if (custom && destination.write_mode.pre_insert && !destination.write_mode.pre_insert->empty()) {
    AQ_RETURN_IF_ERROR(conn.ExecDirect(*destination.write_mode.pre_insert, "pre_insert statement"));
  }
  const std::string what = custom ? "insert statement" : "INSERT INTO " + destination.name;
  const std::string quote = custom ? "" : conn.IdentifierQuote();
  const std::string sql = custom ? destination.write_mode.insert
                                 : AppendStatement(destination.name, stream->schema(), quote, 1);
  AQ_ASSIGN_OR_RETURN(auto stmt, Prepare(conn, sql, what));
  const size_t batch_size = std::max<uint64_t>(destination.batch_size, 1);
  const size_t rows_per_statement =
      RowsPerStatement(destination, batch_size, stream->schema().size());
  std::unique_ptr<PgArrayInsert> arrays;
  if (!custom && conn.IsPostgres()) {
    std::vector<std::string> columns;
    for (const Field& field : stream->schema()) {
      columns.push_back(ColumnSql(field.name, quote));
    }
    AQ_ASSIGN_OR_RETURN(arrays,
                        PgArrayInsert::Prepare(conn, destination.name, columns, stream->schema()));
  }
  std::unique_ptr<OdbcStatement> multi;
  if (rows_per_statement > 1 && !arrays) {
    AQ_ASSIGN_OR_RETURN(multi, Prepare(conn,
                                       AppendStatement(destination.name, stream->schema(), quote,
                                                       rows_per_statement),
                                       what));
  }
  SQLSMALLINT params = 0;
  if (Succeeded(SQLNumParams(stmt->handle(), &params)) &&
      static_cast<size_t>(params) != stream->schema().size()) {
    return Status::InvalidArgument(what + " has " + std::to_string(params) +
                                   " parameters but the last stage has " +
                                   std::to_string(stream->schema().size()) + " columns");
  }
  return InsertRows(conn, arrays.get(), stmt->handle(), multi ? multi->handle() : SQL_NULL_HSTMT,
                    rows_per_statement, *stream, batch_size, what, cancel);
}

}  // namespace

Status CheckOdbcDestination(const OdbcDestination& destination) {
  AQ_ASSIGN_OR_RETURN(auto conn, OdbcConnection::Open(destination.connection_string));
  // Portable existence check: every DBMS accepts WHERE 1=0 (LIMIT is not standard SQL).
  return conn->ExecDirect("SELECT * FROM " + destination.name + " WHERE 1=0",
                          "Checking that table '" + destination.name + "' exists");
}

Result<int64_t> WriteOdbc(const OdbcDestination& destination, const std::string& relation_sql,
                          const connector::RunContext& ctx) {
  const CancelToken* cancel = ctx.cancel();
  AQ_ASSIGN_OR_RETURN(auto conn, OdbcConnection::Open(TuneForWriting(
                                     destination.connection_string,
                                     std::max<uint64_t>(destination.batch_size, 1))));
  AQ_RETURN_IF_ERROR(conn->UseUtcSession());
  AQ_RETURN_IF_ERROR(conn->SetAutocommit(false));
  auto written = WriteInTransaction(ctx.conn(), *conn, destination, relation_sql, cancel);
  Status status = written.status();
  if (status.ok()) {
    status = ctx.CheckCancelled("ODBC write");
  }
  if (status.ok()) {
    status = conn->Commit();
    if (status.ok()) {
      return written;
    }
  }
  (void)conn->Rollback();  // the original error is the one to report
  ctx.Log(LogLevel::kWarn, "ROLLBACK transaction on ODBC destination '" + destination.name + "'");
  return status;
}

Status PrepareOdbcDestination(const OdbcDestination& destination) {
  return kPrepareLabel.Apply(CheckOdbcDestination(destination), destination.name);
}

Result<int64_t> WriteOdbcDestination(engine::Session& session, const OdbcDestination& destination,
                                     const std::string& relation_sql, ProgressSink* sink,
                                     const CancelToken* cancel) {
  auto duck = session.Connect();
  if (!duck.ok()) {
    return kWriteLabel.Apply(duck.status(), destination.name);
  }
  connector::RunContext ctx(session, **duck, cancel, sink);
  auto written = WriteOdbc(destination, relation_sql, ctx);
  if (!written.ok()) {
    return kWriteLabel.Apply(written.status(), destination.name);
  }
  return written;
}

}  // namespace aqueducts::odbc

#include "odbc/odbc_connection.h"

#include <algorithm>
#include <vector>

#include "odbc/redact.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

namespace {

// SQLSTATE classes (ODBC appendix A) to status codes, so callers can tell a dead server from
// bad SQL from a missing table.
StatusCode CodeForState(const std::string& state) {
  // Driver manager: unknown DSN/driver (IM002), driver library missing (01000 "Can't open
  // lib", IM003), bad attribute.
  if (state.rfind("IM", 0) == 0 || state == "01000") {
    return StatusCode::kInvalidArgument;
  }
  if (state.rfind("08", 0) == 0 || state == "28000" || state == "HYT00" || state == "HYT01") {
    return StatusCode::kIoError;
  }
  if (state == "42S02" || state == "42P01") {
    return StatusCode::kNotFound;
  }
  if (state.rfind("42", 0) == 0 || state.rfind("37", 0) == 0) {
    return StatusCode::kSqlError;
  }
  return StatusCode::kExecutionError;
}

std::string Hint(const std::string& state) {
  if (state == "IM002") {
    return " (check the DSN or the Driver name against `odbcinst -q -d` / odbcinst.ini)";
  }
  if (state == "01000" || state == "IM003") {
    return " (the driver is not registered or its library is missing: check the Driver name "
           "against `odbcinst -q -d` / odbcinst.ini and that the driver package is installed)";
  }
  return "";
}

}  // namespace

std::string DiagnosticText(SQLSMALLINT handle_type, SQLHANDLE handle,
                           const std::string& connection_string, std::string* sqlstate) {
  std::string text;
  for (SQLSMALLINT record = 1; record <= 8; ++record) {
    SQLWCHAR state[6] = {};
    SQLINTEGER native = 0;
    std::vector<SQLWCHAR> message(1024);
    SQLSMALLINT length = 0;
    SQLRETURN rc = SQLGetDiagRecW(handle_type, handle, record, state, &native, message.data(),
                                  static_cast<SQLSMALLINT>(message.size()), &length);
    if (!Succeeded(rc)) {
      break;
    }
    std::string state_text = FromWide(state, 5);
    if (record == 1 && sqlstate) {
      *sqlstate = state_text;
    }
    size_t units = std::min<size_t>(length, message.size() - 1);
    std::string msg = FromWide(message.data(), units);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
      msg.pop_back();
    }
    text += (text.empty() ? "" : "; ") + ("[" + state_text + "] ") + msg + Hint(state_text);
  }
  if (text.empty()) {
    text = "unknown ODBC error (the driver returned no diagnostics)";
  }
  return RedactSecrets(text, connection_string);
}

OdbcStatement::~OdbcStatement() {
  if (handle_ != SQL_NULL_HSTMT) {
    SQLFreeHandle(SQL_HANDLE_STMT, handle_);
  }
}

Result<std::unique_ptr<OdbcConnection>> OdbcConnection::Open(const std::string& connection_string) {
  SQLHENV env = SQL_NULL_HENV;
  if (!Succeeded(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env))) {
    return Status::IoError("Could not allocate an ODBC environment (is unixODBC installed?)");
  }
  SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  SQLHDBC dbc = SQL_NULL_HDBC;
  if (!Succeeded(SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc))) {
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return Status::IoError("Could not allocate an ODBC connection handle");
  }
  std::unique_ptr<OdbcConnection> conn(new OdbcConnection(env, dbc, connection_string));
  SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(30), 0);
  WideString wide = ToWide(connection_string);
  SQLRETURN rc = SQLDriverConnectW(dbc, nullptr, wide.data(), static_cast<SQLSMALLINT>(wide.size()),
                                   nullptr, 0, nullptr, SQL_DRIVER_NOPROMPT);
  if (!Succeeded(rc)) {
    return conn->Diagnose(SQL_HANDLE_DBC, dbc, "Could not connect to the database");
  }
  conn->connected_ = true;
  return conn;
}

OdbcConnection::~OdbcConnection() {
  if (connected_) {
    SQLDisconnect(dbc_);
  }
  SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
  SQLFreeHandle(SQL_HANDLE_ENV, env_);
}

Status OdbcConnection::Diagnose(SQLSMALLINT handle_type, SQLHANDLE handle,
                                const std::string& context) const {
  std::string state;
  std::string text = DiagnosticText(handle_type, handle, connection_string_, &state);
  return Status(CodeForState(state), context + ": " + text);
}

Result<std::unique_ptr<OdbcStatement>> OdbcConnection::NewStatement() {
  SQLHSTMT stmt = SQL_NULL_HSTMT;
  if (!Succeeded(SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &stmt))) {
    return Diagnose(SQL_HANDLE_DBC, dbc_, "Could not allocate an ODBC statement");
  }
  return std::make_unique<OdbcStatement>(stmt);
}

Status OdbcConnection::ExecDirect(const std::string& sql, const std::string& what) {
  AQ_ASSIGN_OR_RETURN(auto stmt, NewStatement());
  WideString wide = ToWide(sql);
  SQLRETURN rc = SQLExecDirectW(stmt->handle(), wide.data(), static_cast<SQLINTEGER>(wide.size()));
  // SQL_NO_DATA: a searched UPDATE/DELETE that touched no row, which is fine.
  if (!Succeeded(rc) && rc != SQL_NO_DATA) {
    return Diagnose(SQL_HANDLE_STMT, stmt->handle(), what + " failed");
  }
  return Status::OK();
}

Status OdbcConnection::SetAutocommit(bool on) {
  SQLRETURN rc = SQLSetConnectAttr(dbc_, SQL_ATTR_AUTOCOMMIT,
                                   reinterpret_cast<SQLPOINTER>(static_cast<uintptr_t>(
                                       on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF)),
                                   SQL_IS_UINTEGER);
  if (!Succeeded(rc)) {
    return Diagnose(SQL_HANDLE_DBC, dbc_, "Could not set autocommit");
  }
  return Status::OK();
}

Status OdbcConnection::Commit() {
  if (!Succeeded(SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_COMMIT))) {
    return Diagnose(SQL_HANDLE_DBC, dbc_, "COMMIT failed");
  }
  return Status::OK();
}

Status OdbcConnection::Rollback() {
  if (!Succeeded(SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_ROLLBACK))) {
    return Diagnose(SQL_HANDLE_DBC, dbc_, "ROLLBACK failed");
  }
  return Status::OK();
}

std::string OdbcConnection::IdentifierQuote() {
  SQLWCHAR buffer[8] = {};
  SQLSMALLINT length = 0;
  if (!Succeeded(SQLGetInfoW(dbc_, SQL_IDENTIFIER_QUOTE_CHAR, buffer, sizeof(buffer), &length))) {
    return "\"";
  }
  std::string quote = FromWide(buffer, static_cast<size_t>(length) / sizeof(SQLWCHAR));
  return quote == " " ? "" : quote;
}

bool OdbcConnection::IsPostgres() {
  SQLWCHAR buffer[64] = {};
  SQLSMALLINT length = 0;
  if (!Succeeded(SQLGetInfoW(dbc_, SQL_DBMS_NAME, buffer, sizeof(buffer), &length))) {
    return false;
  }
  return FromWide(buffer, std::min<size_t>(static_cast<size_t>(length) / sizeof(SQLWCHAR), 63))
             .find("PostgreSQL") != std::string::npos;
}

Status OdbcConnection::UseUtcSession() {
  if (!IsPostgres()) {
    return Status::OK();
  }
  return ExecDirect("SET TimeZone TO 'UTC'", "Setting the session time zone to UTC");
}

}  // namespace aqueducts::odbc

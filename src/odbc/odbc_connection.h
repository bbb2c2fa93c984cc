#pragma once

// RAII over unixODBC handles, and driver diagnostics turned into Status values with the
// password redacted.

#include <memory>
#include <string>

#include <sql.h>
#include <sqlext.h>

#include "aqueducts/status.h"

namespace aqueducts::odbc {

/// \brief An ODBC statement handle; freed on destruction.
class OdbcStatement {
 public:
  explicit OdbcStatement(SQLHSTMT handle) : handle_(handle) {}
  ~OdbcStatement();
  OdbcStatement(const OdbcStatement&) = delete;
  OdbcStatement& operator=(const OdbcStatement&) = delete;
  SQLHSTMT handle() const { return handle_; }

 private:
  SQLHSTMT handle_;
};

/// \brief One connection (with its own ODBC environment handle, so connections share no state). Not
/// thread-safe.
class OdbcConnection {
 public:
  /// Connect with `connection_string` (DSN=... or Driver=...;...). Errors (kIoError for
  /// unreachable servers and refused logins, kInvalidArgument for unknown drivers/DSNs) carry the
  /// driver's diagnostics, never the connection string or its password.
  static Result<std::unique_ptr<OdbcConnection>> Open(const std::string& connection_string);
  ~OdbcConnection();
  OdbcConnection(const OdbcConnection&) = delete;
  OdbcConnection& operator=(const OdbcConnection&) = delete;

  /// A new statement handle.
  Result<std::unique_ptr<OdbcStatement>> NewStatement();
  /// Run `sql` (no result expected) on a fresh statement; `what` names it in errors.
  Status ExecDirect(const std::string& sql, const std::string& what);
  /// Turn autocommit off (start a transaction) or back on.
  Status SetAutocommit(bool on);
  Status Commit();
  Status Rollback();
  /// The driver's identifier quote character ("" if it has none).
  std::string IdentifierQuote();
  /// Whether the DBMS (SQL_DBMS_NAME) is PostgreSQL, whatever the driver is called.
  bool IsPostgres();
  /// On PostgreSQL, set the session time zone to UTC, so timestamps without a zone written into
  /// a `timestamptz` and the text of a `timestamptz` do not depend on the server's (or the
  /// role's) time zone. Does nothing on other DBMSs.
  Status UseUtcSession();

  /// A Status from the diagnostics of `handle` after `rc`: "<context>: [SQLSTATE] message"
  /// (every record, passwords redacted), its code chosen from the SQLSTATE.
  Status Diagnose(SQLSMALLINT handle_type, SQLHANDLE handle, const std::string& context) const;
  SQLHDBC dbc() const { return dbc_; }

 private:
  OdbcConnection(SQLHENV env, SQLHDBC dbc, std::string connection_string)
      : env_(env), dbc_(dbc), connection_string_(std::move(connection_string)) {}
  SQLHENV env_;
  SQLHDBC dbc_;
  bool connected_ = false;
  std::string connection_string_;
};

/// Diagnostics of a handle as "[SQLSTATE] message; ..." with secrets of `connection_string`
/// redacted; `sqlstate` receives the first record's state.
std::string DiagnosticText(SQLSMALLINT handle_type, SQLHANDLE handle,
                           const std::string& connection_string, std::string* sqlstate);

inline bool Succeeded(SQLRETURN rc) {
  return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO;
}

}  // namespace aqueducts::odbc

#pragma once

// Internal to the store's .cc files: a prepared SQLite statement and helpers.

#include <cstdint>
#include <string>

#include <sqlite3.h>

#include "aqueducts/status.h"

namespace aqueducts::server::store_sql {

/// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status status() const {
    return rc_ == SQLITE_OK ? Status::OK()
                            : Status::IoError(std::string("SQLite: ") + sqlite3_errmsg(db_));
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  /// Step once: true with a row, false when done; errors in `status`.
  bool Step(Status* status) {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc != SQLITE_DONE) {
      int ext = sqlite3_extended_errcode(db_);
      std::string msg = std::string("SQLite: ") + sqlite3_errmsg(db_);
      *status = ext == SQLITE_CONSTRAINT_UNIQUE ? Status::Conflict(msg) : Status::IoError(msg);
    }
    return false;
  }
  std::string Text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

/// Runs a statement that returns no rows.
inline Status RunStmt(Stmt& stmt) {
  AQ_RETURN_IF_ERROR(stmt.status());
  Status status;
  while (stmt.Step(&status)) {
  }
  return status;
}

}  // namespace aqueducts::server::store_sql

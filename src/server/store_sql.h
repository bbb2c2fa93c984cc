#pragma once

// Internal to the store's .cc files: one database connection, SQLite or PostgreSQL (libpq),
// behind the same small interface, and a prepared statement on it.
//
// Statements are written once for both: `?` placeholders (and `?N` to reuse parameter N), which
// the PostgreSQL connection rewrites to `$n`; parameters are text or 64-bit integers and are sent
// typed (text / int8), so PostgreSQL never has to guess; ids come back through `RETURNING id`.

#include <cstdint>
#include <memory>
#include <string>

#include "aqueducts/status.h"

namespace aqueducts::server::store_sql {

enum class Dialect { kSqlite, kPostgres };

/// One prepared statement of a Db.
class StmtImpl {
 public:
  virtual ~StmtImpl() = default;
  virtual Status status() const = 0;
  virtual void Bind(int i, const std::string& v) = 0;
  virtual void Bind(int i, int64_t v) = 0;
  /// Step once: true with a row, false when done; errors in `status` (a unique constraint
  /// broken is kConflict).
  virtual bool Step(Status* status) = 0;
  /// Column `col` of the current row ("" / 0 for NULL).
  virtual std::string Text(int col) = 0;
  virtual int64_t Int(int col) = 0;
};

/// \brief A database connection. Not thread-safe: the Store serialises its calls.
class Db {
 public:
  virtual ~Db() = default;
  virtual Dialect dialect() const = 0;
  /// Run statements without parameters or results (several, separated by `;`).
  virtual Status Exec(const std::string& sql) = 0;
  /// Start a transaction that writes (SQLite takes the write lock at once).
  virtual Status Begin() = 0;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t Changes() = 0;
  virtual std::unique_ptr<StmtImpl> Prepare(const std::string& sql) = 0;
};

/// Open `path` (SQLite; `create`: make the file when missing).
Result<std::unique_ptr<Db>> OpenSqlite(const std::string& path, bool create);
/// Connect to PostgreSQL with a libpq connection URI ("postgresql://user:pw@host:5432/db").
Result<std::unique_ptr<Db>> OpenPostgres(const std::string& url);

/// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(Db* db, const std::string& sql) : impl_(db->Prepare(sql)) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status status() const { return impl_->status(); }
  Stmt& Bind(int i, const std::string& v) {
    impl_->Bind(i, v);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    impl_->Bind(i, v);
    return *this;
  }
  bool Step(Status* status) { return impl_->Step(status); }
  std::string Text(int col) { return impl_->Text(col); }
  int64_t Int(int col) { return impl_->Int(col); }

 private:
  std::unique_ptr<StmtImpl> impl_;
};

/// Runs a statement that returns no rows.
inline Status RunStmt(Stmt& stmt) {
  AQ_RETURN_IF_ERROR(stmt.status());
  Status status;
  while (stmt.Step(&status)) {
  }
  return status;
}

/// Runs an `INSERT ... RETURNING id` and returns the id.
inline Result<int64_t> InsertReturningId(Stmt& stmt) {
  AQ_RETURN_IF_ERROR(stmt.status());
  Status status;
  int64_t id = 0;
  bool row = stmt.Step(&status);
  if (row) {
    id = stmt.Int(0);
    while (stmt.Step(&status)) {
    }
  }
  AQ_RETURN_IF_ERROR(status);
  if (!row) {
    return Status::Internal("The database returned no id for a new row");
  }
  return id;
}

}  // namespace aqueducts::server::store_sql

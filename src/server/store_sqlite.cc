// The store's SQLite connection (store_sql.h).

#include <sqlite3.h>

#include "server/store_sql.h"

namespace aqueducts::server::store_sql {
namespace {

class SqliteStmt : public StmtImpl {
 public:
  SqliteStmt(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
  }
  ~SqliteStmt() override { sqlite3_finalize(stmt_); }

  Status status() const override {
    return rc_ == SQLITE_OK ? Status::OK()
                            : Status::IoError(std::string("SQLite: ") + sqlite3_errmsg(db_));
  }
  void Bind(int i, const std::string& v) override {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  bool Step(Status* status) override {
    if (rc_ != SQLITE_OK) {
      *status = this->status();
      return false;
    }
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
  std::string Text(int col) override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) override { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

class SqliteDb : public Db {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  ~SqliteDb() override { sqlite3_close_v2(db_); }

  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Status::IoError("SQLite: " + msg);
    }
    return Status::OK();
  }
  Status Begin() override { return Exec("BEGIN IMMEDIATE"); }
  int64_t Changes() override { return sqlite3_changes(db_); }
  std::unique_ptr<StmtImpl> Prepare(const std::string& sql) override {
    return std::make_unique<SqliteStmt>(db_, sql);
  }

 private:
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<Db>> OpenSqlite(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::IoError("Cannot open the database '" + path + "': " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Db>(new SqliteDb(db));
}

}  // namespace aqueducts::server::store_sql

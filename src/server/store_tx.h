#pragma once

#include "aqueducts/status.h"

#include "server/store_sql.h"

namespace aqueducts::server::store_sql {

/// \brief A write transaction on `db` (the caller holds the store's lock): begun on
/// construction (begun() says whether it was), rolled back on destruction unless Commit() was
/// called first, so every early return of a failed step undoes the steps before it.
class Transaction {
 public:
  explicit Transaction(Db* db) : db_(db), begun_(db->Begin()) {}
  ~Transaction() {
    if (begun_.ok() && !finished_) {
      (void)db_->Exec("ROLLBACK");
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const Status& begun() const { return begun_; }
  /// COMMIT. A COMMIT that fails is rolled back at once (SQLite leaves the transaction open
  /// after a failed COMMIT, PostgreSQL has already ended it), so the connection is never left
  /// inside a transaction; after Commit() the destructor does nothing.
  Status Commit() {
    finished_ = true;
    Status committed = db_->Exec("COMMIT");
    if (!committed.ok()) {
      (void)db_->Exec("ROLLBACK");
    }
    return committed;
  }

 private:
  Db* db_;
  Status begun_;
  bool finished_ = false;
};

}  // namespace aqueducts::server::store_sql

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
  /// COMMIT; after it (even when it fails) the destructor does nothing.
  Status Commit() {
    finished_ = true;
    return db_->Exec("COMMIT");
  }

 private:
  Db* db_;
  Status begun_;
  bool finished_ = false;
};

}  // namespace aqueducts::server::store_sql

// Event retention in the store (Store::PruneEventsOfRunsFinishedBefore).

#include <nlohmann/json.hpp>

#include "server/store.h"
#include "server/store_sql.h"
#include "server/store_tx.h"

namespace aqueducts::server {

using store_sql::RunStmt;
using store_sql::Stmt;

Result<int64_t> Store::PruneEventsOfRunsFinishedBefore(const std::string& cutoff,
                                                       const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  struct Candidate {
    int64_t run_id, last_seq, count;
  };
  std::vector<Candidate> candidates;
  {
    // A run already pruned holds only its events_deleted marker: it is not pruned again.
    Stmt find(db_.get(),
              "SELECT e.run_id, max(e.seq), sum(CASE WHEN e.event <> 'events_deleted' THEN 1 ELSE "
              "0 END) FROM run_events e "
              "JOIN runs r ON r.id = e.run_id WHERE r.state IN ('succeeded', 'failed', "
              "'cancelled', 'lost') AND r.updated_at < ? GROUP BY e.run_id "
              "HAVING sum(CASE WHEN e.event <> 'events_deleted' THEN 1 ELSE 0 END) > 0 ORDER BY "
              "e.run_id");
    if (!find.status().ok()) {
      return find.status();
    }
    find.Bind(1, cutoff);
    Status st;
    while (find.Step(&st)) {
      candidates.push_back({find.Int(0), find.Int(1), find.Int(2)});
    }
    if (!st.ok()) {
      return st;
    }
  }
  std::string now = NowUtc();
  for (const Candidate& c : candidates) {
    Stmt del(db_.get(), "DELETE FROM run_events WHERE run_id = ?");
    del.Bind(1, c.run_id);
    Status s = RunStmt(del);
    if (!s.ok()) {
      return s;
    }
    Stmt insert(db_.get(),
                "INSERT INTO run_events (run_id, seq, event, data, created_at) "
                "VALUES (?, ?, 'events_deleted', ?, ?)");
    insert.Bind(1, c.run_id).Bind(2, c.last_seq + 1);
    insert.Bind(3, nlohmann::json{{"deleted", c.count}, {"reason", reason}}.dump());
    insert.Bind(4, now);
    s = RunStmt(insert);
    if (!s.ok()) {
      return s;
    }
  }
  AQ_RETURN_IF_ERROR(tx.Commit());
  return static_cast<int64_t>(candidates.size());
}

}  // namespace aqueducts::server

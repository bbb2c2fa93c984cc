// The schedules of the store (tables schedules and schedule_fires) and run counts for /metrics.

#include "server/store.h"
#include "server/store_sql.h"
#include "server/store_tx.h"

namespace aqueducts::server {

using store_sql::RunStmt;
using store_sql::Stmt;

namespace {

constexpr char kScheduleColumns[] =
    "id, pipeline_id, cron, time_zone, parameters, target_executor, target_label, paused, "
    "next_fire_at, last_run_id, created_by, created_at, updated_at";

Schedule ReadSchedule(Stmt& stmt) {
  Schedule s;
  s.id = stmt.Int(0);
  s.pipeline_id = stmt.Int(1);
  s.cron = stmt.Text(2);
  s.time_zone = stmt.Text(3);
  s.parameters_json = stmt.Text(4);
  s.target_executor = stmt.Text(5);
  s.target_label = stmt.Text(6);
  s.paused = stmt.Int(7) != 0;
  s.next_fire_at = stmt.Int(8);
  s.last_run_id = stmt.Int(9);
  s.created_by = stmt.Text(10);
  s.created_at = stmt.Text(11);
  s.updated_at = stmt.Text(12);
  return s;
}

Status UpdateScheduleRow(store_sql::Db* db, const Schedule& s) {
  Stmt stmt(db,
            "UPDATE schedules SET paused = ?, next_fire_at = ?, last_run_id = ?, updated_at = ? "
            "WHERE id = ?");
  stmt.Bind(1, static_cast<int64_t>(s.paused ? 1 : 0)).Bind(2, s.next_fire_at);
  stmt.Bind(3, s.last_run_id).Bind(4, NowUtc()).Bind(5, s.id);
  AQ_RETURN_IF_ERROR(RunStmt(stmt));
  if (db->Changes() == 0) {
    return Status::NotFound("No schedule with id " + std::to_string(s.id));
  }
  return Status::OK();
}

}  // namespace

Result<Schedule> Store::CreateSchedule(const Schedule& in) {
  std::lock_guard<std::mutex> lock(mu_);
  Schedule s = in;
  s.created_at = s.updated_at = NowUtc();
  Stmt stmt(db_.get(),
            "INSERT INTO schedules (pipeline_id, cron, time_zone, parameters, target_executor, "
            "target_label, paused, next_fire_at, last_run_id, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  stmt.Bind(1, s.pipeline_id).Bind(2, s.cron).Bind(3, s.time_zone).Bind(4, s.parameters_json);
  stmt.Bind(5, s.target_executor).Bind(6, s.target_label);
  stmt.Bind(7, static_cast<int64_t>(s.paused ? 1 : 0)).Bind(8, s.next_fire_at);
  stmt.Bind(9, s.last_run_id).Bind(10, s.created_by).Bind(11, s.created_at);
  stmt.Bind(12, s.updated_at);
  AQ_ASSIGN_OR_RETURN(s.id, store_sql::InsertReturningId(stmt));
  return s;
}

Result<Schedule> Store::GetSchedule(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), std::string("SELECT ") + kScheduleColumns + " FROM schedules WHERE id = ?");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, id);
  Status status;
  if (!stmt.Step(&status)) {
    AQ_RETURN_IF_ERROR(status);
    return Status::NotFound("No schedule with id " + std::to_string(id));
  }
  return ReadSchedule(stmt);
}

Result<std::vector<Schedule>> Store::ListSchedules() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), std::string("SELECT ") + kScheduleColumns + " FROM schedules ORDER BY id");
  AQ_RETURN_IF_ERROR(stmt.status());
  std::vector<Schedule> out;
  Status status;
  while (stmt.Step(&status)) {
    out.push_back(ReadSchedule(stmt));
  }
  AQ_RETURN_IF_ERROR(status);
  return out;
}

Status Store::UpdateSchedule(const Schedule& s) {
  std::lock_guard<std::mutex> lock(mu_);
  return UpdateScheduleRow(db_.get(), s);
}

Status Store::DeleteSchedule(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "DELETE FROM schedules WHERE id = ?");
  stmt.Bind(1, id);
  AQ_RETURN_IF_ERROR(RunStmt(stmt));
  if (db_->Changes() == 0) {
    return Status::NotFound("No schedule with id " + std::to_string(id));
  }
  return Status::OK();
}

Status Store::RecordFire(const Schedule& s, const ScheduleFire& fire) {
  std::lock_guard<std::mutex> lock(mu_);
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  Status st = UpdateScheduleRow(db_.get(), s);
  if (!st.ok()) {
    return st;
  }
  Stmt stmt(db_.get(),
            "INSERT INTO schedule_fires (schedule_id, fire_at, outcome, run_id, missed, reason, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  stmt.Bind(1, s.id).Bind(2, fire.fire_at).Bind(3, fire.outcome).Bind(4, fire.run_id);
  stmt.Bind(5, fire.missed).Bind(6, fire.reason).Bind(7, NowUtc());
  st = RunStmt(stmt);
  if (!st.ok()) {
    return st;
  }
  return tx.Commit();
}

Result<std::map<std::string, int64_t>> Store::CountRunsByState() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "SELECT state, count(*) FROM runs GROUP BY state");
  AQ_RETURN_IF_ERROR(stmt.status());
  std::map<std::string, int64_t> out;
  Status status;
  while (stmt.Step(&status)) {
    out[stmt.Text(0)] = stmt.Int(1);
  }
  AQ_RETURN_IF_ERROR(status);
  return out;
}

Result<std::vector<ScheduleFire>> Store::ListFires(int64_t schedule_id, int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "SELECT id, schedule_id, fire_at, outcome, run_id, missed, reason, created_at "
            "FROM schedule_fires WHERE schedule_id = ? ORDER BY id DESC LIMIT ?");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, schedule_id).Bind(2, limit);
  std::vector<ScheduleFire> out;
  Status status;
  while (stmt.Step(&status)) {
    ScheduleFire f;
    f.id = stmt.Int(0);
    f.schedule_id = stmt.Int(1);
    f.fire_at = stmt.Int(2);
    f.outcome = stmt.Text(3);
    f.run_id = stmt.Int(4);
    f.missed = stmt.Int(5);
    f.reason = stmt.Text(6);
    f.created_at = stmt.Text(7);
    out.push_back(f);
  }
  AQ_RETURN_IF_ERROR(status);
  return out;
}

}  // namespace aqueducts::server

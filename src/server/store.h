#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::server {

namespace store_sql {
class Db;
}

/// Roles, ordered: each includes the rights of the ones before it.
enum class Role { kViewer = 0, kOperator = 1, kAdmin = 2 };

/// "viewer", "operator" or "admin"; anything else is kInvalidArgument naming the three.
Result<Role> ParseRole(const std::string& text);
const char* RoleName(Role role);

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  std::string password_hash;
  std::string created_at;
};

/// An API token as stored: only the SHA-256 of the secret is kept.
struct Token {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string user_name;
  std::string name;
  Role role = Role::kViewer;  ///< the token's scope: never above its user's role
  std::string created_at;
};

struct PipelineSummary {
  int64_t id = 0;
  std::string name;
  int latest_version = 0;
  std::string created_at;
  std::string updated_at;
};

/// One saved version of a pipeline: the text exactly as it was sent.
struct PipelineVersion {
  int64_t pipeline_id = 0;
  std::string name;
  int version = 0;
  std::string format;           ///< yaml, json or toml
  std::string text;             ///< verbatim
  std::string parameters_json;  ///< JSON array of the `${names}` the text needs
  std::string created_by;
  std::string created_at;
};

/// A run of a pipeline version on an executor. States: queued, dispatched, running, then one of
/// succeeded, failed, cancelled, lost; `reason` says why it is in its state.
struct Run {
  int64_t id = 0;
  int64_t pipeline_id = 0;
  int pipeline_version = 0;
  std::string parameters_json;  ///< JSON object name -> value
  std::string pipeline_json;    ///< the templated pipeline sent to the executor
  std::string target_executor;  ///< run only on this executor (name); empty: any
  std::string target_label;     ///< run only on an executor with this label ("k=v"); empty: any
  std::string executor_name;    ///< the executor it was sent to, once dispatched
  int64_t rerun_of = 0;         ///< the run this one repeats (0: none)
  std::string execution_id;     ///< the executor's id, once it started the run
  std::string state;
  std::string reason;
  std::string created_by;
  std::string created_at;
  std::string updated_at;
};

/// Which runs Store::ListRuns returns; an empty/zero field does not filter.
struct RunFilter {
  std::string state;
  int64_t pipeline_id = 0;
  std::string executor;       ///< the executor the run went to
  std::string created_since;  ///< RFC 3339 UTC: created at or after
  int64_t before_id = 0;      ///< only runs with a smaller id (the next page, newest first)
  int64_t limit = 100;
};

/// A cron schedule of a stored pipeline (docs/server-api.md, "Schedules"). Instants are
/// seconds since the Unix epoch (UTC).
struct Schedule {
  int64_t id = 0;
  int64_t pipeline_id = 0;
  std::string cron;
  std::string time_zone;        ///< IANA name, e.g. Europe/Berlin
  std::string parameters_json;  ///< JSON object name -> value
  std::string target_executor;
  std::string target_label;
  bool paused = false;
  int64_t next_fire_at = 0;  ///< the next fire time still to handle
  int64_t last_run_id = 0;   ///< the run of the last fire that started one (0: none)
  std::string created_by;
  std::string created_at;
  std::string updated_at;
};

/// What happened at one fire time of a schedule: `outcome` is "started" (run_id set),
/// "skipped" or "error", with a human `reason`; `missed` counts earlier fire times that passed
/// while the server was down and were not run.
struct ScheduleFire {
  int64_t id = 0;
  int64_t schedule_id = 0;
  int64_t fire_at = 0;
  std::string outcome;
  int64_t run_id = 0;
  int64_t missed = 0;
  std::string reason;
  std::string created_at;
};

/// One event as an executor posts it: `seq` counts from 1 per run on the executor's side.
struct SequencedEvent {
  int64_t seq = 0;
  std::string event;
  std::string data;
};

/// A one-time registration token (only its SHA-256 is stored).
struct RegistrationToken {
  int64_t id = 0;
  std::string created_by;
  std::string created_at;
};

/// A registered executor as stored: its credential is kept as a SHA-256 only.
struct ExecutorRecord {
  int64_t id = 0;
  std::string name;
  std::string labels_json;  ///< JSON object label -> value, as last reported
  std::string registered_at;
};

/// One stored event of a run: `seq` counts from 1 per run, without gaps.
struct RunEvent {
  int64_t seq = 0;
  std::string event;
  std::string data;
  std::string created_at;
};

/// \brief The server's store: one SQLite database `<data_dir>/aqueducts.db` in WAL mode, or a
/// PostgreSQL database (libpq). The same statements and the same behaviour on both. Migrations
/// are built in for both and applied on open (table schema_version). Thread-safe: one
/// connection, calls serialised by a mutex.
class Store {
 public:
  /// The database file inside `data_dir`.
  static std::string DatabasePath(const std::string& data_dir);
  /// Open the store. `create`: make the directory and database when missing; otherwise a
  /// missing database is kNotFound ("run `aqueducts-server init` first").
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir, bool create);
  /// Open a PostgreSQL store: `url` is a libpq connection URI
  /// ("postgresql://user:password@host:5432/dbname"); the tables are created by the migrations
  /// in the connection's schema. kIoError (password redacted) when it cannot connect.
  static Result<std::unique_ptr<Store>> OpenPostgres(const std::string& url);
  ~Store();

  /// "sqlite" or "postgresql".
  std::string Backend() const;

  /// The schema version after migrations.
  int schema_version() const { return schema_version_; }
  /// The SQLite database's journal mode ("wal"); kUnsupported for PostgreSQL.
  Result<std::string> JournalMode();

  Result<int64_t> CountUsers();
  /// kConflict when the name is taken.
  Result<User> CreateUser(const std::string& name, const std::string& password_hash, Role role);
  Result<std::optional<User>> FindUser(const std::string& name);
  Result<std::vector<User>> ListUsers();
  /// Changes user `id`'s role and/or password hash (nullopt: unchanged) in one transaction.
  /// Lowering the role lowers the user's tokens (sessions included) to it, so no token is above
  /// its user's role. kNotFound when there is no such user; kConflict when it would leave no
  /// admin. The user as it is afterwards.
  Result<User> UpdateUser(int64_t id, std::optional<Role> role,
                          const std::optional<std::string>& password_hash);
  /// Removes user `id` and every token of theirs (sessions included) in one transaction: their
  /// secrets stop working at once. kNotFound when there is no such user; kConflict when it is
  /// the last admin. The user removed.
  Result<User> DeleteUser(int64_t id);

  Result<Token> CreateToken(int64_t user_id, const std::string& name,
                            const std::string& secret_sha256, Role role);
  /// The token whose secret hashes to `secret_sha256`, with its user's name; nullopt if none.
  Result<std::optional<Token>> FindToken(const std::string& secret_sha256);
  /// Remove token `id`: its secret stops working at once. kNotFound if there is none.
  Status DeleteToken(int64_t id);
  /// Every API token with its user's name, by id (secrets are never stored, so never listed).
  Result<std::vector<Token>> ListTokens();

  Result<std::vector<PipelineSummary>> ListPipelines();
  /// Version 1 of a new pipeline; kConflict when the name is taken.
  Result<PipelineVersion> CreatePipeline(const std::string& name, const std::string& format,
                                         const std::string& text,
                                         const std::string& parameters_json,
                                         const std::string& created_by);
  /// The next version of pipeline `id` (renamed when `name` is not empty); kNotFound when
  /// there is no such pipeline, kConflict when the new name is taken.
  Result<PipelineVersion> AddVersion(int64_t id, const std::string& name, const std::string& format,
                                     const std::string& text, const std::string& parameters_json,
                                     const std::string& created_by);
  /// Version `version` of pipeline `id` (0: the latest); kNotFound when either is missing.
  Result<PipelineVersion> GetPipeline(int64_t id, int version);
  /// Every version of pipeline `id`, oldest first, texts left empty.
  Result<std::vector<PipelineVersion>> ListVersions(int64_t id);
  /// Remove pipeline `id` and all its versions; kNotFound when missing.
  Status DeletePipeline(int64_t id);

  /// Store a new run (id and timestamps are set here).
  Result<Run> CreateRun(const Run& run);
  /// Set a run's state and reason (and the executor it went to when not empty).
  Status SetRunState(int64_t id, const std::string& state, const std::string& reason,
                     const std::string& executor_name = "");
  Status SetExecutionId(int64_t id, const std::string& execution_id);
  /// Runs, newest first, of one state (empty: all), at most `limit`.
  Result<std::vector<Run>> ListRuns(const std::string& state, int64_t limit);
  /// Runs matching `filter`, newest first.
  Result<std::vector<Run>> ListRuns(const RunFilter& filter);
  /// The number of stored runs per state (states without runs are absent).
  Result<std::map<std::string, int64_t>> CountRunsByState();
  /// Store the events an executor posted for a run, idempotently: events with a sequence
  /// number already stored are skipped, the first gap stops the batch. Returns the highest
  /// executor sequence number stored so far (what the executor may forget); the events newly
  /// stored go to `stored`.
  Result<int64_t> AppendExecutorEvents(int64_t run_id, const std::vector<SequencedEvent>& events,
                                       std::vector<SequencedEvent>* stored);

  Result<RegistrationToken> CreateRegistrationToken(const std::string& secret_sha256,
                                                    const std::string& created_by);
  /// Exchange a registration token for an executor credential. A token unused so far is bound
  /// to `name`; a token already bound to `name` re-enrols it (a restarted executor), replacing
  /// its credential. kNotFound: unknown token; kInvalidArgument: a token bound to another name;
  /// kConflict: the name belongs to an executor enrolled with another token.
  Result<ExecutorRecord> EnrolExecutor(const std::string& token_sha256, const std::string& name,
                                       const std::string& credential_sha256,
                                       const std::string& labels_json);
  Result<std::optional<ExecutorRecord>> FindExecutorByCredential(
      const std::string& credential_sha256);
  Result<std::vector<ExecutorRecord>> ListExecutors();
  Status SetExecutorLabels(const std::string& name, const std::string& labels_json);
  Result<Run> GetRun(int64_t id);
  /// Append an event with the run's next sequence number; returns that number.
  Result<int64_t> AppendEvent(int64_t run_id, const std::string& event, const std::string& data);
  /// The events of a run with seq > `after_seq`, in order.
  Result<std::vector<RunEvent>> ListEvents(int64_t run_id, int64_t after_seq);
  /// Event retention: the events of every run in a final state whose last change
  /// (`updated_at`) is before `cutoff` (RFC 3339 UTC with milliseconds) are deleted in one
  /// transaction and replaced by one `events_deleted` event, `{"deleted": N, "reason": ...}`,
  /// numbered after the last deleted one (sequence numbers never restart). Runs not finished are
  /// never touched, whatever their age. Returns the number of runs pruned.
  Result<int64_t> PruneEventsOfRunsFinishedBefore(const std::string& cutoff,
                                                  const std::string& reason);
  /// Store a new schedule (id and timestamps are set here).
  Result<Schedule> CreateSchedule(const Schedule& schedule);
  /// kNotFound when there is no schedule `id`.
  Result<Schedule> GetSchedule(int64_t id);
  Result<std::vector<Schedule>> ListSchedules();
  /// Save the mutable fields of `schedule` (paused, next_fire_at, last_run_id).
  Status UpdateSchedule(const Schedule& schedule);
  /// Remove schedule `id` and its fire records; kNotFound when missing.
  Status DeleteSchedule(int64_t id);
  /// Record one fire and save the schedule's new state in one transaction.
  Status RecordFire(const Schedule& schedule, const ScheduleFire& fire);
  /// The fire records of schedule `id`, newest first, at most `limit`.
  Result<std::vector<ScheduleFire>> ListFires(int64_t schedule_id, int64_t limit);

  /// At start-up: runs left queued/dispatched/running by a previous process become `lost`
  /// with that reason; they are never re-run silently. `keep_assigned`: runs dispatched to or
  /// running on an executor are left as they are, for the RunManager to reclaim when their
  /// executor reconnects (RunManager's constructor).
  Status MarkUnfinishedRunsLost(bool keep_assigned = false);

 private:
  Store() = default;
  Status Exec(const std::string& sql);
  Status Begin();  ///< a write transaction
  Status Migrate();
  Result<PipelineVersion> GetPipelineLocked(int64_t id, int version);
  Result<ExecutorRecord> FindExecutorLocked(const std::string& column, const std::string& value);

  std::unique_ptr<store_sql::Db> db_;
  std::mutex mu_;
  int schema_version_ = 0;
};

/// A PostgreSQL connection URI (or key=value string) with its password replaced by "***", for
/// logs and messages.
std::string RedactDatabaseUrl(const std::string& url);

/// The current time as RFC 3339 UTC with milliseconds, e.g. "2026-12-01T19:05:01.123Z".
std::string NowUtc();

}  // namespace aqueducts::server

#include "server/store.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "server/store_pg_migrations.h"
#include "server/store_sql.h"
#include "server/store_tx.h"

namespace aqueducts::server {

using store_sql::InsertReturningId;
using store_sql::RunStmt;
using store_sql::Stmt;

namespace {

// Migration i (0-based) brings the schema from version i to i + 1. Append only: a released
// migration is never edited. kPostgresMigrations (store_migrations_pg.cc) has the same versions
// for PostgreSQL: a new version is added to both.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE pipelines (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  latest_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE pipeline_versions (
  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  format TEXT NOT NULL,
  text TEXT NOT NULL,
  parameters TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (pipeline_id, version)
);
)sql",
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  pipeline_id INTEGER NOT NULL,
  pipeline_version INTEGER NOT NULL,
  parameters TEXT NOT NULL,
  executor_url TEXT NOT NULL,
  execution_id TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE run_events (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
)sql",
    R"sql(
ALTER TABLE runs ADD COLUMN pipeline_json TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN target_executor TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN target_label TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN executor_name TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN executor_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN rerun_of INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_by_state ON runs(state);
CREATE TABLE registration_tokens (
  id INTEGER PRIMARY KEY,
  secret_sha256 TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  executor_name TEXT NOT NULL DEFAULT '',
  used_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE executors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  credential_sha256 TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}',
  registered_at TEXT NOT NULL
);
)sql",
    R"sql(
CREATE TABLE schedules (
  id INTEGER PRIMARY KEY,
  pipeline_id INTEGER NOT NULL,
  cron TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  parameters TEXT NOT NULL,
  target_executor TEXT NOT NULL DEFAULT '',
  target_label TEXT NOT NULL DEFAULT '',
  paused INTEGER NOT NULL DEFAULT 0,
  next_fire_at INTEGER NOT NULL,
  last_run_id INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE schedule_fires (
  id INTEGER PRIMARY KEY,
  schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  fire_at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  run_id INTEGER NOT NULL DEFAULT 0,
  missed INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX schedule_fires_by_schedule ON schedule_fires(schedule_id, id);
)sql",
};

constexpr int kSchemaVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));
static_assert(kSchemaVersion == kPostgresSchemaVersion,
              "every schema version has a SQLite and a PostgreSQL migration");

Role RoleOrViewer(const std::string& text) {
  Result<Role> role = ParseRole(text);
  return role.ok() ? *role : Role::kViewer;
}

}  // namespace

Result<Role> ParseRole(const std::string& text) {
  if (text == "viewer") {
    return Role::kViewer;
  }
  if (text == "operator") {
    return Role::kOperator;
  }
  if (text == "admin") {
    return Role::kAdmin;
  }
  return Status::InvalidArgument("Unknown role '" + text + "': expected viewer, operator or admin");
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

std::string Store::DatabasePath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "aqueducts.db").string();
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir, bool create) {
  if (data_dir.empty()) {
    return Status::InvalidArgument("--data-dir is required");
  }
  std::string path = DatabasePath(data_dir);
  std::error_code ec;
  if (create) {
    std::filesystem::create_directories(data_dir, ec);
    if (ec) {
      return Status::IoError("Cannot create the data directory '" + data_dir +
                             "': " + ec.message());
    }
  } else if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("No database at '" + path +
                            "': run `aqueducts-server init --data-dir " + data_dir +
                            " --admin NAME` first");
  }
  auto store = std::unique_ptr<Store>(new Store());
  AQ_ASSIGN_OR_RETURN(store->db_, store_sql::OpenSqlite(path, create));
  AQ_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  AQ_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON"));
  AQ_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=NORMAL"));
  Result<std::string> mode = store->JournalMode();
  if (!mode.ok()) {
    return mode.status();
  }
  if (*mode != "wal") {
    return Status::IoError("The database '" + path + "' cannot use WAL mode (journal mode '" +
                           *mode + "'): is the data directory on a network filesystem?");
  }
  AQ_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Result<std::unique_ptr<Store>> Store::OpenPostgres(const std::string& url) {
  auto store = std::unique_ptr<Store>(new Store());
  AQ_ASSIGN_OR_RETURN(store->db_, store_sql::OpenPostgres(url));
  AQ_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Store::~Store() = default;

Status Store::Exec(const std::string& sql) {
  return db_->Exec(sql);
}

Status Store::Begin() {
  return db_->Begin();
}

std::string Store::Backend() const {
  return db_->dialect() == store_sql::Dialect::kPostgres ? "postgresql" : "sqlite";
}

Result<std::string> Store::JournalMode() {
  std::lock_guard<std::mutex> lock(mu_);
  if (db_->dialect() != store_sql::Dialect::kSqlite) {
    return Status::Unsupported("Only a SQLite store has a journal mode");
  }
  Stmt stmt(db_.get(), "PRAGMA journal_mode");
  AQ_RETURN_IF_ERROR(stmt.status());
  Status status;
  if (!stmt.Step(&status)) {
    return status.ok() ? Status::IoError("SQLite: no journal mode") : status;
  }
  return stmt.Text(0);
}

Status Store::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  bool postgres = db_->dialect() == store_sql::Dialect::kPostgres;
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  // Two servers starting on one PostgreSQL database migrate one after the other.
  Status s = postgres ? Exec("SELECT pg_advisory_xact_lock(7410255013)") : Status::OK();
  if (!s.ok()) {
    return s;
  }
  s = Exec(postgres ? "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"
                    : "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  if (!s.ok()) {
    return s;
  }
  int current = 0;
  {
    Stmt stmt(db_.get(), "SELECT max(version) FROM schema_version");
    if (!stmt.status().ok()) {
      return stmt.status();
    }
    Status st;
    if (stmt.Step(&st)) {
      current = static_cast<int>(stmt.Int(0));
    }
    if (!st.ok()) {
      return st;
    }
  }
  if (current > kSchemaVersion) {
    return Status::Unsupported("The database has schema version " + std::to_string(current) +
                               ", newer than this server's " + std::to_string(kSchemaVersion) +
                               ": upgrade the server");
  }
  for (int v = current; v < kSchemaVersion; ++v) {
    s = Exec(postgres ? kPostgresMigrations[v] : kMigrations[v]);
    if (!s.ok()) {
      return s.WithPrefix("Migration to schema version " + std::to_string(v + 1) + ": ");
    }
  }
  if (current < kSchemaVersion) {
    Stmt stmt(db_.get(), "INSERT INTO schema_version (version) VALUES (?)");
    stmt.Bind(1, static_cast<int64_t>(kSchemaVersion));
    AQ_RETURN_IF_ERROR(RunStmt(stmt));
  }
  AQ_RETURN_IF_ERROR(tx.Commit());
  schema_version_ = kSchemaVersion;
  return Status::OK();
}

Result<int64_t> Store::CountUsers() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "SELECT count(*) FROM users");
  AQ_RETURN_IF_ERROR(stmt.status());
  Status status;
  int64_t n = stmt.Step(&status) ? stmt.Int(0) : 0;
  AQ_RETURN_IF_ERROR(status);
  return n;
}

Result<User> Store::CreateUser(const std::string& name, const std::string& password_hash,
                               Role role) {
  std::lock_guard<std::mutex> lock(mu_);
  User user;
  user.name = name;
  user.password_hash = password_hash;
  user.role = role;
  user.created_at = NowUtc();
  Stmt stmt(db_.get(),
            "INSERT INTO users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING id");
  stmt.Bind(1, name).Bind(2, password_hash).Bind(3, std::string(RoleName(role)));
  stmt.Bind(4, user.created_at);
  Result<int64_t> id = InsertReturningId(stmt);
  if (id.status().code() == StatusCode::kConflict) {
    return Status::Conflict("A user named '" + name + "' already exists");
  }
  AQ_ASSIGN_OR_RETURN(user.id, std::move(id));
  return user;
}

Result<std::optional<User>> Store::FindUser(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "SELECT id, name, password_hash, role, created_at FROM users WHERE name = ?");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, name);
  Status status;
  if (!stmt.Step(&status)) {
    AQ_RETURN_IF_ERROR(status);
    return std::optional<User>();
  }
  User u;
  u.id = stmt.Int(0);
  u.name = stmt.Text(1);
  u.password_hash = stmt.Text(2);
  u.role = RoleOrViewer(stmt.Text(3));
  u.created_at = stmt.Text(4);
  return std::optional<User>(u);
}

Result<std::vector<User>> Store::ListUsers() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "SELECT id, name, role, created_at FROM users ORDER BY id");
  AQ_RETURN_IF_ERROR(stmt.status());
  std::vector<User> users;
  Status status;
  while (stmt.Step(&status)) {
    User u;
    u.id = stmt.Int(0);
    u.name = stmt.Text(1);
    u.role = RoleOrViewer(stmt.Text(2));
    u.created_at = stmt.Text(3);
    users.push_back(u);
  }
  AQ_RETURN_IF_ERROR(status);
  return users;
}

Result<Token> Store::CreateToken(int64_t user_id, const std::string& name,
                                 const std::string& secret_sha256, Role role) {
  std::lock_guard<std::mutex> lock(mu_);
  Token t;
  t.user_id = user_id;
  t.name = name;
  t.role = role;
  t.created_at = NowUtc();
  Stmt stmt(db_.get(),
            "INSERT INTO api_tokens (user_id, name, secret_sha256, role, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id");
  stmt.Bind(1, user_id).Bind(2, name).Bind(3, secret_sha256);
  stmt.Bind(4, std::string(RoleName(role))).Bind(5, t.created_at);
  AQ_ASSIGN_OR_RETURN(t.id, InsertReturningId(stmt));
  return t;
}

Result<std::optional<Token>> Store::FindToken(const std::string& secret_sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "SELECT t.id, t.user_id, u.name, t.name, t.role, t.created_at FROM api_tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.secret_sha256 = ?");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, secret_sha256);
  Status status;
  if (!stmt.Step(&status)) {
    AQ_RETURN_IF_ERROR(status);
    return std::optional<Token>();
  }
  Token t;
  t.id = stmt.Int(0);
  t.user_id = stmt.Int(1);
  t.user_name = stmt.Text(2);
  t.name = stmt.Text(3);
  t.role = RoleOrViewer(stmt.Text(4));
  t.created_at = stmt.Text(5);
  return std::optional<Token>(t);
}

Status Store::DeleteToken(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "DELETE FROM api_tokens WHERE id = ?");
  stmt.Bind(1, id);
  AQ_RETURN_IF_ERROR(RunStmt(stmt));
  if (db_->Changes() == 0) {
    return Status::NotFound("No token with id " + std::to_string(id));
  }
  return Status::OK();
}

Result<std::vector<PipelineSummary>> Store::ListPipelines() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "SELECT id, name, latest_version, created_at, updated_at FROM pipelines ORDER BY id");
  AQ_RETURN_IF_ERROR(stmt.status());
  std::vector<PipelineSummary> out;
  Status status;
  while (stmt.Step(&status)) {
    PipelineSummary p;
    p.id = stmt.Int(0);
    p.name = stmt.Text(1);
    p.latest_version = static_cast<int>(stmt.Int(2));
    p.created_at = stmt.Text(3);
    p.updated_at = stmt.Text(4);
    out.push_back(p);
  }
  AQ_RETURN_IF_ERROR(status);
  return out;
}

Result<PipelineVersion> Store::CreatePipeline(const std::string& name, const std::string& format,
                                              const std::string& text,
                                              const std::string& parameters_json,
                                              const std::string& created_by) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string now = NowUtc();
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  Stmt insert(db_.get(),
              "INSERT INTO pipelines (name, latest_version, created_at, updated_at) "
              "VALUES (?, 1, ?, ?) RETURNING id");
  insert.Bind(1, name).Bind(2, now).Bind(3, now);
  Result<int64_t> inserted = InsertReturningId(insert);
  if (inserted.status().code() == StatusCode::kConflict) {
    return Status::Conflict("A pipeline named '" + name + "' already exists");
  }
  if (!inserted.ok()) {
    return inserted.status();
  }
  int64_t id = *inserted;
  Status s;
  Stmt version(db_.get(),
               "INSERT INTO pipeline_versions (pipeline_id, version, name, format, text, "
               "parameters, created_by, created_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?)");
  version.Bind(1, id).Bind(2, name).Bind(3, format).Bind(4, text).Bind(5, parameters_json);
  version.Bind(6, created_by).Bind(7, now);
  AQ_RETURN_IF_ERROR(RunStmt(version));
  AQ_RETURN_IF_ERROR(tx.Commit());
  return GetPipelineLocked(id, 1);
}

Result<PipelineVersion> Store::AddVersion(int64_t id, const std::string& name,
                                          const std::string& format, const std::string& text,
                                          const std::string& parameters_json,
                                          const std::string& created_by) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string now = NowUtc();
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  std::string current_name;
  int latest = 0;
  {
    Stmt find(db_.get(), "SELECT name, latest_version FROM pipelines WHERE id = ?");
    find.Bind(1, id);
    Status st;
    if (!find.Step(&st)) {
      return st.ok() ? Status::NotFound("No pipeline with id " + std::to_string(id)) : st;
    }
    current_name = find.Text(0);
    latest = static_cast<int>(find.Int(1));
  }
  std::string new_name = name.empty() ? current_name : name;
  int next = latest + 1;
  Stmt update(db_.get(),
              "UPDATE pipelines SET name = ?, latest_version = ?, updated_at = ? WHERE id = ?");
  update.Bind(1, new_name).Bind(2, static_cast<int64_t>(next)).Bind(3, now).Bind(4, id);
  Status s = RunStmt(update);
  if (s.code() == StatusCode::kConflict) {
    return Status::Conflict("A pipeline named '" + new_name + "' already exists");
  }
  if (!s.ok()) {
    return s;
  }
  Stmt version(db_.get(),
               "INSERT INTO pipeline_versions (pipeline_id, version, name, format, text, "
               "parameters, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  version.Bind(1, id).Bind(2, static_cast<int64_t>(next)).Bind(3, new_name).Bind(4, format);
  version.Bind(5, text).Bind(6, parameters_json).Bind(7, created_by).Bind(8, now);
  AQ_RETURN_IF_ERROR(RunStmt(version));
  AQ_RETURN_IF_ERROR(tx.Commit());
  return GetPipelineLocked(id, next);
}

Result<PipelineVersion> Store::GetPipeline(int64_t id, int version) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetPipelineLocked(id, version);
}

Result<PipelineVersion> Store::GetPipelineLocked(int64_t id, int version) {
  Stmt stmt(db_.get(),
            "SELECT v.pipeline_id, v.name, v.version, v.format, v.text, v.parameters, "
            "v.created_by, v.created_at FROM pipeline_versions v JOIN pipelines p ON "
            "p.id = v.pipeline_id WHERE v.pipeline_id = ? AND v.version = "
            "CASE WHEN ? = 0 THEN p.latest_version ELSE ? END");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, id).Bind(2, static_cast<int64_t>(version)).Bind(3, static_cast<int64_t>(version));
  Status status;
  if (!stmt.Step(&status)) {
    AQ_RETURN_IF_ERROR(status);
    return Status::NotFound(version == 0 ? "No pipeline with id " + std::to_string(id)
                                         : "Pipeline " + std::to_string(id) + " has no version " +
                                               std::to_string(version));
  }
  PipelineVersion v;
  v.pipeline_id = stmt.Int(0);
  v.name = stmt.Text(1);
  v.version = static_cast<int>(stmt.Int(2));
  v.format = stmt.Text(3);
  v.text = stmt.Text(4);
  v.parameters_json = stmt.Text(5);
  v.created_by = stmt.Text(6);
  v.created_at = stmt.Text(7);
  return v;
}

Result<std::vector<PipelineVersion>> Store::ListVersions(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "SELECT pipeline_id, name, version, format, parameters, created_by, created_at "
            "FROM pipeline_versions WHERE pipeline_id = ? ORDER BY version");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, id);
  std::vector<PipelineVersion> out;
  Status status;
  while (stmt.Step(&status)) {
    PipelineVersion v;
    v.pipeline_id = stmt.Int(0);
    v.name = stmt.Text(1);
    v.version = static_cast<int>(stmt.Int(2));
    v.format = stmt.Text(3);
    v.parameters_json = stmt.Text(4);
    v.created_by = stmt.Text(5);
    v.created_at = stmt.Text(6);
    out.push_back(v);
  }
  AQ_RETURN_IF_ERROR(status);
  if (out.empty()) {
    return Status::NotFound("No pipeline with id " + std::to_string(id));
  }
  return out;
}

Status Store::DeletePipeline(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "DELETE FROM pipelines WHERE id = ?");
  stmt.Bind(1, id);
  AQ_RETURN_IF_ERROR(RunStmt(stmt));
  if (db_->Changes() == 0) {
    return Status::NotFound("No pipeline with id " + std::to_string(id));
  }
  return Status::OK();
}

namespace {

Run ReadRun(Stmt& stmt) {
  Run r;
  r.id = stmt.Int(0);
  r.pipeline_id = stmt.Int(1);
  r.pipeline_version = static_cast<int>(stmt.Int(2));
  r.parameters_json = stmt.Text(3);
  r.execution_id = stmt.Text(5);
  r.state = stmt.Text(6);
  r.reason = stmt.Text(7);
  r.created_by = stmt.Text(8);
  r.created_at = stmt.Text(9);
  r.updated_at = stmt.Text(10);
  r.pipeline_json = stmt.Text(11);
  r.target_executor = stmt.Text(12);
  r.target_label = stmt.Text(13);
  r.executor_name = stmt.Text(14);
  r.rerun_of = stmt.Int(15);
  return r;
}

constexpr char kRunColumns[] =
    "id, pipeline_id, pipeline_version, parameters, executor_url, execution_id, state, reason, "
    "created_by, created_at, updated_at, pipeline_json, target_executor, target_label, "
    "executor_name, rerun_of";

}  // namespace

Result<Run> Store::CreateRun(const Run& run) {
  std::lock_guard<std::mutex> lock(mu_);
  Run r = run;
  r.created_at = r.updated_at = NowUtc();
  Stmt stmt(db_.get(),
            "INSERT INTO runs (pipeline_id, pipeline_version, parameters, executor_url, state, "
            "reason, created_by, created_at, updated_at, pipeline_json, target_executor, "
            "target_label, rerun_of) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  stmt.Bind(1, r.pipeline_id).Bind(2, static_cast<int64_t>(r.pipeline_version));
  stmt.Bind(3, r.parameters_json).Bind(4, r.state).Bind(5, r.reason);
  stmt.Bind(6, r.created_by).Bind(7, r.created_at).Bind(8, r.updated_at);
  stmt.Bind(9, r.pipeline_json).Bind(10, r.target_executor).Bind(11, r.target_label);
  stmt.Bind(12, r.rerun_of);
  AQ_ASSIGN_OR_RETURN(r.id, InsertReturningId(stmt));
  return r;
}

Status Store::SetRunState(int64_t id, const std::string& state, const std::string& reason,
                          const std::string& executor_name) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "UPDATE runs SET state = ?, reason = ?, updated_at = ?, executor_name = "
            "CASE WHEN ? = '' THEN executor_name ELSE ? END WHERE id = ?");
  stmt.Bind(1, state).Bind(2, reason).Bind(3, NowUtc()).Bind(4, executor_name);
  stmt.Bind(5, executor_name).Bind(6, id);
  return RunStmt(stmt);
}

Status Store::SetExecutionId(int64_t id, const std::string& execution_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "UPDATE runs SET execution_id = ? WHERE id = ?");
  stmt.Bind(1, execution_id).Bind(2, id);
  return RunStmt(stmt);
}

Result<std::vector<Run>> Store::ListRuns(const std::string& state, int64_t limit) {
  RunFilter filter;
  filter.state = state;
  filter.limit = limit;
  return ListRuns(filter);
}

Result<std::vector<Run>> Store::ListRuns(const RunFilter& f) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            std::string("SELECT ") + kRunColumns +
                " FROM runs WHERE (?1 = '' OR state = ?1) AND (?2 = 0 OR pipeline_id = ?2)"
                " AND (?3 = '' OR executor_name = ?3) AND (?4 = '' OR created_at >= ?4)"
                " AND (?5 = 0 OR id < ?5) ORDER BY id DESC LIMIT ?6");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, f.state).Bind(2, f.pipeline_id).Bind(3, f.executor).Bind(4, f.created_since);
  stmt.Bind(5, f.before_id).Bind(6, f.limit);
  std::vector<Run> out;
  Status status;
  while (stmt.Step(&status)) {
    out.push_back(ReadRun(stmt));
  }
  AQ_RETURN_IF_ERROR(status);
  return out;
}

Result<int64_t> Store::AppendExecutorEvents(int64_t run_id,
                                            const std::vector<SequencedEvent>& events,
                                            std::vector<SequencedEvent>* stored) {
  std::lock_guard<std::mutex> lock(mu_);
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  int64_t acked = 0;
  {
    Stmt find(db_.get(), "SELECT executor_seq FROM runs WHERE id = ?");
    find.Bind(1, run_id);
    Status st;
    if (!find.Step(&st)) {
      return st.ok() ? Status::NotFound("No run with id " + std::to_string(run_id)) : st;
    }
    acked = find.Int(0);
  }
  std::string now = NowUtc();
  for (const auto& e : events) {
    if (e.seq <= acked) {
      continue;  // a resend of an event already stored
    }
    if (e.seq != acked + 1) {
      break;  // a gap: the sender resends from acked + 1
    }
    Stmt insert(db_.get(),
                "INSERT INTO run_events (run_id, seq, event, data, created_at) VALUES (?, "
                "(SELECT coalesce(max(seq), 0) + 1 FROM run_events WHERE run_id = ?), ?, ?, ?)");
    insert.Bind(1, run_id).Bind(2, run_id).Bind(3, e.event).Bind(4, e.data).Bind(5, now);
    AQ_RETURN_IF_ERROR(RunStmt(insert));
    acked = e.seq;
    stored->push_back(e);
  }
  Stmt update(db_.get(), "UPDATE runs SET executor_seq = ? WHERE id = ?");
  update.Bind(1, acked).Bind(2, run_id);
  AQ_RETURN_IF_ERROR(RunStmt(update));
  AQ_RETURN_IF_ERROR(tx.Commit());
  return acked;
}

Result<RegistrationToken> Store::CreateRegistrationToken(const std::string& secret_sha256,
                                                         const std::string& created_by) {
  std::lock_guard<std::mutex> lock(mu_);
  RegistrationToken t;
  t.created_by = created_by;
  t.created_at = NowUtc();
  Stmt stmt(db_.get(),
            "INSERT INTO registration_tokens (secret_sha256, created_by, created_at) "
            "VALUES (?, ?, ?) RETURNING id");
  stmt.Bind(1, secret_sha256).Bind(2, created_by).Bind(3, t.created_at);
  AQ_ASSIGN_OR_RETURN(t.id, InsertReturningId(stmt));
  return t;
}

Result<ExecutorRecord> Store::EnrolExecutor(const std::string& token_sha256,
                                            const std::string& name,
                                            const std::string& credential_sha256,
                                            const std::string& labels_json) {
  std::lock_guard<std::mutex> lock(mu_);
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  int64_t token_id = 0;
  std::string bound_name;
  {
    Stmt find(db_.get(),
              "SELECT id, executor_name FROM registration_tokens WHERE secret_sha256 = ?");
    find.Bind(1, token_sha256);
    Status st;
    if (!find.Step(&st)) {
      return st.ok() ? Status::NotFound("Unknown registration token") : st;
    }
    token_id = find.Int(0);
    bound_name = find.Text(1);
  }
  if (!bound_name.empty() && bound_name != name) {
    return Status::InvalidArgument("The registration token was already used by executor '" +
                                   bound_name + "'; an admin creates one per executor");
  }
  std::string now = NowUtc();
  bool exists = false;
  {
    Stmt find(db_.get(), "SELECT id FROM executors WHERE name = ?");
    find.Bind(1, name);
    Status st;
    exists = find.Step(&st);
    if (!st.ok()) {
      return st;
    }
  }
  if (exists && bound_name.empty()) {
    return Status::Conflict("An executor named '" + name +
                            "' is already registered with another registration token");
  }
  Stmt upsert(db_.get(),
              exists ? "UPDATE executors SET credential_sha256 = ?, labels = ? WHERE name = ?"
                     : "INSERT INTO executors (credential_sha256, labels, name, registered_at) "
                       "VALUES (?, ?, ?, ?)");
  upsert.Bind(1, credential_sha256).Bind(2, labels_json).Bind(3, name);
  if (!exists) {
    upsert.Bind(4, now);
  }
  AQ_RETURN_IF_ERROR(RunStmt(upsert));
  Stmt use(db_.get(),
           "UPDATE registration_tokens SET executor_name = ?, used_at = CASE WHEN used_at = '' "
           "THEN ? ELSE used_at END WHERE id = ?");
  use.Bind(1, name).Bind(2, now).Bind(3, token_id);
  AQ_RETURN_IF_ERROR(RunStmt(use));
  AQ_RETURN_IF_ERROR(tx.Commit());
  return FindExecutorLocked("name", name);
}

Result<std::optional<ExecutorRecord>> Store::FindExecutorByCredential(
    const std::string& credential_sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<ExecutorRecord> r = FindExecutorLocked("credential_sha256", credential_sha256);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      return std::optional<ExecutorRecord>();
    }
    return r.status();
  }
  return std::optional<ExecutorRecord>(*r);
}

Result<ExecutorRecord> Store::FindExecutorLocked(const std::string& column,
                                                 const std::string& value) {
  Stmt stmt(db_.get(),
            "SELECT id, name, labels, registered_at FROM executors WHERE " + column + " = ?");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, value);
  Status status;
  if (!stmt.Step(&status)) {
    AQ_RETURN_IF_ERROR(status);
    return Status::NotFound("No such executor");
  }
  ExecutorRecord e;
  e.id = stmt.Int(0);
  e.name = stmt.Text(1);
  e.labels_json = stmt.Text(2);
  e.registered_at = stmt.Text(3);
  return e;
}

Result<std::vector<ExecutorRecord>> Store::ListExecutors() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "SELECT id, name, labels, registered_at FROM executors ORDER BY name");
  AQ_RETURN_IF_ERROR(stmt.status());
  std::vector<ExecutorRecord> out;
  Status status;
  while (stmt.Step(&status)) {
    ExecutorRecord e;
    e.id = stmt.Int(0);
    e.name = stmt.Text(1);
    e.labels_json = stmt.Text(2);
    e.registered_at = stmt.Text(3);
    out.push_back(e);
  }
  AQ_RETURN_IF_ERROR(status);
  return out;
}

Status Store::SetExecutorLabels(const std::string& name, const std::string& labels_json) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), "UPDATE executors SET labels = ? WHERE name = ?");
  stmt.Bind(1, labels_json).Bind(2, name);
  return RunStmt(stmt);
}

Result<Run> Store::GetRun(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(), std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, id);
  Status status;
  if (!stmt.Step(&status)) {
    AQ_RETURN_IF_ERROR(status);
    return Status::NotFound("No run with id " + std::to_string(id));
  }
  return ReadRun(stmt);
}

Result<int64_t> Store::AppendEvent(int64_t run_id, const std::string& event,
                                   const std::string& data) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "INSERT INTO run_events (run_id, seq, event, data, created_at) VALUES (?, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM run_events WHERE run_id = ?), ?, ?, ?) "
            "RETURNING seq");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, run_id).Bind(2, run_id).Bind(3, event).Bind(4, data).Bind(5, NowUtc());
  Status status;
  int64_t seq = stmt.Step(&status) ? stmt.Int(0) : 0;
  AQ_RETURN_IF_ERROR(status);
  return seq;
}

Result<std::vector<RunEvent>> Store::ListEvents(int64_t run_id, int64_t after_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "SELECT seq, event, data, created_at FROM run_events WHERE run_id = ? AND seq > ? "
            "ORDER BY seq");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, run_id).Bind(2, after_seq);
  std::vector<RunEvent> out;
  Status status;
  while (stmt.Step(&status)) {
    RunEvent e;
    e.seq = stmt.Int(0);
    e.event = stmt.Text(1);
    e.data = stmt.Text(2);
    e.created_at = stmt.Text(3);
    out.push_back(e);
  }
  AQ_RETURN_IF_ERROR(status);
  return out;
}

Status Store::MarkUnfinishedRunsLost(bool keep_assigned) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "UPDATE runs SET state = 'lost', reason = 'the server stopped while the run was ' || "
            "state || '; it is not re-run automatically', updated_at = ? WHERE state = 'queued' "
            "OR (state IN ('dispatched', 'running') AND (? = 0 OR executor_name = ''))");
  stmt.Bind(1, NowUtc()).Bind(2, static_cast<int64_t>(keep_assigned ? 1 : 0));
  return RunStmt(stmt);
}

}  // namespace aqueducts::server

// The store's PostgreSQL connection through libpq (store_sql.h).

#include <cstdlib>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "server/store.h"
#include "server/store_sql.h"

namespace aqueducts::server::store_sql {
namespace {

// Type OIDs of the parameters (pg_type): every parameter is sent typed.
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// `?` -> `$1`, `$2`, ...; `?N` -> `$N`. Quoted literals and identifiers are left alone.
std::string ToDollarParams(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) {
        quote = 0;  // a doubled quote closes and reopens: same result
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') {
      ++j;
    }
    out += '$';
    out += j > i + 1 ? sql.substr(i + 1, j - i - 1) : std::to_string(++next);
    i = j - 1;
  }
  return out;
}

std::string ErrorText(const char* text) {
  std::string s = text ? text : "unknown error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return "PostgreSQL: " + s;
}

// kConflict for a unique constraint (SQLSTATE 23505), else kIoError.
Status ResultError(const PGresult* res, PGconn* conn) {
  std::string msg = ErrorText(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr && std::string(state) == "23505") {
    return Status::Conflict(msg);
  }
  return Status::IoError(msg);
}

void IgnoreNotice(void*, const char*) {}

class PgDb;

class PgStmt : public StmtImpl {
 public:
  PgStmt(PgDb* db, PGconn* conn, const std::string& sql)
      : db_(db), conn_(conn), sql_(ToDollarParams(sql)) {}
  ~PgStmt() override { PQclear(result_); }

  Status status() const override { return bind_error_; }
  void Bind(int i, const std::string& v) override {
    if (v.find('\0') != std::string::npos && bind_error_.ok()) {
      // PostgreSQL text cannot hold NUL: refusing beats storing a silently cut value.
      bind_error_ = Status::InvalidArgument(
          "PostgreSQL cannot store text containing a NUL character (\\u0000)");
    }
    Set(i, v, kTextOid);
  }
  void Bind(int i, int64_t v) override { Set(i, std::to_string(v), kInt8Oid); }
  bool Step(Status* status) override;
  std::string Text(int col) override {
    if (result_ == nullptr || PQgetisnull(result_, row_, col)) {
      return "";
    }
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }
  int64_t Int(int col) override {
    if (result_ == nullptr || PQgetisnull(result_, row_, col)) {
      return 0;
    }
    return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10);
  }

 private:
  void Set(int i, std::string v, Oid type) {
    size_t index = static_cast<size_t>(i - 1);
    if (values_.size() <= index) {
      values_.resize(index + 1);
      types_.resize(index + 1, kTextOid);
    }
    values_[index] = std::move(v);
    types_[index] = type;
  }

  PgDb* db_;
  PGconn* conn_;
  std::string sql_;
  std::vector<std::string> values_;
  std::vector<Oid> types_;
  Status bind_error_;
  PGresult* result_ = nullptr;
  bool executed_ = false;
  int row_ = -1;
};

class PgDb : public Db {
 public:
  explicit PgDb(PGconn* conn) : conn_(conn) {}
  ~PgDb() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::kPostgres; }
  Status Exec(const std::string& sql) override {
    bool ends = sql == "COMMIT" || sql == "ROLLBACK";
    Reconnect();
    PGresult* res = PQexec(conn_, sql.c_str());
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    Status out =
        st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::OK() : ResultError(res, conn_);
    PQclear(res);
    if (ends) {
      in_transaction_ = false;
    }
    return out;
  }
  Status Begin() override {
    Status s = Exec("BEGIN");
    in_transaction_ = s.ok();
    return s;
  }
  int64_t Changes() override { return changes_; }
  std::unique_ptr<StmtImpl> Prepare(const std::string& sql) override {
    Reconnect();
    return std::make_unique<PgStmt>(this, conn_, sql);
  }
  void set_changes(int64_t n) { changes_ = n; }

 private:
  // A connection lost outside a transaction (the database restarted) is opened again; inside
  // one, every statement fails until the transaction is rolled back, so no statement of it
  // runs on its own.
  void Reconnect() {
    if (!in_transaction_ && PQstatus(conn_) != CONNECTION_OK) {
      PQreset(conn_);
    }
  }

  PGconn* conn_;
  int64_t changes_ = 0;
  bool in_transaction_ = false;
};

bool PgStmt::Step(Status* status) {
  if (!bind_error_.ok()) {
    *status = bind_error_;
    return false;
  }
  if (!executed_) {
    executed_ = true;
    std::vector<const char*> values;
    values.reserve(values_.size());
    for (const auto& v : values_) {
      values.push_back(v.c_str());
    }
    result_ = PQexecParams(conn_, sql_.c_str(), static_cast<int>(values.size()), types_.data(),
                           values.data(), nullptr, nullptr, 0);
    ExecStatusType st = result_ ? PQresultStatus(result_) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      *status = ResultError(result_, conn_);
      return false;
    }
    const char* changed = PQcmdTuples(result_);
    db_->set_changes(changed && *changed ? std::strtoll(changed, nullptr, 10) : 0);
  }
  if (result_ == nullptr || row_ + 1 >= PQntuples(result_)) {
    return false;
  }
  ++row_;
  return true;
}

}  // namespace

Result<std::unique_ptr<Db>> OpenPostgres(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (conn == nullptr) {
    return Status::IoError("Cannot connect to PostgreSQL at " + RedactDatabaseUrl(url) +
                           ": out of memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = ErrorText(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::IoError("Cannot connect to the database --database " + RedactDatabaseUrl(url) +
                           ": " + msg);
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  if (PQsetClientEncoding(conn, "UTF8") != 0) {
    std::string msg = ErrorText(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::IoError("Cannot use UTF-8 with the database " + RedactDatabaseUrl(url) + ": " +
                           msg);
  }
  return std::unique_ptr<Db>(new PgDb(conn));
}

}  // namespace aqueducts::server::store_sql

namespace aqueducts::server {

std::string RedactDatabaseUrl(const std::string& url) {
  std::string out = url;
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    size_t at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at != std::string::npos && at > start) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "***");
      }
    }
  }
  // password=... as a query parameter or a key=value setting
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    size_t value = p + 9;
    size_t end = out.find_first_of("& ", value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

}  // namespace aqueducts::server

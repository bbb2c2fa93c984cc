#include "engine/session.h"

#include <map>
#include <mutex>

#include <duckdb.hpp>
#include <duckdb/common/progress_bar/progress_bar.hpp>
#include <duckdb/main/client_context.hpp>
#include <duckdb/storage/buffer_manager.hpp>

#include "engine/custom_functions.h"
#include "engine/duckdb_error.h"
#include "engine/object_file_system.h"
#include "engine/row_tap.h"
#include "engine/value_text.h"

namespace aqueducts::engine {

struct Connection::Impl {
  std::unique_ptr<duckdb::Connection> conn;
};

struct Session::Impl {
  std::unique_ptr<duckdb::DuckDB> owned;  // null when borrowed (Wrap)
  duckdb::DuckDB* db = nullptr;
  std::unique_ptr<Connection> main;
  std::mutex stores_mu;                            // sources register from several threads
  std::shared_ptr<storage::StoreRegistry> stores;  // created on the first object-store location
};

namespace {

// Progress tracking is a per-connection (client) setting, so every connection turns it on:
// GetQueryProgress() reads -1 without it, and the bar itself must never print to stdout.
Status ConfigureConnection(duckdb::Connection& conn) {
  auto result = conn.Query("SET enable_progress_bar = true; SET enable_progress_bar_print = false");
  return CheckResult(*result);
}

Result<std::unique_ptr<Connection>> MakeConnection(duckdb::DuckDB& db) {
  try {
    auto impl = std::make_unique<Connection::Impl>();
    impl->conn = std::make_unique<duckdb::Connection>(db);
    AQ_RETURN_IF_ERROR(ConfigureConnection(*impl->conn));
    return std::make_unique<Connection>(std::move(impl));
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

Result<std::unique_ptr<Session>> Finish(std::unique_ptr<Session::Impl> impl) {
  AQ_ASSIGN_OR_RETURN(impl->main, MakeConnection(*impl->db));
  AQ_RETURN_IF_ERROR(RegisterCustomFunctions(impl->main->duck()));
  // The row tap (row_tap.h) is a C++ table function in the system catalog.
  AQ_RETURN_IF_ERROR(RegisterSystemFunctionsOnce(impl->main->duck(), "__aq_row_tap", RegisterRowTap)
                         .WithPrefix("Failed to register the row counter: "));
  return std::make_unique<Session>(std::move(impl));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

duckdb::Connection& Connection::duck() {
  return *impl_->conn;
}

Status Connection::Execute(const std::string& sql) {
  try {
    auto result = impl_->conn->Query(sql);
    return CheckResult(*result);
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

Result<Database::Rows> Connection::Query(const std::string& sql) {
  try {
    auto result = impl_->conn->Query(sql);
    AQ_RETURN_IF_ERROR(CheckResult(*result));
    // A multi-statement string yields a chain; the last result is the interesting one.
    duckdb::MaterializedQueryResult* last = result.get();
    while (last->next) {
      last = static_cast<duckdb::MaterializedQueryResult*>(last->next.get());
    }
    Database::Rows rows;
    rows.columns = last->names;
    for (const auto& type : last->types) {
      rows.types.push_back(type.ToString());
    }
    for (auto& chunk : last->Collection().Chunks()) {
      for (duckdb::idx_t r = 0; r < chunk.size(); r++) {
        std::vector<std::optional<std::string>> row;
        row.reserve(chunk.ColumnCount());
        for (duckdb::idx_t c = 0; c < chunk.ColumnCount(); c++) {
          duckdb::Value value = chunk.GetValue(c, r);
          if (value.IsNull()) {
            row.emplace_back(std::nullopt);
          } else {
            row.emplace_back(ValueText(value));
          }
        }
        rows.rows.push_back(std::move(row));
      }
    }
    return rows;
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

void Connection::Interrupt() {
  impl_->conn->Interrupt();
}

QueryProgress Connection::Progress() {
  QueryProgress progress;
  try {
    duckdb::QueryProgress p = impl_->conn->context->GetQueryProgress();
    progress.percent = p.GetPercentage();
    progress.rows_processed = p.GetRowsProcesseed();
    progress.total_rows = p.GetTotalRowsToProcess();
  } catch (const std::exception&) {
    // Progress is best effort: an idle or closing connection simply reports "unknown".
  }
  return progress;
}

// ---------------------------------------------------------------------------------------------
// Session

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Open(const Database::Options& options) {
  try {
    duckdb::DBConfig config;
    // Extensions the .so does not contain would be downloaded: never, the machines are offline.
    config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
    if (options.memory_limit_bytes) {
      config.SetOptionByName("memory_limit",
                             duckdb::Value(std::to_string(*options.memory_limit_bytes) + "B"));
    }
    if (options.threads && *options.threads > 0) {  // 0: DuckDB's default (all cores)
      config.SetOptionByName("threads", duckdb::Value::BIGINT(*options.threads));
    }
    if (!options.temp_directory.empty()) {
      config.SetOptionByName("temp_directory", duckdb::Value(options.temp_directory));
    }
    auto impl = std::make_unique<Impl>();
    impl->owned = std::make_unique<duckdb::DuckDB>(nullptr, &config);
    impl->db = impl->owned.get();
    return Finish(std::move(impl));
  } catch (const std::exception& e) {
    return FromException(e).WithPrefix("Failed to open the DuckDB database: ");
  }
}

Result<std::unique_ptr<Session>> Session::Wrap(duckdb::DuckDB& db) {
  auto impl = std::make_unique<Impl>();
  impl->db = &db;
  return Finish(std::move(impl));
}

Result<std::unique_ptr<Connection>> Session::Connect() {
  return MakeConnection(*impl_->db);
}

Connection& Session::main() {
  return *impl_->main;
}

duckdb::DuckDB& Session::duck() {
  return *impl_->db;
}

namespace {

// One store registry per DuckDB database, shared by every Session on it (a database the
// embedder wraps in several sessions has one object-store file system).
std::shared_ptr<storage::StoreRegistry> RegistryOf(duckdb::DuckDB& db) {
  static std::mutex mu;
  static std::map<duckdb::DatabaseInstance*, std::weak_ptr<storage::StoreRegistry>> registries;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = registries[db.instance.get()];
  auto registry = slot.lock();
  if (registry == nullptr) {
    registry = std::make_shared<storage::StoreRegistry>();
    slot = registry;
  }
  return registry;
}

}  // namespace

Status Session::RegisterObjectStore(const std::string& url,
                                    const std::map<std::string, std::string>& config) {
  std::shared_ptr<storage::StoreRegistry> stores;
  {
    std::lock_guard<std::mutex> lock(impl_->stores_mu);
    if (impl_->stores == nullptr) {
      auto registry = RegistryOf(*impl_->db);
      AQ_RETURN_IF_ERROR(InstallObjectFileSystem(*impl_->db, registry));
      impl_->stores = std::move(registry);
    }
    stores = impl_->stores;
  }
  return stores->Register(url, config);
}

int64_t Session::UploadedBytes() {
  std::lock_guard<std::mutex> lock(impl_->stores_mu);
  return impl_->stores == nullptr ? 0 : impl_->stores->uploaded();
}

int64_t Session::TempFileBytes() {
  try {
    auto& buffer_manager = duckdb::BufferManager::GetBufferManager(*impl_->db->instance);
    return static_cast<int64_t>(buffer_manager.GetUsedSwap());
  } catch (const std::exception&) {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Quoting

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

std::string QuoteLiteral(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  return out + "'";
}

}  // namespace aqueducts::engine

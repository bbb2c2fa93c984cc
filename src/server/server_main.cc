// aqueducts-server: `init` creates the store and the first admin; `serve` runs the HTTP API
// until SIGTERM/SIGINT. Exit codes: 0 success, 1 runtime error, 2 usage error.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <pthread.h>
#include <signal.h>

#include "server/api.h"
#include "server/crypto.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/retention.h"
#include "server/runs.h"
#include "server/schedules.h"
#include "server/store.h"

namespace {

using namespace aqueducts::server;

int Fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

// Where the store lives: a SQLite file in `data_dir`, or the PostgreSQL database `database`.
struct StoreLocation {
  std::string data_dir;
  std::string database;  ///< a postgres:// or postgresql:// URI; empty: SQLite in data_dir
};

aqueducts::Result<std::unique_ptr<Store>> OpenStore(const StoreLocation& where, bool create) {
  if (!where.database.empty()) {
    return Store::OpenPostgres(where.database);
  }
  return Store::Open(where.data_dir, create);
}

// What the logs may say about the store (never a password).
std::string DescribeStore(const StoreLocation& where) {
  return where.database.empty() ? Store::DatabasePath(where.data_dir)
                                : RedactDatabaseUrl(where.database);
}

// The first admin's password: $AQ_ADMIN_PASSWORD, else the first line of stdin.
int Init(const StoreLocation& where, const std::string& admin) {
  std::string password;
  if (const char* env = std::getenv("AQ_ADMIN_PASSWORD")) {
    password = env;
  } else {
    std::fprintf(stderr, "Password for '%s' (one line on stdin): ", admin.c_str());
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') {
      password.pop_back();
    }
  }
  if (password.size() < 8) {
    return Fail(
        "The admin password needs at least 8 characters: set AQ_ADMIN_PASSWORD or "
        "write it on stdin (there is no default password)");
  }
  if (admin.empty() || admin.find(':') != std::string::npos) {
    return Fail("--admin must be a non-empty name without ':'");
  }
  auto store = OpenStore(where, /*create=*/true);
  if (!store.ok()) {
    return Fail(store.status().message());
  }
  auto users = (*store)->CountUsers();
  if (!users.ok()) {
    return Fail(users.status().message());
  }
  if (*users > 0) {
    return Fail("The store in '" + DescribeStore(where) +
                "' is already initialised: it has users (add more through POST /api/v1/users)");
  }
  auto hash = HashPassword(password);
  if (!hash.ok()) {
    return Fail(hash.status().message());
  }
  auto user = (*store)->CreateUser(admin, *hash, Role::kAdmin);
  if (!user.ok()) {
    return Fail(user.status().message());
  }
  Log log;
  log.Info("initialised", {{"data_dir", where.data_dir},
                           {"store", (*store)->Backend()},
                           {"database", DescribeStore(where)},
                           {"schema_version", std::to_string((*store)->schema_version())},
                           {"admin", admin}});
  return 0;
}

int Serve(const StoreLocation& where, const ApiOptions& options,
          const RunManager::Options& run_options, int64_t event_retention_days) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Log log;
  auto store = OpenStore(where, /*create=*/false);
  if (!store.ok()) {
    log.Error(store.status().message());
    return Fail(store.status().message());
  }
  aqueducts::Status lost = (*store)->MarkUnfinishedRunsLost(/*keep_assigned=*/true);
  if (!lost.ok()) {
    return Fail(lost.message());
  }
  log.Info("store", {{"store", (*store)->Backend()},
                     {"database", DescribeStore(where)},
                     {"schema_version", std::to_string((*store)->schema_version())}});
  Metrics metrics;
  RunManager::Options with_metrics = run_options;
  with_metrics.metrics = &metrics;
  RunManager runs(store->get(), &log, with_metrics);
  Scheduler schedules(store->get(), &runs, &log, Scheduler::Options{});
  EventRetention::Options retention_options;
  retention_options.days = event_retention_days;
  EventRetention retention(store->get(), &log, retention_options);
  auto server = ApiServer::Make(options, store->get(), &runs, &log, &schedules, &metrics);
  if (!server.ok()) {
    return Fail(server.status().message());
  }
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == 0) {
      return;
    }
    log.Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    schedules.Shutdown();
    retention.Shutdown();
    runs.Shutdown();  // ends the work streams and event streams, which hold server threads
    (*server)->Stop();
  });
  aqueducts::Status status = (*server)->Listen();
  if (!status.ok()) {
    log.Error(status.message());
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    runs.Shutdown();
    return Fail(status.message());
  }
  signal_thread.join();
  runs.Shutdown();
  log.Info("stopped");
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"aqueducts-server: stores Aqueducts pipelines and serves them over an HTTP API"};
  app.set_version_flag("--version", AQ_VERSION);
  app.require_subcommand(1);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  StoreLocation where;
  std::string admin;
  // --data-dir (SQLite) or --database (PostgreSQL), on init and serve alike.
  auto add_store_options = [&where](CLI::App* cmd, const char* data_dir_help) {
    auto* dir =
        cmd->add_option("--data-dir", where.data_dir, data_dir_help)->envname("AQUEDUCTS_DATA_DIR");
    auto* db = cmd->add_option("--database", where.database,
                               "PostgreSQL store instead of SQLite: a libpq URI, "
                               "postgresql://user:password@host:5432/dbname")
                   ->envname("AQUEDUCTS_DATABASE_URL");
    dir->excludes(db);
    db->excludes(dir);
  };
  CLI::App* init = app.add_subcommand(
      "init",
      "Create the store (SQLite, WAL) and its first admin; the password comes from "
      "$AQ_ADMIN_PASSWORD or stdin");
  add_store_options(init, "Directory of the SQLite store (created)");
  init->add_option("--admin", admin, "Name of the first admin user")->required();

  ApiOptions options;
  double max_body_kb = static_cast<double>(options.max_body_bytes) / 1024;
  CLI::App* serve = app.add_subcommand("serve", "Serve the HTTP API");
  add_store_options(serve, "Directory of the SQLite store (made by init)");
  serve->add_option("--host", options.host, "Address to bind")->capture_default_str();
  serve->add_option("--port", options.port, "Port to bind (0: any free port)")
      ->capture_default_str();
  serve->add_option("--max-body-kb", max_body_kb, "Largest accepted request body in KiB")
      ->check(CLI::Range(1.0, 1024.0 * 1024))
      ->capture_default_str();
  serve
      ->add_option("--read-timeout", options.read_timeout_s,
                   "Seconds a client may take to send a request")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve
      ->add_option("--max-streams", options.max_streams,
                   "Event and work streams (SSE) open at once, on threads of their own; one more "
                   "gets 503")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  int heartbeat_ms = 10000;
  serve
      ->add_option("--heartbeat-interval-ms", heartbeat_ms,
                   "How often registered executors heartbeat; one that misses 3 is offline")
      ->check(CLI::Range(50, 600000))
      ->capture_default_str();
  serve
      ->add_option("--sign-in-max-failures", options.sign_in_max_failures,
                   "Failed sign-ins of one user in a row (4x that from one client address) before "
                   "sign-in is refused with 429 for --sign-in-lockout-seconds; 0: no limit")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  serve
      ->add_option("--sign-in-lockout-seconds", options.sign_in_lockout_s,
                   "How long sign-in stays refused after too many failures")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  auto* tls_cert = serve
                       ->add_option("--tls-cert", options.tls_cert,
                                    "PEM certificate (chain) to serve HTTPS with (needs --tls-key)")
                       ->envname("AQUEDUCTS_TLS_CERT");
  auto* tls_key = serve
                      ->add_option("--tls-key", options.tls_key,
                                   "Unencrypted PEM private key of --tls-cert (needs --tls-cert)")
                      ->envname("AQUEDUCTS_TLS_KEY");
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  int64_t event_retention_days = 0;
  serve
      ->add_option("--event-retention-days", event_retention_days,
                   "Delete the events of runs that finished more than this many days ago (swept "
                   "at start and hourly; 0: keep them forever)")
      ->check(CLI::Range(0, 36500))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (where.data_dir.empty() && where.database.empty()) {
    std::fprintf(stderr,
                 "Error: the store is needed: --data-dir DIR (SQLite) or --database "
                 "postgresql://... (PostgreSQL)\nRun with --help for more information.\n");
    return 2;
  }
  if (!where.database.empty() && where.database.rfind("postgresql://", 0) != 0 &&
      where.database.rfind("postgres://", 0) != 0) {
    std::fprintf(stderr,
                 "Error: --database must be a PostgreSQL URI starting with postgresql:// or "
                 "postgres:// (got '%s')\n",
                 RedactDatabaseUrl(where.database).c_str());
    return 2;
  }
  if (init->parsed()) {
    return Init(where, admin);
  }
  options.max_body_bytes = static_cast<size_t>(max_body_kb * 1024);
  RunManager::Options run_options;
  run_options.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
  return Serve(where, options, run_options, event_retention_days);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Fatal: %s\n", e.what());
    return 1;
  }
}

#pragma once

// Test support: a real PostgreSQL 15 for the server's PostgreSQL store, started by the tests on
// 127.0.0.1 with the same throwaway server the ODBC tests use (odbc/pg_test_server.h: initdb +
// pg_ctl in a temporary directory). One server per test process, started on first use and
// stopped at exit; each caller gets a fresh empty database in it. Header-only: only *_test.cc
// files include it.

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "odbc/pg_test_server.h"

namespace aqueducts::server::testing {

/// A new empty database on the shared test server, as a libpq URI
/// ("postgresql://postgres:postgres@127.0.0.1:PORT/aq_N"); an error when PostgreSQL cannot start.
inline Result<std::string> FreshPostgresDatabase() {
  static std::mutex mu;
  static odbc::testing::PgTestServer* server = nullptr;
  static Status start_error;
  static std::atomic<int> next{0};
  std::lock_guard<std::mutex> lock(mu);
  if (server == nullptr && start_error.ok()) {
    auto started = odbc::testing::PgTestServer::Start("", "");
    if (!started.ok()) {
      start_error = started.status();
    } else {
      server = std::move(started).value().release();
      std::atexit([] { delete server; });
    }
  }
  AQ_RETURN_IF_ERROR(start_error);
  std::string name = "aq_" + std::to_string(++next);
  AQ_RETURN_IF_ERROR(server->Psql("CREATE DATABASE " + name + ";").status());
  return "postgresql://postgres:postgres@127.0.0.1:" + std::to_string(server->port()) + "/" + name;
}

}  // namespace aqueducts::server::testing

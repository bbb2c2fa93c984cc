#pragma once

// Test-only: a gtest fixture sharing one PostgreSQL server (pg_test_server.h) per test process.

#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "engine/session.h"
#include "odbc/pg_copy_source.h"
#include "odbc/pg_test_server.h"
#include "testing.h"

namespace aqueducts::odbc::testing {

class OdbcPgTest : public ::testing::Test {
 protected:
  /// The client process's time zone in every ODBC test, unlike the server's
  /// (PgTestServer::kServerTimeZone) and UTC.
  static constexpr const char* kClientTimeZone = "Asia/Tokyo";

  static void SetUpTestSuite() {
    setenv("TZ", kClientTimeZone, 1);
    tzset();
    const std::string fixtures = aqueducts::testing::FixturesDir() + "/aqueducts-examples";
    auto server = PgTestServer::Start(fixtures + "/odbc/init.sql", fixtures + "/examples");
    if (!server.ok()) {
      start_error_ = new std::string(server.status().ToString());
      return;
    }
    server_ = std::move(server).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "PostgreSQL test server did not start: "
                                << (start_error_ ? *start_error_ : "");
    auto session = engine::Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }

  /// psql output of `sql` without the trailing newline ("" on error, with a test failure).
  std::string Pg(const std::string& sql) {
    auto out = server_->Psql(sql);
    EXPECT_TRUE(out.ok()) << sql << ": " << out.status().ToString();
    std::string text = out.ok() ? *out : "";
    while (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    return text;
  }

  /// First value of a DuckDB query ("<null>" for NULL).
  std::string Duck(const std::string& sql) {
    auto rows = session_->main().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok() || rows->rows.empty()) {
      return "<no rows>";
    }
    return rows->rows[0][0] ? *rows->rows[0][0] : "<null>";
  }

  std::string Conn(const std::string& password = "postgres") const {
    return server_->ConnectionString(password);
  }

  static PgTestServer* server_;
  static std::string* start_error_;
  std::unique_ptr<engine::Session> session_;
};

/// A test that reads PostgreSQL runs twice: `Copy` with the plain connection string (the COPY
/// read path, pg_copy_source.h, wherever it applies) and `Odbc` with the COPY path turned off
/// (`AqueductsPgCopy=0`), so both paths must give what the test expects.
class OdbcReadPathTest : public OdbcPgTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    OdbcPgTest::SetUp();
    // Both variants share the suite's server: drop the tables an earlier test created, keeping
    // those of the fixture (the tables present when the suite's server started).
    if (tables_of_ != server_) {
      tables_of_ = server_;
      fixture_tables_ =
          Pg("SELECT string_agg(tablename, ',') FROM pg_tables WHERE "
             "schemaname = 'public'");
    }
    const std::string created =
        Pg("SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = "
           "'public' AND tablename <> ALL (string_to_array('" +
           fixture_tables_ + "', ','))");
    if (!created.empty()) {
      Pg("DROP TABLE " + created + " CASCADE");
    }
    copy_loads_ = PgCopyLoads();
  }
  void TearDown() override {
    if (!GetParam()) {
      EXPECT_EQ(PgCopyLoads(), copy_loads_) << "AqueductsPgCopy=0 did not keep the ODBC path";
    }
  }
  bool copy() const { return GetParam(); }
  std::string Conn(const std::string& password = "postgres") const {
    return OdbcPgTest::Conn(password) + (GetParam() ? "" : "AqueductsPgCopy=0;");
  }
  /// Loads completed by the COPY path since the test started.
  int64_t CopyLoads() const { return PgCopyLoads() - copy_loads_; }

 private:
  int64_t copy_loads_ = 0;
  static inline const PgTestServer* tables_of_ = nullptr;
  static inline std::string fixture_tables_;
};

/// Instantiate a suite of OdbcReadPathTest with its `Copy` and `Odbc` variants.
#define AQ_BOTH_READ_PATHS(suite)                                           \
  INSTANTIATE_TEST_SUITE_P(ReadPath, suite, ::testing::Values(true, false), \
                           [](const auto& path) { return path.param ? "Copy" : "Odbc"; })

inline PgTestServer* OdbcPgTest::server_ = nullptr;
inline std::string* OdbcPgTest::start_error_ = nullptr;

}  // namespace aqueducts::odbc::testing

// `aqueducts-server init` and `serve` start-up, run as the real binary.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

// The single text value of `sql` against the database file `path`.
std::string QueryOne(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out = "<error>";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      out = t ? reinterpret_cast<const char*>(t) : "<null>";
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

TEST(ServerInit, CreatesWalStoreWithMigrationsAndHashedAdmin) {
  std::filesystem::path dir = MakeTempDir("init") / "nested" / "store";
  CommandResult r = RunServerCommand({"init", "--data-dir", dir.string(), "--admin", "alice"}, "",
                                     {"AQ_ADMIN_PASSWORD=correct horse battery"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string db = (dir / "aqueducts.db").string();
  ASSERT_TRUE(std::filesystem::exists(db));
  EXPECT_EQ(QueryOne(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryOne(db, "SELECT max(version) FROM schema_version"), "4");
  EXPECT_EQ(QueryOne(db, "SELECT role FROM users WHERE name = 'alice'"), "admin");
  std::string hash = QueryOne(db, "SELECT password_hash FROM users WHERE name = 'alice'");
  EXPECT_EQ(hash.rfind("pbkdf2-sha256$210000$", 0), 0u) << hash;
  EXPECT_EQ(hash.find("correct horse"), std::string::npos);
  // A second user hashing the same password gets another salt, so another hash.
  std::filesystem::path dir2 = MakeTempDir("init2") / "store";
  ASSERT_EQ(RunServerCommand({"init", "--data-dir", dir2.string(), "--admin", "alice"}, "",
                             {"AQ_ADMIN_PASSWORD=correct horse battery"})
                .exit_code,
            0);
  EXPECT_NE(QueryOne((dir2 / "aqueducts.db").string(), "SELECT password_hash FROM users"), hash);
  std::filesystem::remove_all(dir.parent_path().parent_path());
  std::filesystem::remove_all(dir2.parent_path());
}

TEST(ServerInit, ReadsThePasswordFromStdinAndTheAdminCanSignIn) {
  std::filesystem::path dir = MakeTempDir("stdin") / "store";
  CommandResult r =
      RunServerCommand({"init", "--data-dir", dir.string(), "--admin", "bob"}, "from-stdin-pw\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto server = ServerProcess::Start(dir);
  ASSERT_NE(server, nullptr);
  auto client = server->Client();
  auto ok = client->Post("/api/v1/tokens",
                         {httplib::make_basic_authentication_header("bob", "from-stdin-pw")}, "",
                         "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  std::filesystem::remove_all(dir.parent_path());
}

TEST(ServerInit, RefusesAMissingOrShortPasswordAndASecondInit) {
  std::filesystem::path dir = MakeTempDir("refuse") / "store";
  CommandResult none = RunServerCommand({"init", "--data-dir", dir.string(), "--admin", "a"}, "");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no default password"), std::string::npos) << none.err;
  CommandResult shortpw = RunServerCommand({"init", "--data-dir", dir.string(), "--admin", "a"}, "",
                                           {"AQ_ADMIN_PASSWORD=short"});
  EXPECT_EQ(shortpw.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "aqueducts.db"));

  ASSERT_EQ(RunServerCommand({"init", "--data-dir", dir.string(), "--admin", "a"}, "",
                             {"AQ_ADMIN_PASSWORD=long-enough-1"})
                .exit_code,
            0);
  CommandResult again = RunServerCommand({"init", "--data-dir", dir.string(), "--admin", "b"}, "",
                                         {"AQ_ADMIN_PASSWORD=long-enough-2"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already initialised"), std::string::npos) << again.err;
  std::filesystem::remove_all(dir.parent_path());
}

TEST(ServerInit, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunServerCommand({"init", "--admin", "a"}).exit_code, 2);
  EXPECT_EQ(RunServerCommand({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunServerCommand({}).exit_code, 2);
}

TEST(ServerServe, RefusesADataDirectoryWithoutInit) {
  std::filesystem::path dir = MakeTempDir("noinit");
  CommandResult r = RunServerCommand({"serve", "--data-dir", dir.string(), "--port", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("aqueducts-server init"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "aqueducts.db"));
  std::filesystem::remove_all(dir);
}

TEST(ServerServe, HealthzAndGracefulSigterm) {
  std::filesystem::path dir = InitDataDir();
  ASSERT_FALSE(dir.empty());
  auto server = ServerProcess::Start(dir);
  ASSERT_NE(server, nullptr);
  auto res = server->Client()->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  auto body = nlohmann::json::parse(res->body);
  EXPECT_EQ(body["status"], "ok");
  kill(server->pid(), SIGTERM);
  int status = server->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::filesystem::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace aqueducts::server::testing

// The built-in migrations upgrade a store of schema version 3 (before schedules) to version 4
// with its data intact, when the real server binary starts on it.

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include "server/store.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;

// The result rows of `sql` as text, one line per row, columns separated by '|'.
std::string Query(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::string out;
  char* err = nullptr;
  int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* arg, int n, char** values, char**) {
        auto* text = static_cast<std::string*>(arg);
        for (int i = 0; i < n; ++i) {
          *text += std::string(values[i] ? values[i] : "NULL") + (i + 1 < n ? "|" : "\n");
        }
        return 0;
      },
      &out, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

// The tables of schema version 3 (migrations 1 to 3), every row of each.
const std::vector<std::string> kVersion3Tables = {
    "users", "api_tokens", "pipelines",           "pipeline_versions",
    "runs",  "run_events", "registration_tokens", "executors"};

std::string DumpVersion3Tables(const std::filesystem::path& db) {
  std::string out;
  for (const auto& t : kVersion3Tables) {
    out += "== " + t + "\n" + Query(db, "SELECT * FROM " + t + " ORDER BY rowid");
  }
  return out;
}

TEST(StoreMigration, AVersion3StoreIsUpgradedToVersion4WithItsDataIntact) {
  std::filesystem::path dir = InitDataDir();
  ASSERT_FALSE(dir.empty());
  std::filesystem::path db = Store::DatabasePath(dir.string());
  std::string admin;
  int64_t run_id = 0;
  const std::string text =
      "# kept verbatim\nversion: v2\nsources: []\nstages:\n  - - name: s\n"
      "      query: SELECT '${word}' AS w\n";
  // Data of every version-3 kind, written by the real server: users, tokens, a pipeline with two
  // versions, a finished run with its events, a registration token bound to an executor.
  {
    auto server = ServerProcess::Start(dir);
    ASSERT_NE(server, nullptr);
    auto client = server->Client();
    auto token = client->Post("/api/v1/tokens",
                              {httplib::make_basic_authentication_header("root", kAdminPassword)},
                              R"({"name":"kept"})", "application/json");
    ASSERT_TRUE(token && token->status == 201);
    admin = json::parse(token->body)["token"];
    auto user = client->Post("/api/v1/users", Bearer(admin),
                             R"({"name":"otto","password":"otto-password","role":"operator"})",
                             "application/json");
    ASSERT_TRUE(user && user->status == 201);
    auto created = client->Post("/api/v1/pipelines", Bearer(admin),
                                json{{"name", "p"}, {"format", "yaml"}, {"text", text}}.dump(),
                                "application/json");
    ASSERT_TRUE(created && created->status == 201);
    auto updated = client->Put("/api/v1/pipelines/1", Bearer(admin),
                               json{{"text", text + "# v2\n"}}.dump(), "application/json");
    ASSERT_TRUE(updated && updated->status == 200);
    auto run =
        client->Post("/api/v1/pipelines/1/runs", Bearer(admin),
                     R"({"parameters":{"word":"héllo"},"label":"region=eu"})", "application/json");
    ASSERT_TRUE(run && run->status == 201);
    run_id = json::parse(run->body)["id"];
    auto cancelled = client->Post("/api/v1/runs/" + std::to_string(run_id) + "/cancel",
                                  Bearer(admin), "", "application/json");
    ASSERT_TRUE(cancelled && cancelled->status == 200);
    auto reg = client->Post("/api/v1/executors/registration-tokens", Bearer(admin), "",
                            "application/json");
    ASSERT_TRUE(reg && reg->status == 201);
    auto enrolled = client->Post("/api/v1/executors/register",
                                 Bearer(json::parse(reg->body)["token"].get<std::string>()),
                                 R"({"name":"eu-1","labels":{"region":"eu"}})", "application/json");
    ASSERT_TRUE(enrolled && enrolled->status == 201);
    kill(server->pid(), SIGTERM);
    ASSERT_NE(server->Wait(std::chrono::seconds(10)), -1);
  }
  ASSERT_EQ(Query(db, "SELECT max(version) FROM schema_version"), "4\n");
  // Back to schema version 3: migration 4 only added the two schedule tables (and an index of
  // one), so without them and with version 3 recorded the file is what a version-3 server left.
  Query(db,
        "DROP TABLE schedule_fires; DROP TABLE schedules; DELETE FROM schema_version; "
        "INSERT INTO schema_version (version) VALUES (3)");
  std::string tables = Query(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1");
  std::string expected_tables;
  for (const auto& t : std::set<std::string>(kVersion3Tables.begin(), kVersion3Tables.end())) {
    expected_tables += t + "\n";
    if (t == "runs") {
      expected_tables += "schema_version\n";
    }
  }
  ASSERT_EQ(tables, expected_tables);
  std::string before = DumpVersion3Tables(db);
  ASSERT_NE(before.find("héllo"), std::string::npos);

  // The server applies migration 4 when it starts.
  auto server = ServerProcess::Start(dir);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Query(db, "SELECT max(version) FROM schema_version"), "4\n");
  EXPECT_EQ(Query(db,
                  "SELECT count(*) FROM sqlite_master WHERE name IN ('schedules', "
                  "'schedule_fires', 'schedule_fires_by_schedule')"),
            "3\n");
  EXPECT_EQ(DumpVersion3Tables(db), before) << "migration 4 changed version-3 data";

  // And the data is usable: the old token, the verbatim texts, the run's events, the executor;
  // a schedule (new in version 4) can be created.
  auto client = server->Client();
  auto me = client->Get("/api/v1/me", Bearer(admin));
  ASSERT_TRUE(me && me->status == 200);
  EXPECT_EQ(json::parse(me->body)["token_name"], "kept");
  auto v1 = client->Get("/api/v1/pipelines/1?version=1", Bearer(admin));
  ASSERT_TRUE(v1 && v1->status == 200);
  EXPECT_EQ(json::parse(v1->body)["text"], text);
  auto v2 = client->Get("/api/v1/pipelines/1", Bearer(admin));
  EXPECT_EQ(json::parse(v2->body)["text"], text + "# v2\n");
  auto events = client->Get("/api/v1/runs/" + std::to_string(run_id) + "/events", Bearer(admin));
  ASSERT_TRUE(events && events->status == 200);
  EXPECT_NE(events->body.find("\"state\":\"cancelled\""), std::string::npos) << events->body;
  auto otto = client->Post("/api/v1/tokens",
                           {httplib::make_basic_authentication_header("otto", "otto-password")}, "",
                           "application/json");
  ASSERT_TRUE(otto && otto->status == 201);
  auto executors = client->Get("/api/v1/executors", Bearer(admin));
  EXPECT_EQ(json::parse(executors->body)["executors"][0]["labels"], json({{"region", "eu"}}));
  auto schedule = client->Post(
      "/api/v1/schedules", Bearer(admin),
      R"({"pipeline_id":1,"cron":"@daily","parameters":{"word":"w"},"label":"region=eu"})",
      "application/json");
  ASSERT_TRUE(schedule);
  EXPECT_EQ(schedule->status, 201) << schedule->body;
  server.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir.parent_path(), ec);
}

}  // namespace
}  // namespace aqueducts::server::testing

// The real aqueducts-server on a PostgreSQL store (serve --database postgresql://...), with a
// real PostgreSQL started by the tests on 127.0.0.1 and a real executor registered with it.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "executor/test_harness.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The (id, event) pairs of a run's event stream, read to its end (the run's final state).
std::vector<std::pair<int64_t, std::string>> ReadEvents(httplib::Client& client,
                                                        const std::string& token, int64_t run) {
  std::string body;
  auto res = client.Get(("/api/v1/runs/" + std::to_string(run) + "/events").c_str(), Bearer(token),
                        [&](const char* data, size_t size) {
                          body.append(data, size);
                          return true;
                        });
  std::vector<std::pair<int64_t, std::string>> out;
  if (!res || res->status != 200) {
    ADD_FAILURE() << "GET events: " << (res ? res->body : httplib::to_string(res.error()));
    return out;
  }
  std::istringstream lines(body);
  int64_t id = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("id: ", 0) == 0) {
      id = std::stoll(line.substr(4));
    } else if (line.rfind("event: ", 0) == 0) {
      out.emplace_back(id, line.substr(7));
    }
  }
  return out;
}

const char kPipeline[] = R"(version: v2
sources: []
stages:
  - - name: rows
      query: SELECT range AS i, 'zeile ' || range || ' ü' AS label FROM range(6)
destination:
  type: file
  name: out
  format:
    type: csv
    options:
      has_header: true
  location: ${out}
)";

TEST(PostgresServer, InitNamesTheStoreOnceAndNeverLogsThePassword) {
  auto url = FreshPostgresDatabase();
  ASSERT_TRUE(url.ok()) << "PostgreSQL did not start: " << url.status().ToString();
  const std::string password_env = std::string("AQ_ADMIN_PASSWORD=") + kAdminPassword;
  CommandResult init =
      RunServerCommand({"init", "--database", *url, "--admin", "root"}, "", {password_env});
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  EXPECT_NE(init.out.find(R"("store":"postgresql")"), std::string::npos) << init.out;
  EXPECT_EQ(init.out.find("postgres:postgres@"), std::string::npos)
      << "the password is never logged: " << init.out;
  EXPECT_NE(init.out.find("postgres:***@"), std::string::npos) << init.out;
  CommandResult again =
      RunServerCommand({"init", "--database", *url, "--admin", "other"}, "", {password_env});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already initialised"), std::string::npos) << again.err;
}

// The shared fixture (test_harness.h) on its PostgreSQL store only: the server tests that run on
// both stores are elsewhere; this one is about what PostgreSQL keeps across a restart.
class PostgresServerRuns : public ServerFixture {};

TEST_P(PostgresServerRuns, RunsThroughAServerOnPostgresAndEverythingSurvivesARestart) {
  std::filesystem::path work = MakeTempDir("pgwork");
  std::shared_ptr<void> cleanup(nullptr, [work](void*) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  });
  StartServer({"--heartbeat-interval-ms", "1000"});
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_NE(StartExecutor("pg-1"), nullptr);
  ASSERT_FALSE(HasFailure());
  std::string server_url = ServerUrl();

  // A stored pipeline run through the API; the same file run by the CLI through the server
  // and locally: the three outputs are equal.
  auto created = client_->Post(
      "/api/v1/pipelines", Bearer(admin_),
      json{{"name", "rows"}, {"format", "yaml"}, {"text", kPipeline}}.dump(), "application/json");
  ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "");
  int64_t pipeline = json::parse(created->body)["id"];
  std::string api_out = (work / "api.csv").string();
  auto trigger = client_->Post(("/api/v1/pipelines/" + std::to_string(pipeline) + "/runs").c_str(),
                               Bearer(admin_), json{{"parameters", {{"out", api_out}}}}.dump(),
                               "application/json");
  ASSERT_TRUE(trigger && trigger->status == 201) << (trigger ? trigger->body : "");
  int64_t run = json::parse(trigger->body)["id"];
  auto events = ReadEvents(*client_, admin_, run);
  ASSERT_FALSE(events.empty());
  json run_doc = GetRun(run);
  ASSERT_EQ(run_doc["state"], "succeeded") << run_doc;
  EXPECT_EQ(run_doc["executor"], "pg-1");

  std::filesystem::path file = work / "rows.yml";
  std::ofstream(file) << kPipeline;
  std::string local_out = (work / "local.csv").string();
  CommandResult local =
      RunCommand(AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "out=" + local_out});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  std::string cli_out = (work / "cli.csv").string();
  CommandResult through =
      RunCommand(AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "out=" + cli_out, "--server",
                              server_url, "--token", admin_, "--executor", "pg-1"});
  ASSERT_EQ(through.exit_code, 0) << through.out << through.err;
  EXPECT_NE(Slurp(local_out).find("zeile 5 ü"), std::string::npos) << Slurp(local_out);
  EXPECT_EQ(Slurp(api_out), Slurp(local_out));
  EXPECT_EQ(Slurp(cli_out), Slurp(local_out));

  // Restart the server on the same database (and port: the executor keeps the server URL it was
  // started with): users, tokens, pipelines, runs and every event are still there.
  kill(server_->pid(), SIGTERM);
  int status = server_->Wait(std::chrono::seconds(15));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  StartServer({"--heartbeat-interval-ms", "1000"});
  ASSERT_FALSE(HasFatalFailure());
  auto runs = client_->Get("/api/v1/runs", Bearer(admin_));
  ASSERT_TRUE(runs && runs->status == 200) << (runs ? runs->body : "");
  json listed = json::parse(runs->body)["runs"];
  ASSERT_EQ(listed.size(), 2u) << listed;
  for (const auto& r : listed) {
    EXPECT_EQ(r["state"], "succeeded") << r;
  }
  auto replay = ReadEvents(*client_, admin_, run);
  EXPECT_EQ(replay, events) << "the stored history is replayed whole after the restart";
  for (size_t i = 0; i < replay.size(); ++i) {
    EXPECT_EQ(replay[i].first, static_cast<int64_t>(i + 1));
  }
  auto versions =
      client_->Get(("/api/v1/pipelines/" + std::to_string(pipeline)).c_str(), Bearer(admin_));
  ASSERT_TRUE(versions && versions->status == 200);
  EXPECT_EQ(json::parse(versions->body)["text"], kPipeline) << "the text is kept verbatim";

  // The executor reconnects on its own (same URL, same credential) and takes the next run.
  ASSERT_TRUE(WaitExecutor("pg-1", "idle"))
      << "pg-1 did not reconnect after the restart: " << Executor("pg-1");
  std::string after_out = (work / "after.csv").string();
  auto again_run = client_->Post(
      ("/api/v1/pipelines/" + std::to_string(pipeline) + "/runs").c_str(), Bearer(admin_),
      json{{"parameters", {{"out", after_out}}}}.dump(), "application/json");
  ASSERT_TRUE(again_run && again_run->status == 201) << (again_run ? again_run->body : "");
  int64_t run2 = json::parse(again_run->body)["id"];
  ASSERT_FALSE(ReadEvents(*client_, admin_, run2).empty());
  json run2_doc = GetRun(run2);
  EXPECT_EQ(run2_doc["state"], "succeeded") << run2_doc;
  EXPECT_EQ(run2_doc["executor"], "pg-1");
  EXPECT_EQ(Slurp(after_out), Slurp(local_out));
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresServerRuns, ::testing::Values(Backend::kPostgres),
                         BackendName);

TEST(PostgresServer, BadDatabaseFlagsAreClearErrorsAndNeverShowThePassword) {
  CommandResult unreachable =
      RunServerCommand({"serve", "--database",
                        "postgresql://postgres:s3cret-pw@127.0.0.1:1/nothing", "--port", "0"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("Cannot connect to the database --database "
                                 "postgresql://postgres:***@127.0.0.1:1/nothing"),
            std::string::npos)
      << unreachable.err;
  EXPECT_EQ(unreachable.err.find("s3cret-pw"), std::string::npos) << unreachable.err;
  EXPECT_EQ(unreachable.out.find("s3cret-pw"), std::string::npos) << unreachable.out;

  CommandResult not_postgres = RunServerCommand({"serve", "--database", "mysql://x/y"});
  EXPECT_EQ(not_postgres.exit_code, 2);
  EXPECT_NE(not_postgres.err.find("--database must be a PostgreSQL URI"), std::string::npos)
      << not_postgres.err;
  CommandResult both =
      RunServerCommand({"serve", "--data-dir", "/tmp/x", "--database", "postgresql://h/d"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
  CommandResult neither = RunServerCommand({"serve", "--port", "0"});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("--data-dir DIR (SQLite) or --database"), std::string::npos)
      << neither.err;
}

}  // namespace
}  // namespace aqueducts::server::testing

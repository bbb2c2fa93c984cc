// Runs through the real aqueducts-server on a real aqueducts-executor, both on 127.0.0.1.

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "executor/test_harness.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;

struct Event {
  int64_t id = 0;
  std::string event;
  json data;
};

// Read GET /api/v1/runs/{id}/events to its end (the run's final state).
std::vector<Event> ReadEvents(httplib::Client& client, const std::string& token, int64_t run,
                              const std::string& last_event_id = "", int* status = nullptr) {
  httplib::Headers headers = Bearer(token);
  if (!last_event_id.empty())
    headers.emplace("Last-Event-ID", last_event_id);
  std::string buffer;
  std::vector<Event> out;
  auto res = client.Get(("/api/v1/runs/" + std::to_string(run) + "/events").c_str(), headers,
                        [&](const char* data, size_t size) {
                          buffer.append(data, size);
                          size_t end;
                          while ((end = buffer.find("\n\n")) != std::string::npos) {
                            std::string frame = buffer.substr(0, end);
                            buffer.erase(0, end + 2);
                            Event e;
                            std::string payload;
                            size_t pos = 0;
                            while (pos <= frame.size()) {
                              size_t nl = frame.find('\n', pos);
                              std::string line = frame.substr(pos, nl - pos);
                              if (line.rfind("id: ", 0) == 0)
                                e.id = std::stoll(line.substr(4));
                              if (line.rfind("event: ", 0) == 0)
                                e.event = line.substr(7);
                              if (line.rfind("data: ", 0) == 0)
                                payload += line.substr(6);
                              if (nl == std::string::npos)
                                break;
                              pos = nl + 1;
                            }
                            if (!e.event.empty()) {
                              e.data = json::parse(payload, nullptr, false);
                              out.push_back(e);
                            }
                          }
                          return true;
                        });
  if (status)
    *status = res ? res->status : -1;
  return out;
}

class ServerRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    executor_ = executor::testing::ExecutorProcess::Start();
    ASSERT_NE(executor_, nullptr);
    dir_ = InitDataDir();
    ASSERT_FALSE(dir_.empty());
    server_ = ServerProcess::Start(
        dir_, {"--executor-url", executor_->url(), "--executor-api-key", executor::testing::kKey});
    ASSERT_NE(server_, nullptr);
    client_ = server_->Client();
    auto res = client_->Post("/api/v1/tokens",
                             {httplib::make_basic_authentication_header("root", kAdminPassword)},
                             "", "application/json");
    ASSERT_TRUE(res && res->status == 201);
    admin_ = json::parse(res->body)["token"];
  }
  void TearDown() override {
    server_.reset();
    executor_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_.parent_path(), ec);
  }

  int64_t CreatePipeline(const std::string& name, const std::string& yaml) {
    auto res = client_->Post("/api/v1/pipelines", Bearer(admin_),
                             json{{"name", name}, {"format", "yaml"}, {"text", yaml}}.dump(),
                             "application/json");
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
    return res && res->status == 201 ? json::parse(res->body)["id"].get<int64_t>() : 0;
  }

  std::unique_ptr<executor::testing::ExecutorProcess> executor_;
  std::filesystem::path dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
};

TEST_F(ServerRuns, RunOnTheExecutorStoresEveryEventAndReplaysFromLastEventId) {
  int64_t id = CreatePipeline("answer",
                              "version: v2\nsources: []\nstages:\n  - - name: s\n      query: "
                              "SELECT ${n}::INTEGER AS answer\n      show: 5\n");
  ASSERT_GT(id, 0);
  std::string runs_path = "/api/v1/pipelines/" + std::to_string(id) + "/runs";
  auto missing = client_->Post(runs_path.c_str(), Bearer(admin_), "{}", "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 422);
  EXPECT_NE(json::parse(missing->body)["error"].get<std::string>().find("n"), std::string::npos);

  auto res = client_->Post(runs_path.c_str(), Bearer(admin_), R"({"parameters": {"n": "42"}})",
                           "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  json run = json::parse(res->body);
  EXPECT_EQ(run["state"], "queued");
  EXPECT_EQ(run["parameters"], json({{"n", "42"}}));
  EXPECT_EQ(run["pipeline_version"], 1);
  int64_t run_id = run["id"];

  std::vector<Event> events = ReadEvents(*client_, admin_, run_id);
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, static_cast<int64_t>(i + 1)) << "sequence numbers have no gaps";
  }
  auto has = [&](const std::string& type) {
    for (const auto& e : events) {
      if (e.event == type)
        return true;
    }
    return false;
  };
  EXPECT_TRUE(has("queued"));
  EXPECT_TRUE(has("started"));
  EXPECT_TRUE(has("completed"));
  bool shown = false;
  for (const auto& e : events) {
    if (e.event == "stage_output" && e.data.value("data", "").find("42") != std::string::npos) {
      shown = true;
    }
  }
  EXPECT_TRUE(shown) << "the stage's output (42) was relayed";
  EXPECT_EQ(events.front().event, "run_state");
  EXPECT_EQ(events.front().data["state"], "queued");
  EXPECT_EQ(events.back().event, "run_state");
  EXPECT_EQ(events.back().data["state"], "succeeded");

  auto got = client_->Get(("/api/v1/runs/" + std::to_string(run_id)).c_str(), Bearer(admin_));
  ASSERT_TRUE(got);
  json final_run = json::parse(got->body);
  EXPECT_EQ(final_run["state"], "succeeded");
  EXPECT_FALSE(final_run["execution_id"].get<std::string>().empty());

  // Replay after event 3: exactly the rest, same ids and payloads.
  std::vector<Event> tail = ReadEvents(*client_, admin_, run_id, "3");
  ASSERT_EQ(tail.size(), events.size() - 3);
  for (size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(tail[i].id, events[i + 3].id);
    EXPECT_EQ(tail[i].event, events[i + 3].event);
    EXPECT_EQ(tail[i].data, events[i + 3].data);
  }
  int status = 0;
  ReadEvents(*client_, admin_, run_id, "x", &status);
  EXPECT_EQ(status, 400);
  ReadEvents(*client_, admin_, 999, "", &status);
  EXPECT_EQ(status, 404);
}

TEST_F(ServerRuns, AFailingRunSaysWhyAndRolesAreEnforced) {
  int64_t id = CreatePipeline(
      "broken", "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n");
  ASSERT_GT(id, 0);
  // Version 2 reads a table that does not exist: the loader accepts it, the executor does not.
  auto put = client_->Put(("/api/v1/pipelines/" + std::to_string(id)).c_str(), Bearer(admin_),
                          json{{"text",
                                "version: v2\nsources: []\nstages:\n  - - name: s\n      query: "
                                "SELECT * FROM no_such_table\n"}}
                              .dump(),
                          "application/json");
  ASSERT_TRUE(put && put->status == 200);
  for (std::string role : {"viewer", "operator"}) {
    auto made =
        client_->Post("/api/v1/users", Bearer(admin_),
                      json{{"name", role}, {"password", role + "-password"}, {"role", role}}.dump(),
                      "application/json");
    ASSERT_TRUE(made && made->status == 201);
  }
  auto token = [&](const std::string& user) {
    auto r = client_->Post("/api/v1/tokens",
                           {httplib::make_basic_authentication_header(user, user + "-password")},
                           "", "application/json");
    return json::parse(r->body)["token"].get<std::string>();
  };
  std::string viewer = token("viewer");
  std::string op = token("operator");
  std::string path = "/api/v1/pipelines/" + std::to_string(id) + "/runs";
  auto refused = client_->Post(path.c_str(), Bearer(viewer), "{}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  auto res = client_->Post(path.c_str(), Bearer(op), "{}", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  int64_t run_id = json::parse(res->body)["id"];
  std::vector<Event> events = ReadEvents(*client_, viewer, run_id);  // viewers may watch
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data["state"], "failed");
  auto got = client_->Get(("/api/v1/runs/" + std::to_string(run_id)).c_str(), Bearer(viewer));
  json run = json::parse(got->body);
  EXPECT_EQ(run["state"], "failed");
  EXPECT_EQ(run["pipeline_version"], 2);
  EXPECT_EQ(run["created_by"], "operator");
  EXPECT_NE(run["reason"].get<std::string>().find("no_such_table"), std::string::npos) << run;
}

TEST_F(ServerRuns, AnUnreachableOrMissingExecutorIsAnExplicitFailure) {
  int64_t id = CreatePipeline(
      "one", "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n");
  ASSERT_GT(id, 0);
  std::string path = "/api/v1/pipelines/" + std::to_string(id) + "/runs";
  // The executor goes away: the run fails with a reason naming it.
  executor_.reset();
  auto res = client_->Post(path.c_str(), Bearer(admin_), "{}", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  int64_t run_id = json::parse(res->body)["id"];
  std::vector<Event> events = ReadEvents(*client_, admin_, run_id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data["state"], "failed");
  EXPECT_NE(events.back().data["reason"].get<std::string>().find("cannot reach executor"),
            std::string::npos)
      << events.back().data;
  // A server without --executor-url answers 409 with what to configure.
  server_.reset();
  server_ = ServerProcess::Start(dir_);
  ASSERT_NE(server_, nullptr);
  client_ = server_->Client();
  auto none = client_->Post(path.c_str(), Bearer(admin_), "{}", "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 409);
  EXPECT_NE(json::parse(none->body)["error"].get<std::string>().find("--executor-url"),
            std::string::npos);
}

TEST_F(ServerRuns, ARunCutOffByAServerCrashIsLostWithAReasonNotReRun) {
  int64_t id = CreatePipeline("long", std::string("version: v2\nsources: []\nstages:\n  - - name: "
                                                  "s\n      query: ") +
                                          executor::testing::kLongQuery + "\n");
  ASSERT_GT(id, 0);
  auto res = client_->Post(("/api/v1/pipelines/" + std::to_string(id) + "/runs").c_str(),
                           Bearer(admin_), "{}", "application/json");
  ASSERT_TRUE(res && res->status == 201);
  int64_t run_id = json::parse(res->body)["id"];
  // Wait until the store says the run is running on the executor.
  std::string state;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (state != "running" && std::chrono::steady_clock::now() < deadline) {
    auto r = client_->Get(("/api/v1/runs/" + std::to_string(run_id)).c_str(), Bearer(admin_));
    ASSERT_TRUE(r);
    state = json::parse(r->body)["state"];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(state, "running");
  kill(server_->pid(), SIGKILL);
  server_->Wait(std::chrono::seconds(10));
  server_ = ServerProcess::Start(
      dir_, {"--executor-url", executor_->url(), "--executor-api-key", executor::testing::kKey});
  ASSERT_NE(server_, nullptr);
  client_ = server_->Client();
  auto got = client_->Get(("/api/v1/runs/" + std::to_string(run_id)).c_str(), Bearer(admin_));
  ASSERT_TRUE(got);
  json run = json::parse(got->body);
  EXPECT_EQ(run["state"], "lost");
  EXPECT_EQ(run["reason"],
            "the server stopped while the run was running; it is not re-run automatically");
  // Its stored events are still there, and the stream of a lost run ends.
  std::vector<Event> events = ReadEvents(*client_, admin_, run_id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().data["state"], "queued");
}

}  // namespace
}  // namespace aqueducts::server::testing

// The server restarts while a run is running on a real executor: the executor keeps the run and
// its unacknowledged events, reconnects, claims the run in a heartbeat and posts the rest; the run
// finishes with its whole event history. An executor that does not come back loses its run.

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>

#include "executor/test_harness.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Several seconds of DuckDB work: long enough to restart the server while it runs.
constexpr char kSlowPipeline[] =
    "version: v2\nsources: []\nstages:\n  - - name: slow\n      query: SELECT sum(range % 7) "
    "AS s FROM range(1500000000)\n      show: 1\n";

class ServerRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = InitDataDir();
    ASSERT_FALSE(dir_.empty());
    StartServer();
    ASSERT_NE(server_, nullptr);
    port_ = server_->port();
    auto res = client_->Post("/api/v1/tokens",
                             {httplib::make_basic_authentication_header("root", kAdminPassword)},
                             "", "application/json");
    ASSERT_TRUE(res && res->status == 201);
    admin_ = json::parse(res->body)["token"];
  }
  void TearDown() override {
    executor_.reset();
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_.parent_path(), ec);
  }
  void StartServer() {
    std::vector<std::string> args = {"--heartbeat-interval-ms", "1000"};
    if (port_ != 0) {
      args.push_back("--port");  // the same address: the executor knows only this one
      args.push_back(std::to_string(port_));
    }
    server_ = ServerProcess::Start(dir_, args);
    if (server_) {
      client_ = server_->Client();
    }
  }
  void KillServer() {
    kill(server_->pid(), SIGKILL);
    ASSERT_NE(server_->Wait(std::chrono::seconds(10)), -1);
  }

  // Enrol executor eu-1 and start the slow pipeline on it; the run id once it is running.
  int64_t StartSlowRun() {
    auto reg = client_->Post("/api/v1/executors/registration-tokens", Bearer(admin_), "",
                             "application/json");
    EXPECT_TRUE(reg && reg->status == 201);
    executor_ = executor::testing::ExecutorProcess::Start(
        {"--server-url", "http://127.0.0.1:" + std::to_string(port_), "--executor-id", "eu-1",
         "--registration-token", json::parse(reg->body)["token"].get<std::string>()});
    EXPECT_NE(executor_, nullptr);
    // Online first, so that the run's states are exactly queued, dispatched, running.
    bool online = false;
    for (auto deadline = Clock::now() + std::chrono::seconds(30);
         !online && Clock::now() < deadline;
         std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
      auto list = client_->Get("/api/v1/executors", Bearer(admin_));
      if (list && list->status == 200) {
        json doc = json::parse(list->body);
        for (const auto& e : doc["executors"]) {
          online = online || (e["name"] == "eu-1" && e["status"] == "idle" && e["connected"]);
        }
      }
    }
    EXPECT_TRUE(online) << "eu-1 did not come online";
    auto pipeline =
        client_->Post("/api/v1/pipelines", Bearer(admin_),
                      json{{"name", "slow"}, {"format", "yaml"}, {"text", kSlowPipeline}}.dump(),
                      "application/json");
    EXPECT_TRUE(pipeline && pipeline->status == 201);
    auto run = client_->Post("/api/v1/pipelines/1/runs", Bearer(admin_), R"({"executor":"eu-1"})",
                             "application/json");
    EXPECT_TRUE(run && run->status == 201);
    int64_t id = run ? json::parse(run->body).value("id", 0) : 0;
    json state = WaitRun(
        id, [](const json& r) { return r["state"] != "queued" && r["state"] != "dispatched"; });
    EXPECT_EQ(state["state"], "running") << state.dump();
    return id;
  }

  json GetRun(int64_t id) {
    auto res = client_->Get("/api/v1/runs/" + std::to_string(id), Bearer(admin_));
    return res && res->status == 200 ? json::parse(res->body) : json();
  }
  json WaitRun(int64_t id, const std::function<bool(const json&)>& pred,
               std::chrono::seconds limit = std::chrono::seconds(60)) {
    json run;
    for (auto deadline = Clock::now() + limit; Clock::now() < deadline;
         std::this_thread::sleep_for(std::chrono::milliseconds(30))) {
      run = GetRun(id);
      if (run.is_object() && pred(run)) {
        return run;
      }
    }
    return run;
  }
  bool Logged(const std::string& msg) {
    for (const auto& line : server_->LogLines()) {
      json doc = json::parse(line, nullptr, false);
      if (doc.is_object() && doc.value("msg", "") == msg) {
        return true;
      }
    }
    return false;
  }

  std::filesystem::path dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
  std::unique_ptr<executor::testing::ExecutorProcess> executor_;
  std::string admin_;
  int port_ = 0;
};

TEST_F(ServerRestart, ARunningRunFinishesAfterAServerRestartWithItsWholeEventHistory) {
  int64_t run = StartSlowRun();
  ASSERT_GT(run, 0);
  KillServer();
  StartServer();
  ASSERT_NE(server_, nullptr) << "the server did not start again on port " << port_;
  json done = WaitRun(
      run, [](const json& r) { return r["state"] != "running" && r["state"] != "dispatched"; },
      std::chrono::seconds(120));
  EXPECT_EQ(done["state"], "succeeded") << done.dump();
  EXPECT_EQ(done["reason"], "completed on executor eu-1");
  // It was still running when the server went down: the new server found it and eu-1 claimed it.
  EXPECT_TRUE(Logged("run reclaimed after a server restart"));

  // The whole history, numbered without gaps: every executor event once, the states in order.
  auto res = client_->Get("/api/v1/runs/" + std::to_string(run) + "/events", Bearer(admin_));
  ASSERT_TRUE(res && res->status == 200);
  std::vector<std::string> events, states;
  int64_t expected_id = 1;
  size_t pos = 0;
  while ((pos = res->body.find("id: ", pos)) != std::string::npos) {
    EXPECT_EQ(std::stoll(res->body.substr(pos + 4)), expected_id++) << res->body;
    size_t ev = res->body.find("event: ", pos) + 7;
    std::string event = res->body.substr(ev, res->body.find('\n', ev) - ev);
    size_t d = res->body.find("data: ", ev) + 6;
    json data = json::parse(res->body.substr(d, res->body.find('\n', d) - d), nullptr, false);
    if (event == "run_state") {
      states.push_back(data["state"]);
    } else {
      events.push_back(event);
    }
    pos = d;
  }
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "dispatched", "running", "succeeded"}));
  EXPECT_EQ(std::count(events.begin(), events.end(), "started"), 1) << res->body;
  EXPECT_EQ(std::count(events.begin(), events.end(), "completed"), 1) << res->body;
  EXPECT_EQ(std::count(events.begin(), events.end(), "stage_output"), 1) << res->body;
  EXPECT_EQ(events.back(), "completed");
}

TEST_F(ServerRestart, ARunWhoseExecutorDoesNotComeBackIsLostWithThatReason) {
  int64_t run = StartSlowRun();
  ASSERT_GT(run, 0);
  kill(executor_->pid(), SIGKILL);
  KillServer();
  StartServer();
  ASSERT_NE(server_, nullptr);
  json lost = WaitRun(
      run, [](const json& r) { return r["state"] != "running"; }, std::chrono::seconds(30));
  EXPECT_EQ(lost["state"], "lost");
  EXPECT_EQ(lost["reason"],
            "the server restarted while the run was assigned to executor eu-1, which did not "
            "reconnect within 3 heartbeat intervals; the run is not re-run automatically (POST "
            "/api/v1/runs/" +
                std::to_string(run) + "/rerun starts it again)");
}

}  // namespace
}  // namespace aqueducts::server::testing

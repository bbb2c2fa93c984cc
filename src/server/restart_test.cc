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

// Several seconds of DuckDB work: long enough to restart the server while it runs.
constexpr char kSlowPipeline[] =
    "version: v2\nsources: []\nstages:\n  - - name: slow\n      query: SELECT sum(range % 7) "
    "AS s FROM range(1500000000)\n      show: 1\n";

class ServerRestart : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    StartServer();
  }
  void StartServer() { ServerFixture::StartServer({"--heartbeat-interval-ms", "1000"}); }
  void KillServer() {
    kill(server_->pid(), SIGKILL);
    ASSERT_NE(server_->Wait(std::chrono::seconds(10)), -1);
  }

  // Enrol executor eu-1 and start the slow pipeline on it; the run id once it is running.
  int64_t StartSlowRun() {
    // Online first, so that the run's states are exactly queued, dispatched, running.
    EXPECT_NE(StartExecutor("eu-1"), nullptr) << "eu-1 did not come online";
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

  bool Logged(const std::string& msg) {
    for (const auto& line : server_->LogLines()) {
      json doc = json::parse(line, nullptr, false);
      if (doc.is_object() && doc.value("msg", "") == msg) {
        return true;
      }
    }
    return false;
  }
};

TEST_P(ServerRestart, ARunningRunFinishesAfterAServerRestartWithItsWholeEventHistory) {
  int64_t run = StartSlowRun();
  ASSERT_GT(run, 0);
  KillServer();
  StartServer();
  ASSERT_FALSE(HasFatalFailure()) << "the server did not start again on port " << port_;
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

TEST_P(ServerRestart, ARunWhoseExecutorDoesNotComeBackIsLostWithThatReason) {
  int64_t run = StartSlowRun();
  ASSERT_GT(run, 0);
  kill(executors_[0]->pid(), SIGKILL);
  KillServer();
  StartServer();
  ASSERT_FALSE(HasFatalFailure());
  json lost = WaitRun(
      run, [](const json& r) { return r["state"] != "running"; }, std::chrono::seconds(30));
  EXPECT_EQ(lost["state"], "lost");
  EXPECT_EQ(lost["reason"],
            "the server restarted while the run was assigned to executor eu-1, which did not "
            "reconnect within 3 heartbeat intervals; the run is not re-run automatically (POST "
            "/api/v1/runs/" +
                std::to_string(run) + "/rerun starts it again)");
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerRestart,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace aqueducts::server::testing

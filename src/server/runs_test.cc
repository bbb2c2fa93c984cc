// Runs through the real aqueducts-server on real aqueducts-executors registered with it (outbound
// enrolment, heartbeats, work over SSE, events posted back), all on 127.0.0.1.

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "executor/test_harness.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Executors heartbeat this often in these tests; one that misses 3 is offline.
constexpr char kHeartbeatMs[] = "1000";

struct Event {
  int64_t id = 0;
  std::string event;
  json data;
};

// Read GET /api/v1/runs/{id}/events to its end (the run's final state).
std::vector<Event> ReadEvents(httplib::Client& client, const std::string& token, int64_t run,
                              const std::string& last_event_id = "", int* status = nullptr) {
  httplib::Headers headers = Bearer(token);
  if (!last_event_id.empty()) {
    headers.emplace("Last-Event-ID", last_event_id);
  }
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
                              if (line.rfind("id: ", 0) == 0) {
                                e.id = std::stoll(line.substr(4));
                              }
                              if (line.rfind("event: ", 0) == 0) {
                                e.event = line.substr(7);
                              }
                              if (line.rfind("data: ", 0) == 0) {
                                payload += line.substr(6);
                              }
                              if (nl == std::string::npos) {
                                break;
                              }
                              pos = nl + 1;
                            }
                            if (!e.event.empty()) {
                              e.data = json::parse(payload, nullptr, false);
                              out.push_back(e);
                            }
                          }
                          return true;
                        });
  if (status) {
    *status = res ? res->status : -1;
  }
  return out;
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The example's readings, aggregated and written as CSV to ${out}.
std::string ExamplePipeline() {
  return R"(version: v2
sources:
  - type: file
    name: readings
    format:
      type: csv
      options:
        has_header: true
    location: ${data}/readings.csv
stages:
  - - name: daily
      query: |
        SELECT city, CAST(date AS DATE) AS day,
               round(avg(temperature), 2) AS avg_temperature,
               count(temperature) AS readings
        FROM readings
        GROUP BY ALL
        ORDER BY city, day
destination:
  type: file
  name: daily_summary
  format:
    type: csv
    options:
      has_header: true
  location: ${out}
)";
}

class Registry : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    work_ = MakeTempDir("work");
    StartServer({"--heartbeat-interval-ms", kHeartbeatMs});
  }
  void TearDown() override {
    ServerFixture::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(work_, ec);
  }

  // Start an executor registered as `name` with `labels` and wait until the server lists it online.
  executor::testing::ExecutorProcess* StartExecutor(const std::string& name,
                                                    const std::string& labels) {
    return ServerFixture::StartExecutor(name, {"--labels", labels});
  }

  int64_t CreatePipeline(const std::string& name, const std::string& yaml) {
    auto res = client_->Post("/api/v1/pipelines", Bearer(admin_),
                             json{{"name", name}, {"format", "yaml"}, {"text", yaml}}.dump(),
                             "application/json");
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
    return res && res->status == 201 ? json::parse(res->body)["id"].get<int64_t>() : 0;
  }

  // POST a run of pipeline `id`; the run object (201) or null.
  json Trigger(int64_t id, const json& body) {
    auto res = client_->Post(("/api/v1/pipelines/" + std::to_string(id) + "/runs").c_str(),
                             Bearer(admin_), body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
    return res && res->status == 201 ? json::parse(res->body) : json();
  }

  int64_t LongPipeline() {
    return CreatePipeline("long", std::string("version: v2\nsources: []\nstages:\n  - - name: "
                                              "s\n      query: ") +
                                      executor::testing::kLongQuery + "\n");
  }

  std::filesystem::path work_;
};

TEST_P(Registry, EnrolmentTakesAOneTimeTokenAndHeartbeatsReportTheExecutor) {
  // No token, an unknown token: refused with a reason.
  auto none = client_->Post("/api/v1/executors/register", R"({"name":"x"})", "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto unknown = client_->Post("/api/v1/executors/register", Bearer("aqr_nope"), R"({"name":"x"})",
                               "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 401);
  EXPECT_NE(json::parse(unknown->body)["error"].get<std::string>().find("registration token"),
            std::string::npos);
  // Only admins create registration tokens.
  auto viewer = client_->Post("/api/v1/users", Bearer(admin_),
                              R"({"name":"v","password":"v-password","role":"operator"})",
                              "application/json");
  ASSERT_TRUE(viewer && viewer->status == 201);
  auto op_token = client_->Post("/api/v1/tokens",
                                {httplib::make_basic_authentication_header("v", "v-password")}, "",
                                "application/json");
  std::string op = json::parse(op_token->body)["token"];
  auto refused =
      client_->Post("/api/v1/executors/registration-tokens", Bearer(op), "", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);

  ASSERT_NE(StartExecutor("eu-1", "region=eu,tier=gold"), nullptr);
  json e = Executor("eu-1");
  EXPECT_EQ(e["labels"], json({{"region", "eu"}, {"tier", "gold"}}));
  EXPECT_EQ(e["version"], "0.1.0");
  EXPECT_TRUE(e["online"].get<bool>());
  EXPECT_FALSE(e["last_heartbeat"].get<std::string>().empty());

  // The token now belongs to eu-1: another name cannot use it; a fresh token cannot take the
  // name eu-1 either.
  std::string fresh = RegistrationToken();
  auto first = client_->Post("/api/v1/executors/register", Bearer(fresh), R"({"name":"eu-2"})",
                             "application/json");
  ASSERT_TRUE(first && first->status == 201) << first->body;
  auto again = client_->Post("/api/v1/executors/register", Bearer(fresh), R"({"name":"eu-3"})",
                             "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 403);
  EXPECT_NE(json::parse(again->body)["error"].get<std::string>().find("eu-2"), std::string::npos);
  auto taken = client_->Post("/api/v1/executors/register", Bearer(RegistrationToken()),
                             R"({"name":"eu-1"})", "application/json");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->status, 409);
  // The credential is not a user token, and a user token is not a credential.
  std::string credential = json::parse(first->body)["credential"];
  auto as_user = client_->Get("/api/v1/me", Bearer(credential));
  ASSERT_TRUE(as_user);
  EXPECT_EQ(as_user->status, 401);
  auto as_executor =
      client_->Post("/api/v1/executor/heartbeat", Bearer(admin_), "{}", "application/json");
  ASSERT_TRUE(as_executor);
  EXPECT_EQ(as_executor->status, 401);

  // An executor whose registration is refused exits 1 and says why.
  auto bad = executor::testing::ExecutorProcess::Start(
      {"--server-url", ServerUrl(), "--executor-id", "eu-9", "--registration-token", "aqr_bad"});
  if (bad) {  // it may have logged "listening" before the refusal
    int status = bad->Wait(std::chrono::seconds(20));
    ASSERT_NE(status, -1) << "a refused executor keeps running";
    EXPECT_EQ(WEXITSTATUS(status), 1);
  }
}

TEST_P(Registry, TheExamplePipelineThroughTheServerWritesWhatALocalRunWrites) {
  ASSERT_NE(StartExecutor("eu-1", "region=eu"), nullptr);
  ASSERT_NE(StartExecutor("us-1", "region=us"), nullptr);
  int64_t id = CreatePipeline("example", ExamplePipeline());
  ASSERT_GT(id, 0);
  std::string data = std::string(AQ_EXAMPLES_DIR) + "/data";
  std::string remote_out = (work_ / "remote.csv").string();
  json run =
      Trigger(id, {{"parameters", {{"data", data}, {"out", remote_out}}}, {"executor", "us-1"}});
  ASSERT_TRUE(run.is_object());
  EXPECT_EQ(run["state"], "queued");
  EXPECT_EQ(run["target_executor"], "us-1");
  int64_t run_id = run["id"];
  std::vector<Event> events = ReadEvents(*client_, admin_, run_id);
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, static_cast<int64_t>(i + 1)) << "sequence numbers have no gaps";
  }
  std::vector<std::string> states;
  for (const auto& e : events) {
    if (e.event == "run_state") {
      states.push_back(e.data["state"]);
    }
  }
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "dispatched", "running", "succeeded"}));
  json done = GetRun(run_id);
  EXPECT_EQ(done["state"], "succeeded");
  EXPECT_EQ(done["executor"], "us-1");
  EXPECT_EQ(done["reason"], "completed on executor us-1");
  EXPECT_FALSE(done["execution_id"].get<std::string>().empty());

  // The same pipeline run locally by the CLI writes the same bytes.
  std::filesystem::path file = work_ / "example.yml";
  std::ofstream(file) << ExamplePipeline();
  std::string local_out = (work_ / "local.csv").string();
  CommandResult local = RunCommand(
      AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "data=" + data, "-p", "out=" + local_out});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  std::string remote_rows = Slurp(remote_out);
  EXPECT_GT(std::count(remote_rows.begin(), remote_rows.end(), '\n'), 3) << remote_rows;
  EXPECT_EQ(remote_rows, Slurp(local_out));

  // Replay after event 3: exactly the rest.
  std::vector<Event> tail = ReadEvents(*client_, admin_, run_id, "3");
  ASSERT_EQ(tail.size(), events.size() - 3);
  EXPECT_EQ(tail.front().id, 4);
}

TEST_P(Registry, ASecondRunWaitsWithItsReasonCancelStopsTheFirstAndReRunRepeats) {
  ASSERT_NE(StartExecutor("eu-1", "region=eu"), nullptr);
  int64_t long_id = LongPipeline();
  int64_t quick_id =
      CreatePipeline("quick",
                     "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT "
                     "'${word}' AS w\n      show: 1\n");
  json first = Trigger(long_id, {{"executor", "eu-1"}});
  ASSERT_TRUE(first.is_object());
  int64_t first_id = first["id"];
  json running = WaitRun(first_id, [](const json& r) { return r["state"] == "running"; });
  ASSERT_EQ(running["state"], "running") << running;
  EXPECT_EQ(running["reason"], "running on executor eu-1");

  json second = Trigger(quick_id, {{"executor", "eu-1"}, {"parameters", {{"word", "hello"}}}});
  ASSERT_TRUE(second.is_object());
  int64_t second_id = second["id"];
  std::string expected = "waiting: executor eu-1 is busy with run " + std::to_string(first_id);
  json waiting = WaitRun(second_id, [&](const json& r) { return r["reason"] == expected; });
  EXPECT_EQ(waiting["state"], "queued");
  EXPECT_EQ(waiting["reason"], expected);

  // Cancel the first (relayed to the executor): it ends cancelled, then the second runs.
  auto cancel = client_->Post(("/api/v1/runs/" + std::to_string(first_id) + "/cancel").c_str(),
                              Bearer(admin_), "", "application/json");
  ASSERT_TRUE(cancel && cancel->status == 200) << (cancel ? cancel->body : "");
  json cancelled = WaitRun(first_id, [](const json& r) { return r["state"] == "cancelled"; });
  ASSERT_EQ(cancelled["state"], "cancelled") << cancelled;
  EXPECT_NE(cancelled["reason"].get<std::string>().find("cancelled by root"), std::string::npos)
      << cancelled;
  json done = WaitRun(second_id, [](const json& r) { return r["state"] == "succeeded"; });
  ASSERT_EQ(done["state"], "succeeded") << done;
  auto again = client_->Post(("/api/v1/runs/" + std::to_string(first_id) + "/cancel").c_str(),
                             Bearer(admin_), "", "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409);

  // Re-run: a new run with the same parameters, which shows the same output.
  auto rerun = client_->Post(("/api/v1/runs/" + std::to_string(second_id) + "/rerun").c_str(),
                             Bearer(admin_), "", "application/json");
  ASSERT_TRUE(rerun && rerun->status == 201) << (rerun ? rerun->body : "");
  json repeated = json::parse(rerun->body);
  EXPECT_EQ(repeated["rerun_of"], second_id);
  EXPECT_EQ(repeated["parameters"], json({{"word", "hello"}}));
  std::vector<Event> events = ReadEvents(*client_, admin_, repeated["id"]);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data["state"], "succeeded");
  bool shown = false;
  for (const auto& e : events) {
    if (e.event == "stage_output" && e.data.value("data", "").find("hello") != std::string::npos) {
      shown = true;
    }
  }
  EXPECT_TRUE(shown);
  // A queued run is cancelled at once, before any executor sees it.
  json nowhere = Trigger(quick_id, {{"executor", "nobody"}, {"parameters", {{"word", "x"}}}});
  int64_t nowhere_id = nowhere["id"];
  json why = WaitRun(nowhere_id, [](const json& r) {
    return r["reason"] == "waiting: no executor named nobody is registered";
  });
  EXPECT_EQ(why["reason"], "waiting: no executor named nobody is registered");
  auto drop = client_->Post(("/api/v1/runs/" + std::to_string(nowhere_id) + "/cancel").c_str(),
                            Bearer(admin_), "", "application/json");
  ASSERT_TRUE(drop && drop->status == 200);
  EXPECT_EQ(json::parse(drop->body)["state"], "cancelled");
  EXPECT_EQ(json::parse(drop->body)["reason"], "cancelled by root before it was dispatched");
}

TEST_P(Registry, ALabelRoutesTheRunAndAMissingLabelSaysSo) {
  ASSERT_NE(StartExecutor("eu-1", "region=eu"), nullptr);
  ASSERT_NE(StartExecutor("us-1", "region=us"), nullptr);
  int64_t id = CreatePipeline(
      "one", "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n");
  for (const std::string region : {"eu", "us", "us", "eu"}) {
    json run = Trigger(id, {{"label", "region=" + region}});
    json done = WaitRun(run["id"], [](const json& r) { return r["state"] == "succeeded"; });
    EXPECT_EQ(done["state"], "succeeded") << done;
    EXPECT_EQ(done["executor"], region + "-1");
  }
  json mars = Trigger(id, {{"label", "region=mars"}});
  json waiting = WaitRun(mars["id"], [](const json& r) {
    return r["reason"] == "waiting: no online executor has label region=mars";
  });
  EXPECT_EQ(waiting["state"], "queued");
  EXPECT_EQ(waiting["reason"], "waiting: no online executor has label region=mars");
  // A malformed target is refused.
  auto bad = client_->Post(("/api/v1/pipelines/" + std::to_string(id) + "/runs").c_str(),
                           Bearer(admin_), R"({"label":"region"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_P(Registry, AKilledExecutorsRunIsLostNotReRunAndTheOtherStillServes) {
  auto* eu = StartExecutor("eu-1", "region=eu");
  ASSERT_NE(eu, nullptr);
  ASSERT_NE(StartExecutor("us-1", "region=us"), nullptr);
  int64_t quick = CreatePipeline(
      "one", "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n");
  json run = Trigger(LongPipeline(), {{"executor", "eu-1"}});
  int64_t run_id = run["id"];
  ASSERT_EQ(WaitRun(run_id, [](const json& r) { return r["state"] == "running"; })["state"],
            "running");
  kill(eu->pid(), SIGKILL);
  auto killed_at = Clock::now();
  json lost = WaitRun(
      run_id, [](const json& r) { return r["state"] == "lost"; }, std::chrono::seconds(35));
  ASSERT_EQ(lost["state"], "lost") << lost;
  // 3 heartbeats of 1 s: offline after 3 s, and well within the 35 s the issue allows.
  EXPECT_LT(Clock::now() - killed_at, std::chrono::seconds(35));
  std::string reason = lost["reason"];
  EXPECT_NE(reason.find("executor eu-1 missed 3 heartbeats"), std::string::npos) << reason;
  EXPECT_NE(reason.find("not re-run automatically"), std::string::npos) << reason;
  EXPECT_TRUE(WaitExecutor("eu-1", "offline"));
  // The other executor still serves, and a run for the dead one waits with the reason.
  json other = Trigger(quick, {{"label", "region=us"}});
  json served = WaitRun(other["id"], [](const json& r) { return r["state"] == "succeeded"; });
  EXPECT_EQ(served["state"], "succeeded") << served;
  EXPECT_EQ(served["executor"], "us-1");
  json waiting = Trigger(quick, {{"executor", "eu-1"}});
  json why = WaitRun(waiting["id"], [](const json& r) {
    return r["reason"].get<std::string>().rfind("waiting: executor eu-1 is offline", 0) == 0;
  });
  EXPECT_EQ(why["state"], "queued");
  EXPECT_NE(why["reason"].get<std::string>().find("last heartbeat"), std::string::npos) << why;
  // The lost run stayed lost: it was not sent anywhere else.
  json still = GetRun(run_id);
  EXPECT_EQ(still["state"], "lost");
  EXPECT_EQ(still["executor"], "eu-1");
}

// The executor protocol spoken by the test itself over HTTP: resent and out-of-order event
// batches are stored once, in order (what makes a short disconnect lose nothing).
TEST_P(Registry, ResentEventsAreStoredOnceAndAGapIsNotSkipped) {
  auto enrol = client_->Post("/api/v1/executors/register", Bearer(RegistrationToken()),
                             R"({"name":"hand","labels":{"kind":"test"}})", "application/json");
  ASSERT_TRUE(enrol && enrol->status == 201) << (enrol ? enrol->body : "");
  std::string credential = json::parse(enrol->body)["credential"];
  auto beat = client_->Post("/api/v1/executor/heartbeat", Bearer(credential),
                            R"({"version":"test","status":"idle","runs":[]})", "application/json");
  ASSERT_TRUE(beat && beat->status == 200);
  EXPECT_EQ(json::parse(beat->body)["heartbeat_interval_ms"], 1000);
  int64_t id = CreatePipeline(
      "one", "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n");
  json run = Trigger(id, {{"executor", "hand"}});
  int64_t run_id = run["id"];
  // The work stream carries the run (keep heartbeating meanwhile: 3 missed = offline).
  std::string work;
  std::atomic<bool> got{false};
  std::thread stream([&] {
    auto c = server_->Client();
    c->Get("/api/v1/executor/work", Bearer(credential), [&](const char* data, size_t size) {
      work.append(data, size);
      if (work.find("event: run\n") != std::string::npos &&
          work.find("\n\n", work.find("event: run\n")) != std::string::npos) {
        got = true;
        return false;
      }
      return true;
    });
  });
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!got && Clock::now() < deadline) {
    client_->Post("/api/v1/executor/heartbeat", Bearer(credential), R"({"runs":[]})",
                  "application/json");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stream.join();
  ASSERT_TRUE(got) << work;
  EXPECT_NE(work.find("\"run_id\":" + std::to_string(run_id)), std::string::npos) << work;

  std::string path = "/api/v1/executor/runs/" + std::to_string(run_id) + "/events";
  auto post = [&](const json& events) {
    auto r = client_->Post(path.c_str(), Bearer(credential), json{{"events", events}}.dump(),
                           "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "");
    return r && r->status == 200 ? json::parse(r->body)["acked"].get<int64_t>() : -1;
  };
  auto ev = [](int64_t seq, const std::string& event) {
    return json{
        {"seq", seq}, {"event", event}, {"data", json{{"execution_id", "e"}, {"n", seq}}.dump()}};
  };
  EXPECT_EQ(post({ev(1, "started"), ev(2, "log")}), 2);
  // The answer was "lost": the same batch and one more again; then a batch with a gap.
  EXPECT_EQ(post({ev(1, "started"), ev(2, "log"), ev(3, "log")}), 3);
  EXPECT_EQ(post(json::array({ev(5, "log")})), 3);
  EXPECT_EQ(post({ev(4, "log"), ev(5, "completed")}), 5);
  // Another executor's credential may not post here.
  auto other = client_->Post("/api/v1/executors/register", Bearer(RegistrationToken()),
                             R"({"name":"other"})", "application/json");
  std::string other_credential = json::parse(other->body)["credential"];
  auto refused =
      client_->Post(path.c_str(), Bearer(other_credential),
                    json{{"events", json::array({ev(6, "log")})}}.dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409);

  std::vector<Event> events = ReadEvents(*client_, admin_, run_id);
  std::vector<int64_t> numbers;
  for (const auto& e : events) {
    if (e.event != "run_state") {
      numbers.push_back(e.data["n"]);
    }
  }
  EXPECT_EQ(numbers, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(events.back().data["state"], "succeeded");
  EXPECT_EQ(GetRun(run_id)["state"], "succeeded");
}

// A child process (the CLI) with its output in files.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::filesystem::path& dir) {
    out_ = dir / "child.out";
    err_ = dir / "child.err";
    int out_fd = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err_fd = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out_fd, STDOUT_FILENO);
      dup2(err_fd, STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out_fd);
    close(err_fd);
  }
  ~Child() {
    if (status_ == -1) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  /// The exit code, or -1 when it does not exit within `limit`.
  int Wait(std::chrono::seconds limit) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  std::string Out() const { return Slurp(out_); }
  std::string Err() const { return Slurp(err_); }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path out_;
  std::filesystem::path err_;
};

TEST_P(Registry, TheCliRunsThroughTheServerRendersTheEventsAndCtrlCCancels) {
  ASSERT_NE(StartExecutor("eu-1", "region=eu"), nullptr);
  ASSERT_NE(StartExecutor("us-1", "region=us"), nullptr);
  std::filesystem::path file = work_ / "example.yml";
  std::ofstream(file) << ExamplePipeline();
  std::string data = std::string(AQ_EXAMPLES_DIR) + "/data";
  auto cli = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"run",          "-f", file.string(), "-p",
                                     "data=" + data, "-p", "out=" + out};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCommand(AQ_CLI_BIN, args);
  };
  std::string local_out = (work_ / "local.csv").string();
  CommandResult local = cli(local_out, {});
  ASSERT_EQ(local.exit_code, 0) << local.err;

  std::string named_out = (work_ / "named.csv").string();
  CommandResult named =
      cli(named_out, {"--server", ServerUrl(), "--token", admin_, "--executor", "eu-1"});
  ASSERT_EQ(named.exit_code, 0) << named.out << named.err;
  EXPECT_EQ(Slurp(named_out), Slurp(local_out));
  // The run's progress renders as a local run's does, with the server's states as lines.
  // (Progress goes to stderr, stage outputs to stdout, as in a local run.)
  std::string named_text = named.out + named.err;
  EXPECT_NE(named_text.find("daily"), std::string::npos) << named_text;
  EXPECT_NE(named_text.find("Run running: running on executor eu-1"), std::string::npos)
      << named_text;

  std::string labelled_out = (work_ / "labelled.csv").string();
  CommandResult labelled =
      cli(labelled_out, {"--server", ServerUrl(), "--token", admin_, "--label", "region=us"});
  ASSERT_EQ(labelled.exit_code, 0) << labelled.out << labelled.err;
  EXPECT_EQ(Slurp(labelled_out), Slurp(local_out));
  EXPECT_NE((labelled.out + labelled.err).find("on executor us-1"), std::string::npos)
      << labelled.out << labelled.err;

  // A failing run exits 1 with the executor's message; a missing token is a usage error.
  std::filesystem::path broken = work_ / "broken.yml";
  std::ofstream(broken) << "version: v2\nsources: []\nstages:\n  - - name: s\n      query: "
                           "SELECT 1/0 AS x FROM range(1) WHERE error('boom') IS NULL\n";
  CommandResult failed = RunCommand(
      AQ_CLI_BIN, {"run", "-f", broken.string(), "--server", ServerUrl(), "--token", admin_});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE((failed.out + failed.err).find("boom"), std::string::npos) << failed.out << failed.err;
  CommandResult no_token =
      RunCommand(AQ_CLI_BIN, {"run", "-f", broken.string(), "--server", ServerUrl()});
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_NE(no_token.err.find("--token"), std::string::npos) << no_token.err;

  // Ctrl+C: the CLI asks the server to cancel, the executor stops, the run ends cancelled.
  std::filesystem::path long_file = work_ / "long.yml";
  std::ofstream(long_file) << "version: v2\nsources: []\nstages:\n  - - name: s\n      query: "
                           << executor::testing::kLongQuery << "\n";
  Child running({AQ_CLI_BIN, "run", "-f", long_file.string(), "--server", ServerUrl(), "--token",
                 admin_, "--executor", "eu-1"},
                work_);
  ASSERT_TRUE(WaitExecutor("eu-1", "busy"));
  int64_t run_id = Executor("eu-1")["current_run"];
  ASSERT_EQ(WaitRun(run_id, [](const json& r) { return r["state"] == "running"; })["state"],
            "running");
  kill(running.pid(), SIGINT);
  int code = running.Wait(std::chrono::seconds(60));
  EXPECT_EQ(code, 130) << running.Out() << running.Err();
  json cancelled = WaitRun(run_id, [](const json& r) { return r["state"] == "cancelled"; });
  EXPECT_EQ(cancelled["state"], "cancelled") << cancelled;
  EXPECT_NE(cancelled["reason"].get<std::string>().find("cancelled by root"), std::string::npos);
}

TEST_P(Registry, AnExecutorWithoutAnApiKeyOpensNoPortAndStillServesTheServer) {
  Child solo({AQ_EXECUTOR_BIN, "--server-url", ServerUrl(), "--executor-id", "solo",
              "--registration-token", RegistrationToken()},
             work_);
  ASSERT_TRUE(WaitExecutor("solo", "idle")) << solo.Out() << solo.Err();
  int64_t id = CreatePipeline(
      "one", "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n");
  json run = Trigger(id, {{"executor", "solo"}});
  json done = WaitRun(run["id"], [](const json& r) { return r["state"] == "succeeded"; });
  EXPECT_EQ(done["state"], "succeeded") << done;
  EXPECT_EQ(solo.Out().find("\"listening\""), std::string::npos) << solo.Out();
  EXPECT_NE(solo.Out().find("\"registered\""), std::string::npos) << solo.Out();
  kill(solo.pid(), SIGTERM);
  EXPECT_EQ(solo.Wait(std::chrono::seconds(30)), 0) << solo.Out() << solo.Err();
  EXPECT_TRUE(WaitExecutor("solo", "offline"));
}

// Prometheus text exposition: "name{labels} value" per sample line.
std::map<std::string, double> ScrapeMetrics(httplib::Client& client, std::string* text) {
  auto res = client.Get("/metrics");
  std::map<std::string, double> out;
  EXPECT_TRUE(res && res->status == 200);
  if (!res) {
    return out;
  }
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  *text = res->body;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

TEST_P(Registry, MetricsCountRunsByStateExecutorsAndTimings) {
  auto begun = Clock::now();
  ASSERT_NE(StartExecutor("eu-1", "region=eu"), nullptr);
  int64_t id = CreatePipeline("example", ExamplePipeline());
  ASSERT_GT(id, 0);
  std::string data = std::string(AQ_EXAMPLES_DIR) + "/data";
  for (int i = 0; i < 2; ++i) {
    json run = Trigger(
        id, {{"parameters",
              {{"data", data}, {"out", (work_ / ("m" + std::to_string(i) + ".csv")).string()}}}});
    ASSERT_TRUE(run.is_object());
    ReadEvents(*client_, admin_, run["id"].get<int64_t>());
    EXPECT_EQ(GetRun(run["id"].get<int64_t>())["state"], "succeeded");
  }
  // One run that waits for an executor that does not exist, one cancelled while queued.
  json waiting = Trigger(
      id, {{"parameters", {{"data", data}, {"out", "/tmp/never.csv"}}}, {"executor", "nobody"}});
  json cancelled = Trigger(
      id, {{"parameters", {{"data", data}, {"out", "/tmp/never.csv"}}}, {"executor", "nobody"}});
  ASSERT_TRUE(waiting.is_object() && cancelled.is_object());
  auto cancel = client_->Post(
      ("/api/v1/runs/" + std::to_string(cancelled["id"].get<int64_t>()) + "/cancel").c_str(),
      Bearer(admin_), "", "application/json");
  ASSERT_TRUE(cancel && cancel->status == 200);
  double elapsed = std::chrono::duration<double>(Clock::now() - begun).count();

  // Over real HTTP, without a token.
  std::string text;
  std::map<std::string, double> m = ScrapeMetrics(*client_, &text);
  EXPECT_EQ(m["aqueducts_runs{state=\"succeeded\"}"], 2) << text;
  EXPECT_EQ(m["aqueducts_runs{state=\"queued\"}"], 1) << text;
  EXPECT_EQ(m["aqueducts_runs{state=\"cancelled\"}"], 1) << text;
  EXPECT_EQ(m.count("aqueducts_runs{state=\"failed\"}"), 1u);
  EXPECT_EQ(m["aqueducts_runs{state=\"failed\"}"], 0);
  EXPECT_EQ(m["aqueducts_executors_registered"], 1);
  EXPECT_EQ(m["aqueducts_executors_online"], 1);
  EXPECT_EQ(m["aqueducts_executors_busy"], 0);
  // Two runs ran; three runs left the queue for an executor... two did (the third is queued,
  // the fourth was cancelled before dispatch).
  EXPECT_EQ(m["aqueducts_run_duration_seconds_count"], 2) << text;
  EXPECT_EQ(m["aqueducts_run_dispatch_seconds_count"], 2) << text;
  EXPECT_EQ(m["aqueducts_run_queue_seconds_count"], 2) << text;
  for (const std::string name : {"aqueducts_run_duration_seconds", "aqueducts_run_dispatch_seconds",
                                 "aqueducts_run_queue_seconds"}) {
    EXPECT_GT(m[name + "_sum"], 0) << name;
    EXPECT_LT(m[name + "_sum"], 2 * elapsed) << name;
    EXPECT_EQ(m[name + "_bucket{le=\"+Inf\"}"], m[name + "_count"]) << name;
    EXPECT_NE(text.find("# TYPE " + name + " histogram\n"), std::string::npos) << name;
    // Buckets are cumulative: they never decrease.
    double previous = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name + "_bucket{", 0) != 0) {
        continue;
      }
      double v = std::stod(line.substr(line.rfind(' ') + 1));
      EXPECT_GE(v, previous) << line;
      previous = v;
    }
  }
  EXPECT_NE(text.find("# TYPE aqueducts_runs gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE aqueducts_executors_online gauge\n"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, Registry,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace aqueducts::server::testing

// A schedule fires through the scheduler's clock seam (a fake clock, no waiting for the hour) and
// its run executes on a real aqueducts-executor registered with the server: the server's parts
// (Store, RunManager, Scheduler, ApiServer) run in this process on 127.0.0.1, the executor is the
// real binary.

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "executor/test_harness.h"
#include "server/api.h"
#include "server/crypto.h"
#include "server/schedules.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t Utc(int y, unsigned mo, unsigned d, int h, int mi) {
  int64_t days = std::chrono::sys_days(std::chrono::year(y) / mo / d).time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60;
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

constexpr char kPipeline[] = R"(version: v2
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
        SELECT city, CAST(date AS DATE) AS day, round(avg(temperature), 2) AS avg_temperature
        FROM readings GROUP BY ALL ORDER BY city, day
destination:
  type: file
  name: daily_summary
  format:
    type: csv
    options:
      has_header: true
  location: ${out}
)";

TEST(ScheduledRun, AScheduleFiresThroughTheClockSeamAndItsRunExecutesOnARealExecutor) {
  std::filesystem::path dir = MakeTempDir("sched-run");
  std::filesystem::path log_path = dir / "server.log";
  std::FILE* log_file = std::fopen(log_path.c_str(), "w");
  ASSERT_NE(log_file, nullptr);
  struct Files {
    std::FILE* log;
    std::filesystem::path dir;
    ~Files() {
      std::fclose(log);
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } files{log_file, dir};
  Log log(log_file);
  auto store = Store::Open((dir / "data").string(), /*create=*/true);
  ASSERT_TRUE(store.ok()) << store.status().message();
  RunManager::Options run_options;
  run_options.heartbeat_interval = std::chrono::milliseconds(1000);
  RunManager runs(store->get(), &log, run_options);
  int64_t now = Utc(2026, 6, 1, 10, 20);
  Scheduler::Options sched_options;
  sched_options.run_thread = false;
  sched_options.now = [&now] { return now; };
  Scheduler scheduler(store->get(), &runs, &log, sched_options);
  ApiOptions api_options;
  api_options.port = 0;
  auto api = ApiServer::Make(api_options, store->get(), &runs, &log, &scheduler);
  ASSERT_TRUE(api.ok()) << api.status().message();
  std::thread listener([&] { (void)(*api)->Listen(); });
  // Stops the server's parts however the test ends (an ASSERT returns early).
  struct Stopper {
    std::function<void()> fn;
    ~Stopper() { fn(); }
  } stopper{[&] {
    scheduler.Shutdown();
    runs.Shutdown();
    (*api)->Stop();
    if (listener.joinable()) {
      listener.join();
    }
  }};
  int port = 0;
  for (auto deadline = Clock::now() + std::chrono::seconds(10); !port && Clock::now() < deadline;) {
    std::ifstream in(log_path);
    std::string line;
    while (std::getline(in, line)) {
      json doc = json::parse(line, nullptr, false);
      if (doc.is_object() && doc.value("msg", "") == "listening") {
        port = std::stoi(doc["fields"]["port"].get<std::string>());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(port, 0) << "the API did not start listening";

  // A real executor enrols with a registration token and comes online.
  const std::string token = "aqr_schedule_run_test_token";
  ASSERT_TRUE((*store)->CreateRegistrationToken(Sha256Hex(token), "test").ok());
  auto executor = executor::testing::ExecutorProcess::Start(
      {"--server-url", "http://127.0.0.1:" + std::to_string(port), "--executor-id", "eu-1",
       "--registration-token", token, "--labels", "region=eu"});
  ASSERT_NE(executor, nullptr);
  bool online = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(30); !online && Clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    for (const auto& e : runs.Executors()) {
      online = online || (e.name == "eu-1" && e.status == "idle" && e.connected);
    }
  }
  ASSERT_TRUE(online) << "eu-1 did not come online";

  auto pipeline =
      (*store)->CreatePipeline("daily", "yaml", kPipeline, R"(["data","out"])", "alice");
  ASSERT_TRUE(pipeline.ok());
  std::string data = std::string(AQ_EXAMPLES_DIR) + "/data";
  std::filesystem::path out = dir / "scheduled.csv";
  ScheduleRequest request;
  request.pipeline_id = pipeline->pipeline_id;
  request.cron = "0 * * * *";
  request.time_zone = "Europe/Berlin";
  request.parameters = {{"data", data}, {"out", out.string()}};
  request.target.label = "region=eu";
  auto schedule = scheduler.Create(request, "alice");
  ASSERT_TRUE(schedule.ok()) << schedule.status().message();

  // 10:59:59 nothing; 11:00 the schedule fires and its run goes to the executor.
  ASSERT_TRUE(scheduler.Tick(Utc(2026, 6, 1, 10, 59) + 59).ok());
  EXPECT_TRUE((*store)->ListFires(schedule->id, 10)->empty());
  now = Utc(2026, 6, 1, 11, 0);
  ASSERT_TRUE(scheduler.Tick(now).ok());
  auto fires = (*store)->ListFires(schedule->id, 10);
  ASSERT_TRUE(fires.ok());
  ASSERT_EQ(fires->size(), 1u);
  EXPECT_EQ((*fires)[0].outcome, "started");
  int64_t run_id = (*fires)[0].run_id;
  server::Run run;
  for (auto deadline = Clock::now() + std::chrono::seconds(60); Clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(30))) {
    run = *(*store)->GetRun(run_id);
    if (IsFinalState(run.state)) {
      break;
    }
  }
  EXPECT_EQ(run.state, "succeeded") << run.reason;
  EXPECT_EQ(run.executor_name, "eu-1");
  EXPECT_EQ(run.created_by, "schedule " + std::to_string(schedule->id));
  std::vector<std::string> states;
  bool completed = false;
  auto events = (*store)->ListEvents(run_id, 0);
  ASSERT_TRUE(events.ok());
  for (const auto& e : *events) {
    if (e.event == "run_state") {
      states.push_back(json::parse(e.data)["state"]);
    }
    completed = completed || e.event == "completed";
  }
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "dispatched", "running", "succeeded"}));
  EXPECT_TRUE(completed);

  // The scheduled run wrote what a local run of the same pipeline writes.
  std::filesystem::path file = dir / "daily.yml";
  std::ofstream(file) << kPipeline;
  std::filesystem::path local = dir / "local.csv";
  CommandResult cli = RunCommand(AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "data=" + data,
                                              "-p", "out=" + local.string()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::string rows = Slurp(out);
  EXPECT_GT(std::count(rows.begin(), rows.end(), '\n'), 3) << rows;
  EXPECT_EQ(rows, Slurp(local));

  // The next hour the previous run is finished, so it fires again.
  now = Utc(2026, 6, 1, 12, 0);
  ASSERT_TRUE(scheduler.Tick(now).ok());
  fires = (*store)->ListFires(schedule->id, 10);
  ASSERT_EQ(fires->size(), 2u);
  EXPECT_EQ((*fires)[0].outcome, "started");

  executor.reset();
}

}  // namespace
}  // namespace aqueducts::server::testing

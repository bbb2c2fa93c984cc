// Event retention: the store's pruning through a fake clock (no waiting days), then the real
// server binary with --event-retention-days on a store whose runs finished long ago.

#include "server/retention.h"

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
constexpr int64_t kDay = 86400;

class EventRetentionClock : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("retention");
    auto store = Store::Open(dir_.string(), /*create=*/true);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // A run with `events` stored events, left in `state`.
  int64_t MakeRun(const std::string& state, int events) {
    server::Run r;
    r.state = "queued";
    r.reason = "waiting";
    r.created_by = "alice";
    r.parameters_json = "{}";
    auto run = store_->CreateRun(r);
    EXPECT_TRUE(run.ok());
    for (int i = 0; i < events; ++i) {
      EXPECT_TRUE(
          store_->AppendEvent(run->id, "log", R"({"message":"line )" + std::to_string(i) + R"("})")
              .ok());
    }
    EXPECT_TRUE(store_->SetRunState(run->id, state, "because").ok());
    return run->id;
  }
  std::vector<RunEvent> Events(int64_t run) {
    auto events = store_->ListEvents(run, 0);
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<RunEvent>{};
  }
  std::unique_ptr<EventRetention> Retention(int64_t days) {
    EventRetention::Options options;
    options.days = days;
    options.run_thread = false;
    options.now = [this] { return now_; };
    return std::make_unique<EventRetention>(store_.get(), &log_, options);
  }

  std::filesystem::path dir_;
  Log log_{std::fopen("/dev/null", "w")};
  std::unique_ptr<Store> store_;
  const int64_t real_now_ = static_cast<int64_t>(std::time(nullptr));
  int64_t now_ = real_now_;
};

TEST_F(EventRetentionClock, DeletesTheEventsOfRunsFinishedLongAgoNeverOfAnUnfinishedRun) {
  int64_t succeeded = MakeRun("succeeded", 3);
  int64_t failed = MakeRun("failed", 2);
  int64_t running = MakeRun("running", 4);
  int64_t queued = MakeRun("queued", 1);
  int64_t silent = MakeRun("cancelled", 0);
  auto retention = Retention(30);

  // 29 days later nothing is old enough.
  auto pruned = retention->Sweep(real_now_ + 29 * kDay);
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_EQ(*pruned, 0);
  EXPECT_EQ(Events(succeeded).size(), 3u);
  EXPECT_EQ(Events(failed).size(), 2u);

  // 31 days later the two finished runs with events lose them; one marker event says so, numbered
  // after the last one. The running and queued runs keep everything.
  pruned = retention->Sweep(real_now_ + 31 * kDay);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 2);
  std::vector<RunEvent> left = Events(succeeded);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].seq, 4);
  EXPECT_EQ(left[0].event, "events_deleted");
  json data = json::parse(left[0].data);
  EXPECT_EQ(data["deleted"], 3);
  EXPECT_EQ(data["reason"],
            "the run finished more than 30 days ago; its events were deleted "
            "(--event-retention-days 30)");
  ASSERT_EQ(Events(failed).size(), 1u);
  EXPECT_EQ(Events(failed)[0].seq, 3);
  EXPECT_EQ(Events(running).size(), 4u);
  EXPECT_EQ(Events(queued).size(), 1u);
  EXPECT_TRUE(Events(silent).empty());
  // The runs themselves stay.
  EXPECT_EQ(store_->GetRun(succeeded)->state, "succeeded");

  // Sweeping again changes nothing (the marker is not pruned again), and a later event of a
  // pruned run continues the numbering: a client's Last-Event-ID stays meaningful.
  pruned = retention->Sweep(real_now_ + 40 * kDay);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 0);
  EXPECT_EQ(Events(succeeded).size(), 1u);
  auto seq = store_->AppendEvent(succeeded, "log", "{}");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 5);

  // However old, an unfinished run is never pruned; once it finished, it is.
  EXPECT_EQ(*retention->Sweep(real_now_ + 1000 * kDay), 1);  // only `succeeded`'s late event
  EXPECT_EQ(Events(running).size(), 4u);
  ASSERT_TRUE(store_->SetRunState(running, "lost", "executor gone").ok());
  EXPECT_EQ(*retention->Sweep(real_now_ + 1000 * kDay), 1);
  ASSERT_EQ(Events(running).size(), 1u);
  EXPECT_EQ(Events(running)[0].seq, 5);
  EXPECT_EQ(Events(queued).size(), 1u);

  // Retention off (0 days): nothing is ever deleted.
  int64_t old = MakeRun("succeeded", 2);
  EXPECT_EQ(*Retention(0)->Sweep(real_now_ + 5000 * kDay), 0);
  EXPECT_EQ(Events(old).size(), 2u);
}

// The frames of an event stream that ended (the run is finished).
std::vector<std::pair<int64_t, std::string>> ReadFinishedStream(httplib::Client& client,
                                                                const std::string& token,
                                                                int64_t run) {
  auto res = client.Get("/api/v1/runs/" + std::to_string(run) + "/events", Bearer(token));
  EXPECT_TRUE(res && res->status == 200);
  std::vector<std::pair<int64_t, std::string>> out;
  if (!res) {
    return out;
  }
  std::string body = res->body;
  size_t pos = 0;
  while ((pos = body.find("id: ", pos)) != std::string::npos) {
    int64_t id = std::stoll(body.substr(pos + 4));
    size_t ev = body.find("event: ", pos) + 7;
    out.emplace_back(id, body.substr(ev, body.find('\n', ev) - ev));
    pos = ev;
  }
  return out;
}

TEST(EventRetentionServer, TheFlagPrunesFinishedRunsAtStartAndKeepsTheRest) {
  std::filesystem::path dir = InitDataDir();
  ASSERT_FALSE(dir.empty());
  int64_t finished = 0, unfinished = 0;
  {
    auto store = Store::Open(dir.string(), /*create=*/false);
    ASSERT_TRUE(store.ok());
    for (auto [state, id] :
         {std::pair<const char*, int64_t*>{"succeeded", &finished}, {"running", &unfinished}}) {
      server::Run r;
      r.state = "queued";
      r.reason = "waiting";
      r.created_by = "alice";
      r.parameters_json = "{}";
      auto run = (*store)->CreateRun(r);
      ASSERT_TRUE(run.ok());
      *id = run->id;
      for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE((*store)->AppendEvent(run->id, "log", "{}").ok());
      }
      ASSERT_TRUE((*store)->SetRunState(run->id, state, "because").ok());
    }
  }
  // Both runs changed last 3 days ago (the store's own clock cannot be turned back).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Store::DatabasePath(dir.string()).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE runs SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', "
                         "'-3 days')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  EXPECT_EQ(RunServerCommand({"serve", "--data-dir", dir.string(), "--event-retention-days", "-1"})
                .exit_code,
            2);
  auto server = ServerProcess::Start(dir, {"--event-retention-days", "2"});
  ASSERT_NE(server, nullptr);
  // The first sweep runs at start; its log line says how many runs it pruned.
  json sweep;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (sweep.is_null() && std::chrono::steady_clock::now() < deadline) {
    for (const auto& line : server->LogLines()) {
      json doc = json::parse(line, nullptr, false);
      if (doc.is_object() && doc.value("msg", "") == "event retention") {
        sweep = doc;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(sweep.is_null()) << "no sweep logged";
  EXPECT_EQ(sweep["fields"]["days"], "2");
  // The run left running by the previous process is marked lost at start (now): not pruned.
  EXPECT_EQ(sweep["fields"]["runs_pruned"], "1");

  auto client = server->Client();
  auto token = client->Post("/api/v1/tokens",
                            {httplib::make_basic_authentication_header("root", kAdminPassword)}, "",
                            "application/json");
  ASSERT_TRUE(token && token->status == 201);
  std::string admin = json::parse(token->body)["token"];
  EXPECT_EQ(ReadFinishedStream(*client, admin, finished),
            (std::vector<std::pair<int64_t, std::string>>{{4, "events_deleted"}}));
  auto kept = ReadFinishedStream(*client, admin, unfinished);
  ASSERT_GE(kept.size(), 3u);
  EXPECT_EQ(kept[0], (std::pair<int64_t, std::string>{1, "log"}));
  EXPECT_EQ(kept[2], (std::pair<int64_t, std::string>{3, "log"}));
  server.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir.parent_path(), ec);
}

}  // namespace
}  // namespace aqueducts::server::testing

// Schedules: cron expressions, IANA time zones read from the zone files, and the scheduler's
// firing rules through a fake clock (no waiting minutes), then the HTTP API of the real
// aqueducts-server binary.

#include "server/schedules.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;

// RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" to seconds since the epoch.
int64_t Utc(const std::string& text) {
  int y, mo, d, h, mi, s;
  EXPECT_EQ(std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s), 6) << text;
  int64_t days = std::chrono::sys_days(std::chrono::year(y) / mo / d).time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60 + s;
}

std::vector<std::string> NextN(const std::string& cron, const std::string& zone,
                               const std::string& after, int n) {
  auto spec = ParseCron(cron);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  auto tz = TimeZone::Load(zone);
  EXPECT_TRUE(tz.ok()) << tz.status().message();
  std::vector<std::string> out;
  int64_t t = Utc(after);
  for (int i = 0; i < n; ++i) {
    auto next = NextFireTime(*spec, *tz, t);
    if (!next.ok()) {
      break;
    }
    t = *next;
    out.push_back(FormatLocal(t, *tz));
  }
  return out;
}

TEST(Cron, FieldsWithRangesStepsListsAndNames) {
  EXPECT_EQ(NextN("*/20 9-10 * * *", "UTC", "2026-06-01T09:30:00Z", 4),
            (std::vector<std::string>{"2026-06-01T09:40:00+00:00", "2026-06-01T10:00:00+00:00",
                                      "2026-06-01T10:20:00+00:00", "2026-06-01T10:40:00+00:00"}));
  // Mondays, Wednesdays and Fridays at 08:15 and 17:45; 2026-06-01 is a Monday.
  EXPECT_EQ(NextN("15,45 8/9 * * MON,wed,5", "UTC", "2026-06-01T08:15:00Z", 4),
            (std::vector<std::string>{"2026-06-01T08:45:00+00:00", "2026-06-01T17:15:00+00:00",
                                      "2026-06-01T17:45:00+00:00", "2026-06-03T08:15:00+00:00"}));
  // Day-of-month and day-of-week both restricted: either matches (the 13th, or a Friday).
  EXPECT_EQ(NextN("0 0 13 * 5", "UTC", "2026-02-01T00:00:00Z", 4),
            (std::vector<std::string>{"2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00",
                                      "2026-02-20T00:00:00+00:00", "2026-02-27T00:00:00+00:00"}));
  // Ranges with steps; month names.
  EXPECT_EQ(NextN("0 12 1-10/3 FEB-MAR *", "UTC", "2026-01-01T00:00:00Z", 5),
            (std::vector<std::string>{"2026-02-01T12:00:00+00:00", "2026-02-04T12:00:00+00:00",
                                      "2026-02-07T12:00:00+00:00", "2026-02-10T12:00:00+00:00",
                                      "2026-03-01T12:00:00+00:00"}));
  // Day-of-week 7 is Sunday, as 0 is.
  EXPECT_EQ(NextN("0 12 * * 7", "UTC", "2026-06-01T00:00:00Z", 2),
            (std::vector<std::string>{"2026-06-07T12:00:00+00:00", "2026-06-14T12:00:00+00:00"}));
  // 29 February: the next leap year.
  EXPECT_EQ(NextN("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 1),
            (std::vector<std::string>{"2028-02-29T00:00:00+00:00"}));
  EXPECT_EQ(NextN("@hourly", "UTC", "2026-01-01T00:00:00Z", 1),
            (std::vector<std::string>{"2026-01-01T01:00:00+00:00"}));
}

TEST(Cron, BadExpressionsNameTheFieldAndItem) {
  struct Case {
    std::string text, message;
  };
  for (const Case& c : std::vector<Case>{
           {"61 * * * *", "minute field '61': 61 is out of range 0-59"},
           {"* 24 * * *", "hour field '24': 24 is out of range 0-23"},
           {"* * 0 * *", "day-of-month field '0': 0 is out of range 1-31"},
           {"* * * FOO *", "month field 'FOO': unknown name 'FOO'"},
           {"* * * * 8", "day-of-week field '8': 8 is out of range 0-7"},
           {"*/0 * * * *", "minute field '*/0': step '0' must be a number from 1 to 59"},
           {"5-2 * * * *", "minute field '5-2': range 5-2 ends before it starts"},
           {"1,,2 * * * *", "minute field '1,,2': an empty list item"},
           {"x * * * *", "minute field 'x': 'x' is not a number"},
           {"* * * *", "has 4 fields; expected 5"},
           {"@often", "unknown macro '@often'"},
       }) {
    auto r = ParseCron(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << r.status().message();
  }
}

TEST(TimeZones, BerlinOffsetsFollowDaylightSavingTime) {
  auto tz = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(tz.ok()) << tz.status().message();
  EXPECT_EQ(tz->OffsetAt(Utc("2026-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(tz->OffsetAt(Utc("2026-07-15T12:00:00Z")), 7200);
  // 2026-03-29 01:00 UTC the clocks go 02:00 -> 03:00; 2026-10-25 01:00 UTC back 03:00 -> 02:00.
  EXPECT_EQ(tz->OffsetAt(Utc("2026-03-29T00:59:59Z")), 3600);
  EXPECT_EQ(tz->OffsetAt(Utc("2026-03-29T01:00:00Z")), 7200);
  EXPECT_EQ(tz->OffsetAt(Utc("2026-10-25T00:59:59Z")), 7200);
  EXPECT_EQ(tz->OffsetAt(Utc("2026-10-25T01:00:00Z")), 3600);
  // Far beyond the file's table of transitions the footer's rule applies: still correct.
  EXPECT_EQ(tz->OffsetAt(Utc("2090-03-26T00:59:59Z")), 3600);
  EXPECT_EQ(tz->OffsetAt(Utc("2090-03-26T01:00:00Z")), 7200);
  EXPECT_EQ(tz->OffsetAt(Utc("2090-10-29T01:00:00Z")), 3600);
}

TEST(TimeZones, ThePosixRuleAgreesWithTheTransitionTables) {
  // Every hour of 2024-2036 (inside the files' transition tables): the footer rule computes
  // the same offset as the table. Northern and southern hemisphere, and the US rule.
  struct Case {
    std::string zone, rule;
  };
  for (const Case& c : std::vector<Case>{{"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
                                         {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
                                         {"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
                                         {"Asia/Kolkata", "IST-5:30"}}) {
    auto tz = TimeZone::Load(c.zone);
    ASSERT_TRUE(tz.ok()) << tz.status().message();
    auto rule = TimeZone::ParseRule(c.rule);
    ASSERT_TRUE(rule.ok()) << rule.status().message();
    int mismatches = 0;
    for (int64_t t = Utc("2024-01-01T00:00:00Z"); t < Utc("2036-12-31T00:00:00Z"); t += 3600) {
      if (tz->OffsetAt(t) != rule->OffsetAt(t) && ++mismatches < 3) {
        ADD_FAILURE() << c.zone << " at " << FormatUtc(t);
      }
    }
    EXPECT_EQ(mismatches, 0) << c.zone;
  }
}

TEST(TimeZones, UnknownNamesAreRefused) {
  for (const std::string name : {"Mars/Olympus_Mons", "../../etc/passwd", "", "Europe/"}) {
    auto tz = TimeZone::Load(name);
    ASSERT_FALSE(tz.ok()) << name;
    EXPECT_EQ(tz.status().code(), StatusCode::kInvalidArgument);
  }
  ASSERT_TRUE(TimeZone::Load("UTC").ok());
}

TEST(Schedules, NextFireTimesAcrossBerlinsDaylightSavingChanges) {
  // 02:30 daily: on 29 March 2026 02:30 does not exist (02:00 -> 03:00) and the run fires at
  // the change, 03:00 CEST; on 25 October 02:30 happens twice and the run fires once, at the
  // first (CEST).
  EXPECT_EQ(NextN("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 4),
            (std::vector<std::string>{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
                                      "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"}));
  EXPECT_EQ(NextN("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 3),
            (std::vector<std::string>{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
                                      "2026-10-27T02:30:00+01:00"}));
  // Every 30 minutes through the spring change: 02:00 and 02:30 collapse into 03:00 once.
  EXPECT_EQ(NextN("*/30 * * * *", "Europe/Berlin", "2026-03-29T00:15:00Z", 4),
            (std::vector<std::string>{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00",
                                      "2026-03-29T03:30:00+02:00", "2026-03-29T04:00:00+02:00"}));
  // 09:00 local stays 09:00 local: the UTC instant moves by the hour.
  auto spec = ParseCron("0 9 * * *");
  auto berlin = TimeZone::Load("Europe/Berlin");
  ASSERT_TRUE(spec.ok() && berlin.ok());
  EXPECT_EQ(FormatUtc(*NextFireTime(*spec, *berlin, Utc("2026-03-28T10:00:00Z"))),
            "2026-03-29T07:00:00Z");
  EXPECT_EQ(FormatUtc(*NextFireTime(*spec, *berlin, Utc("2026-03-27T10:00:00Z"))),
            "2026-03-28T08:00:00Z");
  // An expression that never fires.
  auto never = ParseCron("0 0 30 2 *");
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(NextFireTime(*never, *berlin, Utc("2026-01-01T00:00:00Z")).status().code(),
            StatusCode::kNotFound);
}

constexpr char kPipeline[] = R"(version: v2
sources:
  - type: file
    name: readings
    format:
      type: csv
      options:
        has_header: true
    location: /tmp/readings.csv
stages:
  - - name: s
      query: SELECT * FROM readings
destination:
  type: file
  name: out
  format:
    type: csv
  location: ${out}
)";

// The real Store (SQLite in a temporary directory, or a fresh database on the PostgreSQL the
// tests start) and RunManager, a Scheduler on a fake clock.
class SchedulerClock : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      dir_ = MakeTempDir("sched");
    } else {
      auto url = FreshPostgresDatabase();
      ASSERT_TRUE(url.ok()) << "PostgreSQL did not start: " << url.status().ToString();
      url_ = *url;
    }
    Open();
    auto p = store_->CreatePipeline("nightly", "yaml", kPipeline, "[\"out\"]", "alice");
    ASSERT_TRUE(p.ok()) << p.status().message();
    pipeline_id_ = p->pipeline_id;
  }
  void TearDown() override {
    Close();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  void Open() {
    auto store = GetParam() == Backend::kSqlite ? Store::Open(dir_.string(), /*create=*/true)
                                                : Store::OpenPostgres(url_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->MarkUnfinishedRunsLost().ok());
    runs_ = std::make_unique<RunManager>(store_.get(), &log_, RunManager::Options{});
    Scheduler::Options options;
    options.run_thread = false;
    options.now = [this] { return now_; };
    scheduler_ = std::make_unique<Scheduler>(store_.get(), runs_.get(), &log_, options);
  }
  // Stop everything, as a server process that goes down.
  void Close() {
    scheduler_.reset();
    if (runs_) {
      runs_->Shutdown();
    }
    runs_.reset();
    store_.reset();
  }
  std::vector<ScheduleFire> Fires(int64_t id) {
    auto fires = store_->ListFires(id, 100);
    EXPECT_TRUE(fires.ok());
    return fires.ok() ? *fires : std::vector<ScheduleFire>{};
  }
  int64_t RunCount() {
    auto runs = store_->ListRuns(RunFilter{});
    return runs.ok() ? static_cast<int64_t>(runs->size()) : -1;
  }

  std::filesystem::path dir_;
  std::string url_;
  Log log_{std::fopen("/dev/null", "w")};
  std::unique_ptr<Store> store_;
  std::unique_ptr<RunManager> runs_;
  std::unique_ptr<Scheduler> scheduler_;
  int64_t pipeline_id_ = 0;
  int64_t now_ = Utc("2026-06-01T10:20:00Z");
};

TEST_P(SchedulerClock, FiresSkipsWhileItsRunIsGoingAndStartsOneRunAfterDowntime) {
  ScheduleRequest request;
  request.pipeline_id = pipeline_id_;
  request.cron = "0 * * * *";
  request.time_zone = "Europe/Berlin";
  request.parameters = {{"out", "/tmp/out.csv"}};
  request.target.label = "region=eu";
  auto created = scheduler_->Create(request, "alice");
  ASSERT_TRUE(created.ok()) << created.status().message();
  int64_t id = created->id;
  EXPECT_EQ(FormatUtc(created->next_fire_at), "2026-06-01T11:00:00Z");

  // Not yet due: nothing happens.
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T10:59:59Z")).ok());
  EXPECT_TRUE(Fires(id).empty());
  EXPECT_EQ(RunCount(), 0);

  // Due: a run is queued with the schedule's parameters and target.
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T11:00:00Z")).ok());
  auto fires = Fires(id);
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(fires[0].outcome, "started");
  EXPECT_EQ(FormatUtc(fires[0].fire_at), "2026-06-01T11:00:00Z");
  auto run = store_->GetRun(fires[0].run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state, "queued");  // no executor has label region=eu
  EXPECT_EQ(run->created_by, "schedule " + std::to_string(id));
  EXPECT_EQ(run->target_label, "region=eu");
  EXPECT_EQ(json::parse(run->parameters_json), json({{"out", "/tmp/out.csv"}}));
  EXPECT_NE(run->pipeline_json.find("/tmp/out.csv"), std::string::npos);
  // The same instant again fires nothing more.
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T11:00:30Z")).ok());
  EXPECT_EQ(Fires(id).size(), 1u);

  // The next hour: the run is still queued, so this fire is skipped with that reason.
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T12:00:01Z")).ok());
  fires = Fires(id);
  ASSERT_EQ(fires.size(), 2u);
  EXPECT_EQ(fires[0].outcome, "skipped");
  EXPECT_EQ(fires[0].run_id, 0);
  EXPECT_EQ(fires[0].reason,
            "skipped: run " + std::to_string(run->id) + " of this schedule is still queued");
  EXPECT_EQ(RunCount(), 1);

  // Once that run finished (cancelled here), the next fire starts a new run.
  ASSERT_TRUE(runs_->Cancel(run->id, "alice").ok());
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T13:00:00Z")).ok());
  fires = Fires(id);
  ASSERT_EQ(fires.size(), 3u);
  EXPECT_EQ(fires[0].outcome, "started");
  EXPECT_EQ(RunCount(), 2);

  // The server goes down at 13:10 with that run queued and comes back at 18:30: the run is
  // marked lost at start-up, five fire times passed (14:00 .. 18:00), and one run is started,
  // for 18:00; the four before it are counted as missed.
  Close();
  now_ = Utc("2026-06-01T18:30:00Z");
  Open();
  ASSERT_TRUE(scheduler_->Tick(now_).ok());
  fires = Fires(id);
  ASSERT_EQ(fires.size(), 4u);
  EXPECT_EQ(fires[0].outcome, "started");
  EXPECT_EQ(FormatUtc(fires[0].fire_at), "2026-06-01T18:00:00Z");
  EXPECT_EQ(fires[0].missed, 4);
  EXPECT_EQ(fires[0].reason, "started run " + std::to_string(fires[0].run_id) +
                                 "; 4 earlier fire times (from 2026-06-01T14:00:00Z) passed "
                                 "while the server was not running and were not run");
  EXPECT_EQ(RunCount(), 3);
  auto schedule = store_->GetSchedule(id);
  ASSERT_TRUE(schedule.ok());
  EXPECT_EQ(FormatUtc(schedule->next_fire_at), "2026-06-01T19:00:00Z");
  EXPECT_EQ(schedule->last_run_id, fires[0].run_id);
}

TEST_P(SchedulerClock, APausedScheduleDoesNotFireAndResumesFromNow) {
  ScheduleRequest request;
  request.pipeline_id = pipeline_id_;
  request.cron = "*/15 * * * *";
  request.parameters = {{"out", "/tmp/out.csv"}};
  auto created = scheduler_->Create(request, "alice");
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(FormatUtc(created->next_fire_at), "2026-06-01T10:30:00Z");
  ASSERT_TRUE(scheduler_->SetPaused(created->id, true).ok());
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T15:00:00Z")).ok());
  EXPECT_TRUE(Fires(created->id).empty());
  auto paused = store_->GetSchedule(created->id);
  ASSERT_TRUE(paused.ok());
  EXPECT_TRUE(scheduler_->NextFireTimes(*paused, 5)->empty());
  // Resumed at 15:05: the fire times missed while paused are not run.
  now_ = Utc("2026-06-01T15:05:00Z");
  auto resumed = scheduler_->SetPaused(created->id, false);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(FormatUtc(resumed->next_fire_at), "2026-06-01T15:15:00Z");
  auto next = scheduler_->NextFireTimes(*resumed, 3);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, (std::vector<int64_t>{Utc("2026-06-01T15:15:00Z"), Utc("2026-06-01T15:30:00Z"),
                                         Utc("2026-06-01T15:45:00Z")}));
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T15:15:00Z")).ok());
  auto fires = Fires(created->id);
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(fires[0].missed, 0);
  EXPECT_EQ(fires[0].outcome, "started");
}

TEST_P(SchedulerClock, ARunThatCannotStartIsRecordedAsAnError) {
  ScheduleRequest request;
  request.pipeline_id = pipeline_id_;
  request.cron = "0 12 * * *";
  request.parameters = {{"out", "/tmp/out.csv"}};
  auto created = scheduler_->Create(request, "alice");
  ASSERT_TRUE(created.ok());
  // Missing parameters are refused on creation, as a run would refuse them.
  request.parameters.clear();
  auto missing = scheduler_->Create(request, "alice");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kTemplateError);
  // The pipeline is deleted later: the fire says why no run started.
  ASSERT_TRUE(store_->DeletePipeline(pipeline_id_).ok());
  ASSERT_TRUE(scheduler_->Tick(Utc("2026-06-01T12:00:00Z")).ok());
  auto fires = Fires(created->id);
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(fires[0].outcome, "error");
  EXPECT_NE(fires[0].reason.find("No pipeline with id"), std::string::npos) << fires[0].reason;
}

INSTANTIATE_TEST_SUITE_P(Backends, SchedulerClock,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// The HTTP API of the real server binary.
class ScheduleApi : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = TestStore::Init(GetParam());
    ASSERT_NE(store_, nullptr);
    server_ = store_->Serve();
    ASSERT_NE(server_, nullptr);
    client_ = server_->Client();
    admin_ = Token("root", kAdminPassword);
    for (const auto& [name, role] : {std::pair{"vera", "viewer"}, std::pair{"otto", "operator"}}) {
      auto res = client_->Post(
          "/api/v1/users", Bearer(admin_),
          json{{"name", name}, {"password", std::string(name) + "-password"}, {"role", role}}
              .dump(),
          "application/json");
      ASSERT_TRUE(res && res->status == 201);
    }
    viewer_ = Token("vera", "vera-password");
    operator_ = Token("otto", "otto-password");
    auto res =
        client_->Post("/api/v1/pipelines", Bearer(admin_),
                      json{{"name", "nightly"}, {"format", "yaml"}, {"text", kPipeline}}.dump(),
                      "application/json");
    ASSERT_TRUE(res && res->status == 201) << (res ? res->body : "");
    pipeline_id_ = json::parse(res->body)["id"].get<int64_t>();
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
  }
  std::string Token(const std::string& user, const std::string& password) {
    auto res =
        client_->Post("/api/v1/tokens", {httplib::make_basic_authentication_header(user, password)},
                      "", "application/json");
    return res && res->status == 201 ? json::parse(res->body).value("token", "") : "";
  }
  httplib::Result Post(const std::string& path, const std::string& token, const json& body) {
    return client_->Post(path.c_str(), Bearer(token), body.is_null() ? "" : body.dump(),
                         "application/json");
  }

  std::unique_ptr<TestStore> store_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_, viewer_, operator_;
  int64_t pipeline_id_ = 0;
};

TEST_P(ScheduleApi, CreateListPauseResumeDeleteWithRoles) {
  json body = {{"pipeline_id", pipeline_id_},
               {"cron", "30 2 * * *"},
               {"time_zone", "Europe/Berlin"},
               {"parameters", {{"out", "/tmp/o.csv"}}},
               {"executor", "eu-1"}};
  // A viewer reads but does not create.
  auto res = Post("/api/v1/schedules", viewer_, body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  res = Post("/api/v1/schedules", operator_, body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  json s = json::parse(res->body);
  EXPECT_EQ(s["cron"], "30 2 * * *");
  EXPECT_EQ(s["time_zone"], "Europe/Berlin");
  EXPECT_EQ(s["executor"], "eu-1");
  EXPECT_EQ(s["paused"], false);
  EXPECT_EQ(s["created_by"], "otto");
  EXPECT_EQ(s["parameters"], json({{"out", "/tmp/o.csv"}}));
  EXPECT_TRUE(s["last_fire"].is_null());
  ASSERT_EQ(s["next_fire_times"].size(), 5u);
  ASSERT_EQ(s["next_fire_times_local"].size(), 5u);
  for (const auto& t : s["next_fire_times_local"]) {
    std::string local = t.get<std::string>();
    // 02:30 Berlin time, or 03:00 on the day the clocks skip 02:00-03:00.
    EXPECT_TRUE(local.find("T02:30:00+0") != std::string::npos ||
                local.find("T03:00:00+02:00") != std::string::npos)
        << local;
  }
  std::string id = std::to_string(s["id"].get<int64_t>());

  auto list = client_->Get("/api/v1/schedules", Bearer(viewer_));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200);
  ASSERT_EQ(json::parse(list->body)["schedules"].size(), 1u);
  auto one = client_->Get(("/api/v1/schedules/" + id).c_str(), Bearer(viewer_));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200);
  EXPECT_TRUE(json::parse(one->body)["fires"].is_array());

  res = Post("/api/v1/schedules/" + id + "/pause", viewer_, nullptr);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  res = Post("/api/v1/schedules/" + id + "/pause", operator_, nullptr);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["paused"], true);
  EXPECT_TRUE(json::parse(res->body)["next_fire_times"].empty());
  res = Post("/api/v1/schedules/" + id + "/resume", admin_, nullptr);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["paused"], false);
  EXPECT_EQ(json::parse(res->body)["next_fire_times"].size(), 5u);

  auto del = client_->Delete(("/api/v1/schedules/" + id).c_str(), Bearer(viewer_));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 403);
  del = client_->Delete(("/api/v1/schedules/" + id).c_str(), Bearer(operator_));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  one = client_->Get(("/api/v1/schedules/" + id).c_str(), Bearer(viewer_));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 404);
  EXPECT_FALSE(json::parse(one->body)["error"].get<std::string>().empty());
}

TEST_P(ScheduleApi, BadSchedulesAre400NamingTheField) {
  json good = {{"pipeline_id", pipeline_id_},
               {"cron", "0 * * * *"},
               {"parameters", {{"out", "/tmp/o.csv"}}}};
  struct Case {
    std::string key;
    json value;
    int status;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"cron", "61 * * * *", 400,
            "Field \"cron\": minute field '61': 61 is out of range 0-59"},
           {"cron", "* * *", 400, "Field \"cron\": '* * *' has 3 fields"},
           {"cron", "0 0 30 2 *", 400, "Field \"cron\": '0 0 30 2 *' never fires"},
           {"cron", 5, 400, "Field \"cron\" must be a string"},
           {"cron", nullptr, 400, "Field \"cron\" is required"},
           {"time_zone", "Mars/Olympus_Mons", 400,
            "Field \"time_zone\": unknown time zone 'Mars/Olympus_Mons'"},
           {"time_zone", "../etc/passwd", 400,
            "Field \"time_zone\": '../etc/passwd' is not a time"},
           {"pipeline_id", 999, 400, "Field \"pipeline_id\": no pipeline with id 999"},
           {"pipeline_id", "1", 400, "Field \"pipeline_id\" is required"},
           {"parameters", json::object(), 422, "Missing template parameters: out"},
           {"label", "noequals", 400, "Field \"label\""},
       }) {
    json body = good;
    if (c.value.is_null()) {
      body.erase(c.key);
    } else {
      body[c.key] = c.value;
    }
    auto res = Post("/api/v1/schedules", operator_, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.key << ": " << res->body;
    EXPECT_NE(json::parse(res->body).value("error", "").find(c.message), std::string::npos)
        << c.key << ": " << res->body;
  }
  auto list = client_->Get("/api/v1/schedules", Bearer(viewer_));
  ASSERT_TRUE(list);
  EXPECT_TRUE(json::parse(list->body)["schedules"].empty());
  auto res = client_->Post("/api/v1/schedules/77/pause", Bearer(operator_), "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, ScheduleApi,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace aqueducts::server::testing

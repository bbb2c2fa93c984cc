// The server's Store, the same tests on both backends: SQLite in a temporary directory and a real
// PostgreSQL started by the tests on 127.0.0.1 (pg_harness.h).

#include "server/store.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/pg_harness.h"
#include "server/test_harness.h"
#include "temp_dir.h"

namespace aqueducts::server::testing {
namespace {

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      dir_ = ::aqueducts::testing::MakeTempDir("store");
    } else {
      auto url = FreshPostgresDatabase();
      ASSERT_TRUE(url.ok()) << "PostgreSQL did not start: " << url.status().ToString();
      url_ = *url;
    }
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // A new connection to the same store (the migrations run again: they must find nothing to do).
  std::unique_ptr<Store> Open() {
    auto store = GetParam() == Backend::kSqlite ? Store::Open(dir_.string(), /*create=*/true)
                                                : Store::OpenPostgres(url_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  server::Run NewRun(int64_t pipeline_id, const std::string& state = "queued") {
    server::Run r;
    r.pipeline_id = pipeline_id;
    r.pipeline_version = 1;
    r.parameters_json = R"({"month":"jan"})";
    r.pipeline_json = R"({"version":"v2"})";
    r.state = state;
    r.reason = "waiting: looking for an executor";
    r.created_by = "alice";
    auto created = store_->CreateRun(r);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : server::Run();
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, MigrationsBuildTheSchemaOnceAndDataSurvivesReopening) {
  EXPECT_EQ(store_->schema_version(), 4);
  EXPECT_EQ(store_->Backend(), GetParam() == Backend::kSqlite ? "sqlite" : "postgresql");
  ASSERT_TRUE(store_->CreateUser("alice", "hash", Role::kAdmin).ok());
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->schema_version(), 4);
  auto users = again->CountUsers();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(*users, 1);
  if (GetParam() == Backend::kSqlite) {
    auto mode = store_->JournalMode();
    ASSERT_TRUE(mode.ok());
    EXPECT_EQ(*mode, "wal");
  } else {
    EXPECT_EQ(store_->JournalMode().status().code(), StatusCode::kUnsupported);
  }
}

TEST_P(StoreTest, UsersAndTokens) {
  auto alice = store_->CreateUser("alice", "pbkdf2-hash", Role::kAdmin);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_GT(alice->id, 0);
  auto bob = store_->CreateUser("Bob", "hash-2", Role::kViewer);
  ASSERT_TRUE(bob.ok());
  EXPECT_GT(bob->id, alice->id);
  auto taken = store_->CreateUser("alice", "x", Role::kViewer);
  EXPECT_EQ(taken.status().code(), StatusCode::kConflict);
  EXPECT_EQ(taken.status().message(), "A user named 'alice' already exists");

  auto found = store_->FindUser("alice");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->password_hash, "pbkdf2-hash");
  EXPECT_EQ((*found)->role, Role::kAdmin);
  EXPECT_FALSE(store_->FindUser("ALICE")->has_value()) << "names are case-sensitive";
  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[1].name, "Bob");

  auto token = store_->CreateToken(alice->id, "ci", "sha-1", Role::kOperator);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto second = store_->CreateToken(bob->id, "web ui", "sha-2", Role::kViewer);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->id, token->id);
  EXPECT_EQ(store_->CreateToken(bob->id, "dup", "sha-2", Role::kViewer).status().code(),
            StatusCode::kConflict);
  auto by_secret = store_->FindToken("sha-1");
  ASSERT_TRUE(by_secret.ok() && by_secret->has_value());
  EXPECT_EQ((*by_secret)->user_name, "alice");
  EXPECT_EQ((*by_secret)->role, Role::kOperator);
  EXPECT_EQ((*by_secret)->id, token->id);
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[1].user_name, "Bob");
  ASSERT_TRUE(store_->DeleteToken(token->id).ok());
  EXPECT_FALSE(store_->FindToken("sha-1")->has_value());
  EXPECT_EQ(store_->DeleteToken(token->id).code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, PipelineTextsAreKeptVerbatimAndVersioned) {
  // Edge texts: unicode, quotes, SQL placeholders and dollar quotes, 'NULL', empty lines,
  // a tab, CRLF, a long text.
  const std::string text =
      "# ünïcödé 管道 🚰\r\nstages:\n  - - name: s\n      query: SELECT '?', $1, $$x$$, "
      "'it''s' AS \"q\", 'NULL', '' -- ?1\n\n\t\n" +
      std::string(200000, 'x');
  auto v1 = store_->CreatePipeline("daily", "yaml", text, R"(["month"])", "alice");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->text, text);
  EXPECT_EQ(v1->parameters_json, R"(["month"])");
  EXPECT_EQ(store_->CreatePipeline("daily", "yaml", "x", "[]", "bob").status().code(),
            StatusCode::kConflict);
  auto other = store_->CreatePipeline("other", "json", "{}", "[]", "bob");
  ASSERT_TRUE(other.ok());

  auto v2 = store_->AddVersion(v1->pipeline_id, "daily-renamed", "toml", "a = 1\n", "[]", "bob");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->name, "daily-renamed");
  EXPECT_EQ(store_->AddVersion(v1->pipeline_id, "other", "toml", "b", "[]", "bob").status().code(),
            StatusCode::kConflict);
  EXPECT_EQ(store_->AddVersion(9999, "", "yaml", "b", "[]", "bob").status().code(),
            StatusCode::kNotFound);
  auto latest = store_->GetPipeline(v1->pipeline_id, 0);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->text, "a = 1\n");
  auto first = store_->GetPipeline(v1->pipeline_id, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->text, text);
  EXPECT_EQ(first->created_by, "alice");
  EXPECT_EQ(store_->GetPipeline(v1->pipeline_id, 3).status().code(), StatusCode::kNotFound);
  auto versions = store_->ListVersions(v1->pipeline_id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_TRUE((*versions)[0].text.empty());
  auto list = store_->ListPipelines();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].latest_version, 2);

  ASSERT_TRUE(store_->DeletePipeline(v1->pipeline_id).ok());
  EXPECT_EQ(store_->ListVersions(v1->pipeline_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeletePipeline(v1->pipeline_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListPipelines()->size(), 1u);
}

TEST_P(StoreTest, RunsStatesFiltersAndCounts) {
  server::Run a = NewRun(1);
  server::Run b = NewRun(2);
  server::Run c = NewRun(1);
  ASSERT_GT(c.id, b.id);
  ASSERT_GT(b.id, a.id);
  EXPECT_EQ(a.state, "queued");
  EXPECT_FALSE(a.created_at.empty());
  ASSERT_TRUE(store_->SetRunState(a.id, "running", "running on executor eu-1", "eu-1").ok());
  ASSERT_TRUE(store_->SetExecutionId(a.id, "6f1c0d9e-3b7a-4c1e-9a51-2f0c8d7e4b10").ok());
  ASSERT_TRUE(store_->SetRunState(a.id, "succeeded", "completed on executor eu-1").ok());
  auto got = store_->GetRun(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, "succeeded");
  EXPECT_EQ(got->executor_name, "eu-1") << "an empty executor name keeps the one set";
  EXPECT_EQ(got->execution_id, "6f1c0d9e-3b7a-4c1e-9a51-2f0c8d7e4b10");
  EXPECT_EQ(got->parameters_json, R"({"month":"jan"})");
  EXPECT_EQ(got->pipeline_json, R"({"version":"v2"})");
  EXPECT_EQ(store_->GetRun(12345).status().code(), StatusCode::kNotFound);

  auto ids = [](const Result<std::vector<server::Run>>& runs) {
    std::vector<int64_t> out;
    for (const auto& r : *runs) {
      out.push_back(r.id);
    }
    return out;
  };
  RunFilter all;
  EXPECT_EQ(ids(store_->ListRuns(all)), (std::vector<int64_t>{c.id, b.id, a.id}));
  RunFilter by_state;
  by_state.state = "queued";
  EXPECT_EQ(ids(store_->ListRuns(by_state)), (std::vector<int64_t>{c.id, b.id}));
  RunFilter by_pipeline;
  by_pipeline.pipeline_id = 1;
  EXPECT_EQ(ids(store_->ListRuns(by_pipeline)), (std::vector<int64_t>{c.id, a.id}));
  RunFilter by_executor;
  by_executor.executor = "eu-1";
  EXPECT_EQ(ids(store_->ListRuns(by_executor)), (std::vector<int64_t>{a.id}));
  RunFilter page;
  page.before_id = c.id;
  page.limit = 1;
  EXPECT_EQ(ids(store_->ListRuns(page)), (std::vector<int64_t>{b.id}));
  RunFilter since;
  since.created_since = "2999-01-01T00:00:00.000Z";
  EXPECT_TRUE(store_->ListRuns(since)->empty());
  since.created_since = a.created_at;
  EXPECT_EQ(store_->ListRuns(since)->size(), 3u);
  auto counts = store_->CountRunsByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["queued"], 2);
  EXPECT_EQ((*counts)["succeeded"], 1);
  EXPECT_EQ(counts->count("failed"), 0u);

  // At start-up: queued runs are lost; assigned ones are kept for their executor when asked.
  ASSERT_TRUE(store_->SetRunState(b.id, "running", "running on executor eu-2", "eu-2").ok());
  ASSERT_TRUE(store_->MarkUnfinishedRunsLost(/*keep_assigned=*/true).ok());
  EXPECT_EQ(store_->GetRun(b.id)->state, "running");
  EXPECT_EQ(store_->GetRun(c.id)->state, "lost");
  EXPECT_EQ(store_->GetRun(c.id)->reason,
            "the server stopped while the run was queued; it is not re-run automatically");
  ASSERT_TRUE(store_->MarkUnfinishedRunsLost().ok());
  EXPECT_EQ(store_->GetRun(b.id)->state, "lost");
  EXPECT_EQ(store_->GetRun(b.id)->reason,
            "the server stopped while the run was running; it is not re-run automatically");
  EXPECT_EQ(store_->GetRun(a.id)->state, "succeeded") << "a finished run is never touched";
}

TEST_P(StoreTest, EventsAreNumberedWithoutGapsAndResentEventsAreStoredOnce) {
  server::Run run = NewRun(1);
  auto first = store_->AppendEvent(run.id, "run_state", R"({"state":"queued"})");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 1);
  std::vector<SequencedEvent> batch = {{1, "started", "{}"},
                                       {2, "progress", R"({"ü":"'?$1"})"},
                                       {4, "completed", "{}"}};  // 3 is missing: a gap
  std::vector<SequencedEvent> stored;
  auto acked = store_->AppendExecutorEvents(run.id, batch, &stored);
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  EXPECT_EQ(*acked, 2);
  EXPECT_EQ(stored.size(), 2u);
  stored.clear();
  batch = {{2, "progress", "{}"}, {3, "log", "{}"}, {4, "completed", "{}"}};  // 2 is a resend
  acked = store_->AppendExecutorEvents(run.id, batch, &stored);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 4);
  EXPECT_EQ(stored.size(), 2u);
  EXPECT_EQ(*store_->AppendEvent(run.id, "run_state", R"({"state":"succeeded"})"), 6);
  auto events = store_->ListEvents(run.id, 0);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> names;
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].seq, static_cast<int64_t>(i + 1));
    names.push_back((*events)[i].event);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"run_state", "started", "progress", "log", "completed",
                                             "run_state"}));
  EXPECT_EQ((*events)[2].data, R"({"ü":"'?$1"})");
  EXPECT_EQ(store_->ListEvents(run.id, 4)->size(), 2u);
  std::vector<SequencedEvent> none;
  EXPECT_EQ(store_->AppendExecutorEvents(999, batch, &none).status().code(), StatusCode::kNotFound);

  // Retention: a finished run's events become one marker numbered after them; an unfinished
  // run is never pruned; a pruned run is not pruned again.
  server::Run open = NewRun(1);
  ASSERT_TRUE(store_->AppendEvent(open.id, "run_state", "{}").ok());
  ASSERT_TRUE(store_->SetRunState(run.id, "succeeded", "completed").ok());
  auto pruned = store_->PruneEventsOfRunsFinishedBefore("2999-01-01T00:00:00.000Z", "old");
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 1);
  events = store_->ListEvents(run.id, 0);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].seq, 7);
  EXPECT_EQ((*events)[0].event, "events_deleted");
  EXPECT_EQ((*events)[0].data, R"({"deleted":6,"reason":"old"})");
  EXPECT_EQ(store_->ListEvents(open.id, 0)->size(), 1u);
  EXPECT_EQ(*store_->PruneEventsOfRunsFinishedBefore("2999-01-01T00:00:00.000Z", "old"), 0);
}

TEST_P(StoreTest, ExecutorEnrolmentBindsTheTokenToOneName) {
  ASSERT_TRUE(store_->CreateRegistrationToken("reg-1", "alice").ok());
  auto reg2 = store_->CreateRegistrationToken("reg-2", "alice");
  ASSERT_TRUE(reg2.ok());
  EXPECT_GT(reg2->id, 0);
  auto eu = store_->EnrolExecutor("reg-1", "eu-1", "cred-1", R"({"region":"eu"})");
  ASSERT_TRUE(eu.ok()) << eu.status().ToString();
  EXPECT_EQ(eu->name, "eu-1");
  EXPECT_EQ(store_->EnrolExecutor("reg-1", "eu-2", "cred-x", "{}").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->EnrolExecutor("reg-2", "eu-1", "cred-y", "{}").status().code(),
            StatusCode::kConflict);
  EXPECT_EQ(store_->EnrolExecutor("nope", "eu-3", "cred-z", "{}").status().code(),
            StatusCode::kNotFound);
  // The same executor again: a new credential replaces the old one.
  auto again = store_->EnrolExecutor("reg-1", "eu-1", "cred-2", R"({"region":"eu"})");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, eu->id);
  EXPECT_FALSE(store_->FindExecutorByCredential("cred-1")->has_value());
  auto by_cred = store_->FindExecutorByCredential("cred-2");
  ASSERT_TRUE(by_cred.ok() && by_cred->has_value());
  EXPECT_EQ((*by_cred)->name, "eu-1");
  ASSERT_TRUE(store_->EnrolExecutor("reg-2", "US-1", "cred-3", "{}").ok());
  ASSERT_TRUE(store_->SetExecutorLabels("US-1", R"({"region":"us"})").ok());
  auto list = store_->ListExecutors();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  // Sorted bytewise on both backends: upper case before lower case.
  EXPECT_EQ((*list)[0].name, "US-1");
  EXPECT_EQ((*list)[0].labels_json, R"({"region":"us"})");
  EXPECT_EQ((*list)[1].name, "eu-1");
}

TEST_P(StoreTest, SchedulesAndTheirFires) {
  Schedule s;
  s.pipeline_id = 3;
  s.cron = "*/15 * * * *";
  s.time_zone = "Europe/Berlin";
  s.parameters_json = R"({"k":"v"})";
  s.target_label = "region=eu";
  s.next_fire_at = 4102444800;  // 2100-01-01, beyond 32 bits
  s.created_by = "otto";
  auto created = store_->CreateSchedule(s);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  auto got = store_->GetSchedule(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->next_fire_at, 4102444800);
  EXPECT_EQ(got->time_zone, "Europe/Berlin");
  EXPECT_FALSE(got->paused);
  got->paused = true;
  got->last_run_id = 17;
  ASSERT_TRUE(store_->UpdateSchedule(*got).ok());
  EXPECT_TRUE(store_->GetSchedule(created->id)->paused);
  ScheduleFire fire;
  fire.schedule_id = created->id;
  fire.fire_at = 4102444800;
  fire.outcome = "skipped";
  fire.missed = 2;
  fire.reason = "run 17 is still running";
  got->next_fire_at = 4102445700;
  ASSERT_TRUE(store_->RecordFire(*got, fire).ok());
  fire.outcome = "started";
  fire.run_id = 18;
  ASSERT_TRUE(store_->RecordFire(*got, fire).ok());
  auto fires = store_->ListFires(created->id, 10);
  ASSERT_TRUE(fires.ok());
  ASSERT_EQ(fires->size(), 2u);
  EXPECT_EQ((*fires)[0].outcome, "started") << "newest first";
  EXPECT_EQ((*fires)[1].missed, 2);
  EXPECT_EQ((*fires)[1].reason, "run 17 is still running");
  EXPECT_EQ(store_->GetSchedule(created->id)->next_fire_at, 4102445700);
  EXPECT_EQ(store_->ListSchedules()->size(), 1u);
  ASSERT_TRUE(store_->DeleteSchedule(created->id).ok());
  EXPECT_TRUE(store_->ListFires(created->id, 10)->empty());
  EXPECT_EQ(store_->GetSchedule(created->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateSchedule(*got).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteSchedule(created->id).code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, ATextWithANulCharacter) {
  const std::string text = std::string("a\0b", 3);
  auto v = store_->CreatePipeline("nul", "yaml", text, "[]", "alice");
  if (GetParam() == Backend::kSqlite) {
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(store_->GetPipeline(v->pipeline_id, 1)->text, text);
  } else {
    // PostgreSQL text cannot hold NUL: refused, never stored cut short; nothing half-written.
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << v.status().ToString();
    EXPECT_NE(v.status().message().find("NUL"), std::string::npos);
    EXPECT_TRUE(store_->ListPipelines()->empty());
    EXPECT_TRUE(store_->CreatePipeline("nul", "yaml", "ok", "[]", "alice").ok())
        << "the store still works after the refused write";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace aqueducts::server::testing

// The executor binary over real HTTP: auth, validation, SSE events, queue, cancellation.
#include <atomic>
#include <future>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "executor/test_harness.h"
#include "protocol/events.h"

namespace aqueducts::executor::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Wait until GET /api/status reports `state`.
bool WaitForState(ExecutorProcess& executor, const std::string& state, milliseconds timeout) {
  auto client = executor.Client();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto res = client->Get("/api/status", Auth());
    if (res && res->status == 200 && json::parse(res->body)["status"] == state) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

bool Healthy(ExecutorProcess& executor) {
  auto res = executor.Client()->Get("/api/health");
  return res && res->status == 200;
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    executor_ = ExecutorProcess::Start({"--max-queue", "1", "--keepalive-ms", "200"});
    ASSERT_NE(executor_, nullptr) << "the executor did not start";
  }

  // A long query submitted on its own connection, and its execution id.
  struct BackgroundRun {
    std::future<StreamResult> result;
    std::string id;  ///< empty when `event` did not arrive within 15 s
  };
  // Submit kLongQuery in the background and wait for its first `event` message.
  BackgroundRun StartLongRun(const std::string& event) {
    auto id_promise = std::make_shared<std::promise<std::string>>();
    auto id_set = std::make_shared<std::atomic<bool>>(false);
    auto id_future = id_promise->get_future();
    BackgroundRun run;
    run.result = std::async(std::launch::async, [this, id_promise, id_set, event] {
      auto c = executor_->Client();
      return Submit(*c, PipelineBody({kLongQuery}), [&](const protocol::SseMessage& m) {
        if (m.event == event && !id_set->exchange(true)) {
          id_promise->set_value(protocol::Decode(m)->execution_id);
        }
        return true;
      });
    });
    if (id_future.wait_for(seconds(15)) == std::future_status::ready) {
      run.id = id_future.get();
    }
    return run;
  }

  std::unique_ptr<ExecutorProcess> executor_;
};

TEST_F(ExecutorTest, HealthNeedsNoKeyAndNamesTheVersion) {
  auto res = executor_->Client()->Get("/api/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  json body = json::parse(res->body);
  EXPECT_EQ(body["status"], "OK");
  EXPECT_EQ(body["version"], AQ_VERSION);
}

TEST_F(ExecutorTest, WrongOrMissingKeyIs401Json) {
  auto client = executor_->Client();
  for (const auto& headers : {httplib::Headers{}, Auth("wrong"), Auth(std::string(kKey) + "x"),
                              Auth(std::string(kKey).substr(1))}) {
    auto res = client->Get("/api/status", headers);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(json::parse(res->body)["error"].get<std::string>().rfind("Authentication failed", 0),
              0u);
  }
  StreamResult submit = Submit(*client, PipelineBody({"SELECT 1"}), nullptr, "nope");
  EXPECT_EQ(submit.status, 401);
  auto res = client->Get("/api/status", Auth());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["status"], "idle");
}

TEST_F(ExecutorTest, BadSubmissionsAre400NamingTheProblem) {
  auto client = executor_->Client();
  struct Case {
    std::string body;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"{not json", "not valid JSON"},
      {"[1,2]", "JSON object"},
      {R"({"pipe": {}})", "\"pipeline\""},
      {R"({"pipeline": 5})", "must be a JSON object"},
      {R"({"pipeline": {"sources": "x", "stages": []}})", "sources"},
      {R"({"pipeline": {"sources": [], "stages": [[{"name": "broken_stage", "query": 7}]]}})",
       "broken_stage"},
      {PipelineBody({"SELEC oops FROM"}), "stage_0"},
      {R"({"pipeline": {"sources": [], "stages": []}, "output_format": "xml"})",
       "\"output_format\" must be \"table\", \"csv\" or \"json\", not \"xml\""},
      {R"({"pipeline": {"sources": [], "stages": []}, "output_format": 1})", "output_format"},
  };
  for (const auto& c : cases) {
    StreamResult r = Submit(*client, c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_NE(body["error"].get<std::string>().find(c.expect), std::string::npos)
        << "body " << c.body << " answered " << r.body;
  }
  EXPECT_TRUE(Healthy(*executor_));
}

TEST_F(ExecutorTest, RunStreamsOrderedEventsEndingInCompleted) {
  auto client = executor_->Client();
  StreamResult r = Submit(*client, PipelineBody({"SELECT 42 AS answer", "SELECT * FROM stage_0"},
                                                /*show=*/0));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(r.messages.empty());
  EXPECT_EQ(r.messages.front().event, "queued");
  EXPECT_EQ(r.Last(), "completed");
  std::vector<std::string> order;
  int last_progress = -1;
  int finals = 0;
  std::string execution_id;
  protocol::OutputAssembler assembler;
  std::vector<StageOutput> outputs;
  for (const auto& m : r.messages) {
    auto decoded = protocol::Decode(m);
    ASSERT_TRUE(decoded.ok()) << m.event << ": " << m.data;
    if (execution_id.empty()) {
      execution_id = decoded->execution_id;
    }
    EXPECT_EQ(decoded->execution_id, execution_id) << m.event;
    if (m.event == "progress") {
      EXPECT_GT(decoded->percent, last_progress);
      EXPECT_LE(decoded->percent, 100);
      last_progress = decoded->percent;
    } else if (m.event == "stage_output") {
      if (auto out = assembler.Add(decoded->chunk)) {
        outputs.push_back(*out);
      }
    } else if (m.event != "log") {
      order.push_back(m.event);
    }
    finals += m.event == "completed" || m.event == "failed" || m.event == "cancelled";
  }
  EXPECT_EQ(finals, 1);
  EXPECT_EQ(last_progress, 100);
  std::vector<std::string> expected = {"queued",          "started",       "stage_started",
                                       "stage_completed", "stage_started", "stage_completed",
                                       "completed"};
  std::vector<std::string> filtered;
  for (const auto& e : order) {
    if (e != "stage_progress") {
      filtered.push_back(e);
    }
  }
  EXPECT_EQ(filtered, expected);
  ASSERT_FALSE(outputs.empty());
  EXPECT_NE(outputs.back().text.find("42"), std::string::npos);
}

TEST_F(ExecutorTest, FailedRunEndsInFailedWithTheMessage) {
  auto client = executor_->Client();
  StreamResult r = Submit(*client, PipelineBody({"SELECT * FROM no_such_table_xyz"}));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Last(), "failed");
  auto decoded = protocol::Decode(r.messages.back());
  ASSERT_TRUE(decoded.ok());
  EXPECT_NE(decoded->event.message.find("no_such_table_xyz"), std::string::npos);
  EXPECT_TRUE(WaitForState(*executor_, "idle", seconds(5)));
}

TEST_F(ExecutorTest, CancelEndpointInterruptsALongQueryThenServesTheNext) {
  auto client = executor_->Client();
  BackgroundRun run = StartLongRun("stage_started");
  ASSERT_FALSE(run.id.empty());
  std::string id = run.id;
  std::this_thread::sleep_for(milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  auto res = client->Post("/api/executions/" + id + "/cancel", Auth(), "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["status"], "cancelled");
  ASSERT_EQ(run.result.wait_for(seconds(10)), std::future_status::ready);
  StreamResult r = run.result.get();
  EXPECT_EQ(r.Last(), "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));

  res = client->Post("/api/executions/" + id + "/cancel", Auth(), "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["status"], "not_running");
  res = client->Post("/api/executions/00000000-0000-4000-8000-000000000000/cancel", Auth(), "",
                     "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["status"], "not_found");

  EXPECT_EQ(Submit(*client, PipelineBody({"SELECT 1"})).Last(), "completed");
}

TEST_F(ExecutorTest, DisconnectCancelsTheRunAndTheNextIsServed) {
  auto client = executor_->Client();
  auto start = std::chrono::steady_clock::now();
  StreamResult r = Submit(*client, PipelineBody({kLongQuery}), [](const protocol::SseMessage& m) {
    return m.event != "stage_started";  // hang up as soon as the query runs
  });
  EXPECT_TRUE(r.Has("stage_started"));
  EXPECT_TRUE(WaitForState(*executor_, "idle", seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(6));
  bool logged = false;
  for (const auto& line : executor_->LogLines()) {
    logged |= line.find("client disconnected") != std::string::npos;
  }
  EXPECT_TRUE(logged);
  EXPECT_EQ(Submit(*client, PipelineBody({"SELECT 1"})).Last(), "completed");
}

TEST_F(ExecutorTest, SecondSubmissionWaitsThirdGets429) {
  BackgroundRun first = StartLongRun("started");
  ASSERT_FALSE(first.id.empty());
  std::promise<void> second_queued;
  std::atomic<bool> queued_set{false};
  auto second = std::async(std::launch::async, [&] {
    auto c = executor_->Client();
    return Submit(*c, PipelineBody({"SELECT 2 AS two"}), [&](const protocol::SseMessage& m) {
      if (m.event == "queued" && !queued_set.exchange(true)) {
        second_queued.set_value();
      }
      return true;
    });
  });
  ASSERT_EQ(second_queued.get_future().wait_for(seconds(10)), std::future_status::ready);

  auto client = executor_->Client();
  StreamResult third = Submit(*client, PipelineBody({"SELECT 3"}));
  EXPECT_EQ(third.status, 429);
  ASSERT_EQ(third.headers_retry_after.size(), 1u);
  EXPECT_GT(std::stoi(third.headers_retry_after[0]), 0);
  EXPECT_NE(json::parse(third.body)["error"].get<std::string>().find("queue is full"),
            std::string::npos);

  auto status = client->Get("/api/status", Auth());
  ASSERT_TRUE(status);
  json s = json::parse(status->body);
  EXPECT_EQ(s["status"], "busy");
  EXPECT_EQ(s["queue"].size(), 1u);

  std::string id = first.id;
  auto res = client->Post("/api/executions/" + id + "/cancel", Auth(), "", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(first.result.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(first.result.get().Last(), "cancelled");
  ASSERT_EQ(second.wait_for(seconds(10)), std::future_status::ready);
  StreamResult r2 = second.get();
  EXPECT_EQ(r2.Last(), "completed");
  // It was told it waits (position 0: next), then it ran.
  auto q = protocol::Decode(r2.messages.front());
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->kind, protocol::DecodedMessage::Kind::kQueued);
  EXPECT_EQ(q->position, 0);
  EXPECT_TRUE(r2.Has("started"));
}

TEST_F(ExecutorTest, WaitingClientThatDisconnectsLeavesTheQueue) {
  BackgroundRun first = StartLongRun("started");
  ASSERT_FALSE(first.id.empty());
  auto client = executor_->Client();
  // Hang up as soon as we are told we wait.
  StreamResult waiting = Submit(*client, PipelineBody({"SELECT 1"}),
                                [](const protocol::SseMessage& m) { return m.event != "queued"; });
  EXPECT_TRUE(waiting.Has("queued"));
  bool left = false;
  for (int i = 0; i < 100 && !left; ++i) {
    auto res = client->Get("/api/status", Auth());
    left = res && json::parse(res->body)["queue"].empty();
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(left) << "the abandoned execution still waits";
  // The queue has room again although max-queue is 1.
  std::string id = first.id;
  auto second = std::async(std::launch::async, [&] {
    auto c = executor_->Client();
    return Submit(*c, PipelineBody({"SELECT 2"}));
  });
  std::this_thread::sleep_for(milliseconds(200));
  client->Post("/api/executions/" + id + "/cancel", Auth(), "", "application/json");
  ASSERT_EQ(first.result.wait_for(seconds(10)), std::future_status::ready);
  ASSERT_EQ(second.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(second.get().Last(), "completed");
}

TEST_F(ExecutorTest, SigtermCancelsTheRunAndExitsCleanly) {
  std::promise<void> running;
  std::atomic<bool> set{false};
  auto run = std::async(std::launch::async, [&] {
    auto c = executor_->Client();
    return Submit(*c, PipelineBody({kLongQuery}), [&](const protocol::SseMessage& m) {
      if (m.event == "stage_started" && !set.exchange(true)) {
        running.set_value();
      }
      return true;
    });
  });
  ASSERT_EQ(running.get_future().wait_for(seconds(15)), std::future_status::ready);
  kill(executor_->pid(), SIGTERM);
  int status = executor_->Wait(seconds(10));
  ASSERT_NE(status, -1) << "the executor did not stop";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(run.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_EQ(run.get().Last(), "cancelled");
}

TEST_F(ExecutorTest, LogLinesAreJsonObjects) {
  auto client = executor_->Client();
  EXPECT_EQ(Submit(*client, PipelineBody({"SELECT 1"})).Last(), "completed");
  auto lines = executor_->LogLines();
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    json doc = json::parse(line, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << line;
    EXPECT_TRUE(doc.contains("ts") && doc.contains("level") && doc.contains("msg")) << line;
  }
}

}  // namespace
}  // namespace aqueducts::executor::testing

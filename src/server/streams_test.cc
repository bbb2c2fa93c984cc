// Many clients following one run over SSE at once: each stream has a server thread of its own
// (serve --max-streams), so 120 readers of one run all get its whole history while ordinary
// requests are still answered; a stream beyond the bound is refused with 503, not queued.

#include <atomic>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kPipeline[] =
    "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT range AS i, 'zeile "
    "' || range AS label FROM range(3)\n      show: 3\n";

// The events of an SSE body as "id|event|data" lines; comments (keepalives) left out.
std::vector<std::string> Events(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream lines(body);
  std::string id, event, data;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("id: ", 0) == 0) {
      id = line.substr(4);
    } else if (line.rfind("event: ", 0) == 0) {
      event = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      data += line.substr(6);
    } else if (line.empty() && !event.empty()) {
      out.push_back(id + "|" + event + "|" + data);
      id.clear();
      event.clear();
      data.clear();
    }
  }
  return out;
}

// One SSE reader of a run's events on a thread of its own, reading until the stream ends or
// Stop() is called.
class Reader {
 public:
  Reader(int port, std::string token, int64_t run) {
    thread_ = std::thread([this, port, token, run] {
      httplib::Client client("127.0.0.1", port);
      client.set_connection_timeout(10, 0);
      client.set_read_timeout(120, 0);
      auto res =
          client.Get(("/api/v1/runs/" + std::to_string(run) + "/events").c_str(), Bearer(token),
                     [&](const httplib::Response& head) {
                       status_ = head.status;
                       return true;
                     },
                     [&](const char* data, size_t size) {
                       body_.append(data, size);
                       opened_ = status_ == 200;
                       return !stop_.load();
                     });
      if (!res && status_ == 0) {
        status_ = -1;
      }
      done_ = true;
    });
  }
  ~Reader() {
    Stop();
    Join();
  }
  void Stop() { stop_ = true; }
  void Join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  bool opened() const { return opened_; }
  bool done() const { return done_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  std::thread thread_;
  std::string body_;
  std::atomic<bool> opened_{false};
  std::atomic<bool> done_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> status_{0};
};

class ServerStreams : public ServerFixture {
 protected:
  // A stored pipeline and a run of it that waits for an executor with label pool=s.
  int64_t QueuedRun() {
    auto created = client_->Post(
        "/api/v1/pipelines", Bearer(admin_),
        json{{"name", "p"}, {"format", "yaml"}, {"text", kPipeline}}.dump(), "application/json");
    EXPECT_TRUE(created && created->status == 201) << (created ? created->body : "");
    int64_t pipeline = created ? json::parse(created->body).value("id", 0) : 0;
    auto run = client_->Post(("/api/v1/pipelines/" + std::to_string(pipeline) + "/runs").c_str(),
                             Bearer(admin_), R"({"label":"pool=s"})", "application/json");
    EXPECT_TRUE(run && run->status == 201) << (run ? run->body : "");
    return run && run->status == 201 ? json::parse(run->body).value("id", 0) : 0;
  }

  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::seconds limit) {
    for (auto deadline = Clock::now() + limit; Clock::now() < deadline;
         std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
      if (pred()) {
        return true;
      }
    }
    return pred();
  }
};

TEST_P(ServerStreams, HundredAndTwentyReadersOfOneRunGetItsWholeHistoryWhileTheApiAnswers) {
  StartServer({"--heartbeat-interval-ms", "1000"});
  int64_t run = QueuedRun();
  ASSERT_GT(run, 0);

  // More readers than the 32 threads for ordinary requests: all of them are served at once.
  constexpr int kReaders = 120;
  std::vector<std::unique_ptr<Reader>> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.push_back(std::make_unique<Reader>(server_->port(), admin_, run));
  }
  auto opened = [&] {
    int n = 0;
    for (const auto& r : readers) {
      n += r->opened() ? 1 : 0;
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return opened() == kReaders; }, std::chrono::seconds(60)))
      << opened() << " of " << kReaders << " streams opened";

  // With every stream open, ordinary requests are still answered.
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  auto runs = client_->Get("/api/v1/runs", Bearer(admin_));
  ASSERT_TRUE(runs) << httplib::to_string(runs.error());
  EXPECT_EQ(runs->status, 200);
  auto made = client_->Post("/api/v1/pipelines", Bearer(admin_),
                            json{{"name", "other"}, {"format", "yaml"}, {"text", kPipeline}}.dump(),
                            "application/json");
  ASSERT_TRUE(made) << httplib::to_string(made.error());
  EXPECT_EQ(made->status, 201) << made->body;

  // An executor with the label comes; the run goes through and every reader's stream ends.
  auto executor = executor::testing::ExecutorProcess::Start(
      {"--server-url", ServerUrl(), "--executor-id", "s-1", "--registration-token",
       RegistrationToken(), "--labels", "pool=s"});
  ASSERT_NE(executor, nullptr);
  executors_.push_back(std::move(executor));
  json done = WaitRun(run, [](const json& r) { return r["state"] == "succeeded"; });
  ASSERT_EQ(done["state"], "succeeded") << done;
  for (auto& r : readers) {
    r->Join();
  }

  // The whole history, as a reader arriving afterwards replays it, in every stream.
  auto replay =
      client_->Get(("/api/v1/runs/" + std::to_string(run) + "/events").c_str(), Bearer(admin_));
  ASSERT_TRUE(replay && replay->status == 200);
  std::vector<std::string> history = Events(replay->body);
  ASSERT_GE(history.size(), 5u) << replay->body;
  EXPECT_NE(replay->body.find("zeile 2"), std::string::npos) << replay->body;
  EXPECT_NE(history.back().find(R"("state":"succeeded")"), std::string::npos) << history.back();
  for (int i = 0; i < kReaders; ++i) {
    EXPECT_EQ(readers[i]->status(), 200) << "reader " << i;
    EXPECT_EQ(Events(readers[i]->body()), history) << "reader " << i;
  }
  readers.clear();
  EXPECT_TRUE(server_->Alive());
}

TEST_P(ServerStreams, AStreamBeyondMaxStreamsGets503AndAFreedSlotIsUsedAgain) {
  StartServer({"--max-streams", "3"});
  int64_t run = QueuedRun();
  ASSERT_GT(run, 0);
  std::vector<std::unique_ptr<Reader>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(std::make_unique<Reader>(server_->port(), admin_, run));
  }
  ASSERT_TRUE(
      WaitFor([&] { return readers[0]->opened() && readers[1]->opened() && readers[2]->opened(); },
              std::chrono::seconds(30)));

  auto refused =
      client_->Get(("/api/v1/runs/" + std::to_string(run) + "/events").c_str(), Bearer(admin_));
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Retry-After"), "5");
  json error = json::parse(refused->body, nullptr, false);
  ASSERT_TRUE(error.is_object()) << refused->body;
  EXPECT_NE(error.value("error", "").find("--max-streams"), std::string::npos) << refused->body;
  // Ordinary requests are not streams: they are still served.
  auto list = client_->Get("/api/v1/runs", Bearer(admin_));
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);

  // A reader leaves: its slot is free again once the server notices (at the next keepalive).
  readers[0]->Stop();
  ASSERT_TRUE(WaitFor([&] { return readers[0]->done(); }, std::chrono::seconds(30)));
  bool admitted = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto again = std::make_unique<Reader>(server_->port(), admin_, run);
        bool decided =
            WaitFor([&] { return again->opened() || again->done(); }, std::chrono::seconds(10));
        admitted = decided && again->opened();
        readers.push_back(std::move(again));
        return admitted;
      },
      std::chrono::seconds(30)));
  EXPECT_TRUE(admitted);
  for (auto& r : readers) {
    r->Stop();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerStreams,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace aqueducts::server::testing

// Server benchmarks (issue 12), recorded in docs/benchmarks.md "## Server". Real processes on
// 127.0.0.1: an aqueducts-server on a SQLite data directory and/or on a throwaway PostgreSQL
// (pg_harness.h, as the server tests), and one aqueducts-executor registered with it.
//  a. trigger to executor start: POST /api/v1/runs at t0, then the run's `started` event: its
//     ts_us (the executor's clock when it started the run) - t0, and when the client got it - t0;
//  b. event relay: executor -> server -> SSE client, the client's receive time - the event's
//     ts_us (the executor, server and client share this machine's clock);
//  c. 100 SSE clients following one run: every client must receive every event (a missing or
//     extra event is reported and makes the exit status 1), the delay distribution across
//     clients, the server's CPU time and RSS;
//  d. GET /api/v1/runs with 10,000 runs stored (written through the Store API while the server
//     is stopped, then the server restarted on the store).
// In b and c the run waits (its executor is busy with a blocking run) until the clients are
// connected, so that no event is a replay of one stored before a client connected.
// Usage: server_benchmark [sqlite|postgres|both (default)] [repetitions (default 30)]
//                         [stored runs (default 10000)]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "executor/test_harness.h"
#include "server/server_process.h"
#include "server/store.h"

namespace {

using namespace aqueducts;
using namespace aqueducts::server::testing;
using json = nlohmann::json;
using executor::testing::ExecutorProcess;

constexpr char kExecutor[] = "bench-1";

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Stats {
  size_t n = 0;
  double median = 0;
  double p95 = 0;
  double max = 0;
};

Stats Summarize(std::vector<double> v) {
  Stats s;
  std::sort(v.begin(), v.end());
  s.n = v.size();
  if (!v.empty()) {
    s.median = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, static_cast<size_t>(0.95 * v.size()))];
    s.max = v.back();
  }
  return s;
}

std::string Show(const Stats& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "n=%zu median %.2f ms, p95 %.2f ms, max %.2f ms", s.n, s.median,
                s.p95, s.max);
  return buf;
}

bool failed = false;

void Fail(const std::string& what) {
  std::fprintf(stderr, "FAILED: %s\n", what.c_str());
  failed = true;
}

/// One SSE frame of GET /api/v1/runs/{id}/events as a client received it.
struct Frame {
  int64_t id = 0;
  std::string event;
  json data;
  int64_t recv_us = 0;
};

/// Read the events of run `run` from the start to the end of the stream (the run's final
/// state). `on_open` runs when the response headers arrive; the return is every frame.
std::vector<Frame> ReadEvents(int port, const std::string& token, int64_t run,
                              const std::function<void()>& on_open = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(120, 0);
  std::vector<Frame> out;
  std::string buffer;
  auto res = client.Get(
      "/api/v1/runs/" + std::to_string(run) + "/events", Bearer(token),
      [&](const httplib::Response&) {
        if (on_open) {
          on_open();
        }
        return true;
      },
      [&](const char* data, size_t size) {
        int64_t now = NowUs();
        buffer.append(data, size);
        size_t end;
        while ((end = buffer.find("\n\n")) != std::string::npos) {
          std::string block = buffer.substr(0, end);
          buffer.erase(0, end + 2);
          Frame f;
          f.recv_us = now;
          std::string payload;
          std::istringstream lines(block);
          for (std::string line; std::getline(lines, line);) {
            if (line.rfind("id: ", 0) == 0) {
              f.id = std::atoll(line.c_str() + 4);
            } else if (line.rfind("event: ", 0) == 0) {
              f.event = line.substr(7);
            } else if (line.rfind("data: ", 0) == 0) {
              payload += (payload.empty() ? "" : "\n") + line.substr(6);
            }
          }
          if (!f.event.empty()) {
            f.data = json::parse(payload, nullptr, false);
            out.push_back(std::move(f));
          }
        }
        return true;
      });
  if (!res || res->status != 200) {
    Fail("GET events of run " + std::to_string(run) + ": " +
         (res ? std::to_string(res->status) : httplib::to_string(res.error())));
  }
  return out;
}

/// {"version":"v2", ...} with one stage per query (each its own group), no sources and no
/// destination.
json Pipeline(const std::vector<std::string>& queries) {
  json stages = json::array();
  for (size_t i = 0; i < queries.size(); ++i) {
    stages.push_back(
        json::array({json{{"name", "stage_" + std::to_string(i)}, {"query", queries[i]}}}));
  }
  return json{{"version", "v2"}, {"sources", json::array()}, {"stages", stages}};
}

/// Many small stages: each makes stage_started, stage_completed and progress events.
json ManyStages(int stages) {
  std::vector<std::string> queries;
  for (int i = 0; i < stages; ++i) {
    queries.push_back("SELECT sum(range) AS s FROM range(" + std::to_string(100000 + i) + ")");
  }
  return Pipeline(queries);
}

/// \brief One backend's server and executor, and the admin's token.
class Bench {
 public:
  explicit Bench(Backend backend) : backend_(backend) {}

  bool Start() {
    auto store = ServerStore::Init(backend_);
    if (!store.ok()) {
      Fail(store.status().message());
      return false;
    }
    store_ = std::move(store).value();
    return Serve() && StartExecutor();
  }

  bool Serve() {
    std::vector<std::string> args;
    if (port_ != 0) {
      args = {"--port", std::to_string(port_)};
    }
    server_ = store_->Serve(args);
    if (!server_) {
      Fail("the server did not start");
      return false;
    }
    port_ = server_->port();
    client_ = server_->Client();
    client_->set_keep_alive(true);
    if (admin_.empty()) {
      auto res = client_->Post("/api/v1/tokens",
                               {httplib::make_basic_authentication_header("root", kAdminPassword)},
                               "", "application/json");
      if (!res || res->status != 201) {
        Fail("POST /api/v1/tokens");
        return false;
      }
      admin_ = json::parse(res->body)["token"];
    }
    return true;
  }

  void StopServer() {
    executor_.reset();
    client_.reset();
    server_.reset();
  }

  bool StartExecutor() {
    auto res = client_->Post("/api/v1/executors/registration-tokens", Bearer(admin_), "",
                             "application/json");
    if (!res || res->status != 201) {
      Fail("POST /api/v1/executors/registration-tokens");
      return false;
    }
    std::string token = json::parse(res->body)["token"];
    executor_ = ExecutorProcess::Start({"--server-url", "http://127.0.0.1:" + std::to_string(port_),
                                        "--executor-id", kExecutor, "--registration-token", token,
                                        "--log-level", "warn"});
    if (!executor_) {
      Fail("the executor did not start");
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto list = client_->Get("/api/v1/executors", Bearer(admin_));
      if (list && list->status == 200) {
        json doc = json::parse(list->body, nullptr, false);
        for (const auto& e : doc["executors"]) {
          if (e["name"] == kExecutor && e["status"] == "idle" && e["connected"] == true) {
            return true;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Fail("the executor did not come online");
    return false;
  }

  /// POST /api/v1/runs with `pipeline` on the executor; the run id, 0 on failure.
  int64_t Trigger(const json& pipeline) {
    auto res = client_->Post("/api/v1/runs", Bearer(admin_),
                             json{{"pipeline", pipeline}, {"executor", kExecutor}}.dump(),
                             "application/json");
    if (!res || res->status != 201) {
      Fail("POST /api/v1/runs: " + (res ? res->body : httplib::to_string(res.error())));
      return 0;
    }
    return json::parse(res->body)["id"];
  }

  json GetRun(int64_t id) {
    auto res = client_->Get("/api/v1/runs/" + std::to_string(id), Bearer(admin_));
    return res && res->status == 200 ? json::parse(res->body) : json();
  }

  bool WaitState(int64_t id, const std::string& state) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      json r = GetRun(id);
      if (r.is_object() && r["state"] == state) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Fail("run " + std::to_string(id) + " did not become " + state);
    return false;
  }

  /// A run that keeps the executor busy until Release: later runs wait in the queue.
  int64_t Hold() {
    int64_t id = Trigger(Pipeline({executor::testing::kLongQuery}));
    return id != 0 && WaitState(id, "running") ? id : 0;
  }
  void Release(int64_t blocker) {
    auto res = client_->Post("/api/v1/runs/" + std::to_string(blocker) + "/cancel", Bearer(admin_),
                             "", "application/json");
    if (!res || res->status != 200) {
      Fail("cancel of the blocking run");
    }
  }

  // a. Trigger to executor start.
  void TriggerToStart(int reps) {
    std::vector<double> executor_start;
    std::vector<double> client_seen;
    json pipeline = Pipeline({"SELECT 1 AS x"});
    for (int i = 0; i < reps; ++i) {
      int64_t t0 = NowUs();
      int64_t id = Trigger(pipeline);
      if (id == 0) {
        return;
      }
      int64_t started_ts = 0;
      int64_t started_recv = 0;
      std::string final_state;
      for (const Frame& f : ReadEvents(port_, admin_, id)) {
        if (f.event == "started" && f.data.is_object()) {
          started_ts = f.data.value("ts_us", int64_t{0});
          started_recv = f.recv_us;
        }
        if (f.event == "run_state" && f.data.is_object()) {
          final_state = f.data.value("state", "");
        }
      }
      if (started_ts == 0 || final_state != "succeeded") {
        Fail("run " + std::to_string(id) + " ended '" + final_state + "' without a started event");
        return;
      }
      executor_start.push_back((started_ts - t0) / 1000.0);
      client_seen.push_back((started_recv - t0) / 1000.0);
    }
    Stats a = Summarize(executor_start);
    Stats b = Summarize(client_seen);
    std::printf("  a. trigger -> executor starts the run:   %s  (target < 100 ms: %s)\n",
                Show(a).c_str(), a.p95 < 100 ? "met" : "NOT met");
    std::printf("     trigger -> client sees `started`:     %s\n", Show(b).c_str());
  }

  // b. Relay delay executor -> server -> one SSE client.
  void Relay(int runs, int stages) {
    std::vector<double> delays;
    size_t replayed = 0;
    for (int i = 0; i < runs; ++i) {
      int64_t blocker = Hold();
      int64_t id = blocker ? Trigger(ManyStages(stages)) : 0;
      if (id == 0) {
        return;
      }
      std::atomic<int64_t> open_us{0};
      std::vector<Frame> frames;
      std::thread reader(
          [&] { frames = ReadEvents(port_, admin_, id, [&] { open_us = NowUs(); }); });
      while (open_us == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      Release(blocker);
      reader.join();
      for (const Frame& f : frames) {
        int64_t ts = f.data.is_object() ? f.data.value("ts_us", int64_t{0}) : 0;
        if (ts == 0) {
          continue;  // the server's own run_state events carry no executor time
        }
        if (ts < open_us) {
          ++replayed;
          continue;
        }
        delays.push_back((f.recv_us - ts) / 1000.0);
      }
    }
    Stats s = Summarize(delays);
    std::printf(
        "  b. event relay executor -> SSE client:   %s  (target < 50 ms: %s)%s\n", Show(s).c_str(),
        s.p95 < 50 ? "met" : "NOT met",
        replayed ? (" [" + std::to_string(replayed) + " replayed events left out]").c_str() : "");
  }

  // c. `clients` SSE clients on one run.
  void ManyClients(int clients, int stages) {
    int64_t blocker = Hold();
    int64_t id = blocker ? Trigger(ManyStages(stages)) : 0;
    if (id == 0) {
      return;
    }
    std::mutex mu;
    std::condition_variable cv;
    int open = 0;
    std::vector<std::vector<Frame>> got(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        got[c] = ReadEvents(port_, admin_, id, [&] {
          std::lock_guard<std::mutex> lock(mu);
          ++open;
          cv.notify_all();
        });
      });
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      if (!cv.wait_for(lock, std::chrono::seconds(60), [&] { return open == clients; })) {
        Fail(std::to_string(open) + " of " + std::to_string(clients) + " clients connected");
      }
    }
    ProcStat before = ReadProc(server_->pid());
    std::atomic<bool> sampling{true};
    int64_t peak_rss_kb = before.rss_kb;
    std::thread sampler([&] {
      while (sampling) {
        peak_rss_kb = std::max(peak_rss_kb, ReadProc(server_->pid()).rss_kb);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    auto t0 = std::chrono::steady_clock::now();
    Release(blocker);
    for (auto& t : threads) {
      t.join();
    }
    double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sampling = false;
    sampler.join();
    ProcStat after = ReadProc(server_->pid());

    // The reference: the whole history, read once more after the run ended.
    std::vector<Frame> all = ReadEvents(port_, admin_, id);
    std::vector<int64_t> ids;
    for (const Frame& f : all) {
      ids.push_back(f.id);
    }
    int complete = 0;
    std::vector<double> delays;
    std::vector<double> spread;  // per event: last client's receive - first client's
    std::map<int64_t, std::pair<int64_t, int64_t>> first_last;
    for (int c = 0; c < clients; ++c) {
      std::vector<int64_t> seen;
      for (const Frame& f : got[c]) {
        seen.push_back(f.id);
        int64_t ts = f.data.is_object() ? f.data.value("ts_us", int64_t{0}) : 0;
        if (ts > 0) {
          delays.push_back((f.recv_us - ts) / 1000.0);
        }
        auto [it, fresh] = first_last.emplace(f.id, std::make_pair(f.recv_us, f.recv_us));
        if (!fresh) {
          it->second.first = std::min(it->second.first, f.recv_us);
          it->second.second = std::max(it->second.second, f.recv_us);
        }
      }
      if (seen == ids) {
        ++complete;
        continue;
      }
      std::string missing;
      for (int64_t e : ids) {
        if (std::find(seen.begin(), seen.end(), e) == seen.end()) {
          missing += " " + std::to_string(e);
        }
      }
      Fail("client " + std::to_string(c) + " got " + std::to_string(seen.size()) + " of " +
           std::to_string(ids.size()) + " events; missing:" + missing);
    }
    for (const auto& [e, fl] : first_last) {
      spread.push_back((fl.second - fl.first) / 1000.0);
    }
    double cpu_s = (after.cpu_ticks - before.cpu_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::printf("  c. %d SSE clients, one run of %zu events: %d/%d clients got every event\n",
                clients, ids.size(), complete, clients);
    std::printf("     delay executor -> each client:        %s\n", Show(Summarize(delays)).c_str());
    std::printf("     per event, first to last client:      %s\n", Show(Summarize(spread)).c_str());
    std::printf("     server: %.2f s CPU in %.2f s wall; RSS %lld KiB before, peak %lld KiB\n",
                cpu_s, wall_s, static_cast<long long>(before.rss_kb),
                static_cast<long long>(peak_rss_kb));
  }

  // d. The runs list with `count` runs stored.
  void RunsList(int64_t count, int reps) {
    StopServer();  // the store is written while no server runs: nothing else changes the runs
    auto t0 = std::chrono::steady_clock::now();
    if (!InsertRuns(count)) {
      return;
    }
    double insert_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!Serve()) {
      return;
    }
    std::printf("  d. %lld runs stored through Store::CreateRun + SetRunState in %.1f s\n",
                static_cast<long long>(count), insert_s);
    struct Query {
      std::string path;
      int reps;
      bool target;
    };
    std::vector<Query> queries = {
        {"/api/v1/runs", reps, true},
        {"/api/v1/runs?state=failed", reps, true},
        {"/api/v1/runs?before=" + std::to_string(count / 2), reps, true},
        {"/api/v1/runs?pipeline_id=" + std::to_string(pipeline_id_), reps, true},
        {"/api/v1/runs?executor=" + std::string(kExecutor) + "&state=cancelled", reps, true},
        {"/api/v1/runs?limit=1000", std::max(3, reps / 5), false},
        {"/api/v1/runs?limit=10000", 3, false},
    };
    for (const Query& q : queries) {
      std::vector<double> ms;
      size_t rows = 0;
      for (int i = 0; i < q.reps; ++i) {
        auto start = std::chrono::steady_clock::now();
        auto res = client_->Get(q.path, Bearer(admin_));
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
        if (!res || res->status != 200) {
          Fail("GET " + q.path);
          return;
        }
        rows = json::parse(res->body)["runs"].size();
      }
      Stats s = Summarize(ms);
      std::printf(
          "     GET %-42s %5zu runs: %s%s\n", q.path.c_str(), rows, Show(s).c_str(),
          q.target ? (s.p95 < 50 ? "  (target < 50 ms: met)" : "  (target < 50 ms: NOT met)") : "");
    }
  }

  Backend backend() const { return backend_; }

 private:
  struct ProcStat {
    int64_t cpu_ticks = 0;  // utime + stime
    int64_t rss_kb = 0;
  };

  static ProcStat ReadProc(pid_t pid) {
    ProcStat out;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t close = text.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(text.substr(close + 2));
      std::vector<std::string> f;
      for (std::string x; fields >> x;) {
        f.push_back(x);
      }
      // After the command: state is field 3 (index 0 here); utime 14 and stime 15.
      if (f.size() > 12) {
        out.cpu_ticks = std::atoll(f[11].c_str()) + std::atoll(f[12].c_str());
      }
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmRSS:", 0) == 0) {
        out.rss_kb = std::atoll(line.c_str() + 6);
      }
    }
    return out;
  }

  // `count` finished runs of one stored pipeline, a tenth of them failed and a tenth cancelled,
  // all on kExecutor, written through the Store API (what the server itself calls).
  bool InsertRuns(int64_t count) {
    Result<std::unique_ptr<server::Store>> opened =
        backend_ == Backend::kSqlite ? server::Store::Open(store_->dir().string(), false)
                                     : server::Store::OpenPostgres(store_->url());
    if (!opened.ok()) {
      Fail("open the store: " + opened.status().ToString());
      return false;
    }
    server::Store& store = **opened;
    std::string text = Pipeline({"SELECT 1 AS x"}).dump();
    auto pipeline = store.CreatePipeline("bench", "json", text, "[]", "root");
    if (!pipeline.ok()) {
      Fail("CreatePipeline: " + pipeline.status().ToString());
      return false;
    }
    pipeline_id_ = pipeline->pipeline_id;
    for (int64_t i = 0; i < count; ++i) {
      server::Run run;
      run.pipeline_id = pipeline_id_;
      run.pipeline_version = 1;
      run.parameters_json = json{{"day", "2026-12-" + std::to_string(1 + i % 28)}}.dump();
      run.pipeline_json = text;
      run.target_executor = kExecutor;
      run.state = i % 10 == 3 ? "failed" : i % 10 == 7 ? "cancelled" : "succeeded";
      run.reason = run.state == "failed" ? "Binder Error: column x not found" : "";
      run.created_by = "root";
      auto created = store.CreateRun(run);
      Status s = created.ok()
                     ? store.SetRunState(created->id, run.state,
                                         run.state + " on executor " + kExecutor, kExecutor)
                     : created.status();
      if (!s.ok()) {
        Fail("storing run " + std::to_string(i) + ": " + s.ToString());
        return false;
      }
    }
    return true;
  }

  Backend backend_;
  std::unique_ptr<ServerStore> store_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ExecutorProcess> executor_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
  int port_ = 0;
  int64_t pipeline_id_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "both";
  int reps = argc > 2 ? std::atoi(argv[2]) : 30;
  int64_t stored = argc > 3 ? std::atoll(argv[3]) : 10000;
  if ((which != "sqlite" && which != "postgres" && which != "both") || reps < 1 || stored < 2) {
    std::fprintf(stderr,
                 "usage: server_benchmark [sqlite|postgres|both] [repetitions] [stored runs]\n");
    return 2;
  }
  std::vector<Backend> backends;
  if (which != "postgres") {
    backends.push_back(Backend::kSqlite);
  }
  if (which != "sqlite") {
    backends.push_back(Backend::kPostgres);
  }
  for (Backend backend : backends) {
    std::printf("%s\n", backend == Backend::kSqlite ? "SQLite" : "PostgreSQL");
    std::fflush(stdout);
    Bench bench(backend);
    if (!bench.Start()) {
      continue;
    }
    bench.TriggerToStart(reps);
    std::fflush(stdout);
    bench.Relay(3, 40);
    std::fflush(stdout);
    bench.ManyClients(100, 40);
    std::fflush(stdout);
    bench.RunsList(stored, reps);
    std::fflush(stdout);
  }
  return failed ? 1 : 0;
}

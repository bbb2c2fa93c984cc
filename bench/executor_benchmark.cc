// Executor benchmarks (issue 4), recorded in docs/benchmarks.md "## Executor":
//  1. overhead of a remote run (CLI RunRemote -> aqueducts-executor over HTTP+SSE) against the
//     same pipeline run locally (RunPipeline), for a pipeline of ~10 s;
//  2. delay from a stage finishing on the executor to the client seeing its stage_completed
//     event (the event's ts_us against the client's clock; same machine, same clock).
// Usage: executor_benchmark [rows (default 120000000)] [repetitions (default 3)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "cli/remote_client.h"
#include "executor/test_harness.h"
#include "protocol/events.h"

namespace {

using namespace aqueducts;
using namespace aqueducts::executor::testing;
using Clock = std::chrono::steady_clock;

Aqueduct HeavyPipeline(int64_t rows, const std::string& output) {
  Aqueduct aqueduct;
  std::string n = std::to_string(rows);
  aqueduct.stages = {
      {Stage{"numbers", "SELECT range AS id, hash(range) % 1000003 AS h FROM range(" + n + ")"}},
      {Stage{"grouped",
             "SELECT h % 200000 AS k, count(*) AS c, sum(id) AS s, min(h) AS lo "
             "FROM numbers GROUP BY 1"}},
  };
  FileDestination destination;
  destination.name = "out";
  destination.location = ParseLocation(output);
  aqueduct.destination = destination;
  return aqueduct;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = argc > 1 ? std::atoll(argv[1]) : 120000000;
  int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  auto executor = ExecutorProcess::Start({"--log-level", "warn"});
  if (!executor) {
    std::fprintf(stderr, "cannot start %s\n", AQ_EXECUTOR_BIN);
    return 1;
  }
  auto dir = MakeTempDir("bench");
  cli::RemoteOptions remote{"127.0.0.1:" + std::to_string(executor->port()), kKey, "", false};

  // 1. Overhead: alternate local and remote so both see the same machine load.
  std::vector<double> local_s;
  std::vector<double> remote_s;
  for (int i = 0; i < reps; ++i) {
    Aqueduct local =
        HeavyPipeline(rows, (dir / ("local" + std::to_string(i) + ".parquet")).string());
    auto t0 = Clock::now();
    Status s = RunPipeline(local, RunOptions{}, nullptr);
    local_s.push_back(Seconds(Clock::now() - t0));
    if (!s.ok()) {
      std::fprintf(stderr, "local run failed: %s\n", s.ToString().c_str());
      return 1;
    }
    Aqueduct far =
        HeavyPipeline(rows, (dir / ("remote" + std::to_string(i) + ".parquet")).string());
    RecordingSink sink;
    t0 = Clock::now();
    s = cli::RunRemote(remote, far, sink, nullptr);
    remote_s.push_back(Seconds(Clock::now() - t0));
    if (!s.ok()) {
      std::fprintf(stderr, "remote run failed: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("rep %d: local %.3f s, remote %.3f s\n", i, local_s.back(), remote_s.back());
  }
  double local_med = Median(local_s);
  double remote_med = Median(remote_s);
  std::printf("rows=%lld local median %.3f s, remote median %.3f s, overhead %+.2f%%\n",
              static_cast<long long>(rows), local_med, remote_med,
              (remote_med / local_med - 1) * 100);

  // 2. Delay from stage end to client event, over many small stages.
  std::vector<std::string> queries;
  for (int i = 0; i < 40; ++i) {
    queries.push_back("SELECT sum(range) AS s FROM range(" + std::to_string(200000 + i) + ")");
  }
  std::vector<double> delays_ms;
  auto client = executor->Client();
  for (int run = 0; run < 5; ++run) {
    StreamResult r = Submit(*client, PipelineBody(queries), [&](const protocol::SseMessage& m) {
      if (m.event == "stage_completed") {
        auto d = protocol::Decode(m);
        if (d.ok() && d->ts_us > 0) {
          delays_ms.push_back(static_cast<double>(NowUs() - d->ts_us) / 1000.0);
        }
      }
      return true;
    });
    if (r.Last() != "completed") {
      std::fprintf(stderr, "latency run ended with '%s'\n", r.Last().c_str());
      return 1;
    }
  }
  std::printf(
      "stage_completed delivery delay over %zu events: median %.3f ms, p95 %.3f ms, "
      "max %.3f ms\n",
      delays_ms.size(), Median(delays_ms), Percentile(delays_ms, 0.95), Percentile(delays_ms, 1.0));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

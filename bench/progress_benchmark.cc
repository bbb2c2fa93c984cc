// Progress overhead (issue 16), measured three ways so that a shared, noisy machine can still
// give a figure with its uncertainty:
//  1. Whole runs: the same single-stage CSV -> Parquet pipeline with progress off
//     (progress_interval_ms 0: no row tap, no polling, no events) and on (the default 250 ms,
//     with a sink that formats every event), in pairs (the order alternates from pair to pair),
//     wall and process CPU time (user + system, all threads). Per pair the relative difference
//     on vs off; the median and its distribution-free 95 % confidence interval (order
//     statistics of the binomial sign test).
//  2. The reporting path itself, in the "on" runs: events delivered, time spent in the sink,
//     and the CPU time of the monitor thread (read with CLOCK_THREAD_CPUTIME_ID from inside
//     the sink, on the thread that delivers the progress events; it includes the monitor's
//     spill and cancel watch, which runs with progress off too: an upper bound).
//  3. The row tap, the only part of progress that runs on the query's own threads: the same
//     in-memory scan with and without the tap (`__aq_row_tap`), interleaved, process CPU time
//     per query; the median paired difference divided by the chunks the scan passes gives the
//     tap's cost per chunk, which times the chunks of run 1 gives its share of that run.
// Prints Markdown for docs/benchmarks.md.
// Usage: progress_benchmark [rows=10000000] [pairs=15] [workdir=/tmp] [tap_reps=41]
//        progress_benchmark generate ROWS CSV; progress_benchmark one on|off CSV THREADS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "aqueducts/run.h"

using namespace aqueducts;

namespace {

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

// Seconds of CPU (user + system) of the whole process, every thread included.
double ProcessCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Counts events, formats each as a renderer would, and measures the reporting path: the time
// spent here and the CPU time of the thread that delivers the periodic progress events.
class MeasuringSink : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override {
    auto t0 = std::chrono::steady_clock::now();
    char line[256];
    std::snprintf(line, sizeof(line), "%s %lld rows %.0f%% %lld ms", event.name.c_str(),
                  static_cast<long long>(event.rows), event.percent,
                  static_cast<long long>(event.eta_ms));
    std::lock_guard<std::mutex> lock(mu_);
    chars_ += static_cast<int64_t>(std::strlen(line));
    events_++;
    if (event.type == ProgressEvent::Type::kStageProgress && event.percent < 100) {
      // Periodic reports come from the monitor thread only (a step's last one, at 100 %, comes
      // from the step's own thread).
      monitor_ = std::this_thread::get_id();
      monitor_cpu_ = std::max(monitor_cpu_, ThreadCpu());
    }
    in_sink_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  void OnOutput(const StageOutput&) override {}
  int64_t events() const { return events_; }
  double in_sink() const { return in_sink_; }
  double monitor_cpu() const { return monitor_cpu_; }

 private:
  std::mutex mu_;
  int64_t events_ = 0;
  int64_t chars_ = 0;
  double in_sink_ = 0;
  std::thread::id monitor_;
  double monitor_cpu_ = 0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// A distribution-free 95 % confidence interval for the median of `v`: the k-th smallest and
// k-th largest values, k the largest with P(Binomial(n, 1/2) < k) <= 2.5 %.
std::pair<double, double> MedianCi(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  int n = static_cast<int>(v.size());
  double cumulative = 0;
  int k = 0;
  for (int i = 0; i <= n; i++) {
    double p = std::exp(std::lgamma(n + 1) - std::lgamma(i + 1) - std::lgamma(n - i + 1) -
                        n * std::log(2.0));
    if (cumulative + p > 0.025) {
      break;
    }
    cumulative += p;
    k = i + 1;
  }
  if (k == 0) {
    return {v.front(), v.back()};  // too few samples for a 95 % interval
  }
  return {v[k - 1], v[n - k]};
}

struct Sample {
  double wall = 0;
  double cpu = 0;
};

// The benchmark's input: `rows` rows of four columns as CSV with a header.
void Generate(int64_t rows, const std::string& csv) {
  auto db = Database::Open();
  Check(db.status(), "open");
  Check((*db)->Execute("COPY (SELECT range AS id, hash(range) % 1000 AS v, 'name ' || range AS "
                       "name, range / 7.0 AS d FROM range(" +
                       std::to_string(rows) + ")) TO '" + csv + "' (HEADER)"),
        "generate");
}

// One stage streamed from the CSV file into one Parquet file: the most common pipeline.
Aqueduct PassThrough(const std::string& csv, const std::string& parquet) {
  Aqueduct aq;
  aq.sources = {FileSource{
      .name = "big", .format = {.format = FileFormat::kCsv}, .location = ParseLocation(csv)}};
  aq.stages = {{{.name = "pass", .query = "SELECT * FROM big"}}};
  aq.destination = FileDestination{.name = "out",
                                   .location = ParseLocation(parquet),
                                   .format = {.format = FileFormat::kParquet}};
  return aq;
}

}  // namespace

// `progress_benchmark one on|off CSV THREADS`: one run of the pipeline below over an existing CSV
// file, for bench/progress_instructions.sh, which counts the instructions of each under
// callgrind: a figure that the load of a shared machine does not move.
int RunOnce(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: progress_benchmark one on|off CSV THREADS\n");
    return 2;
  }
  bool progress = std::strcmp(argv[2], "on") == 0;
  std::filesystem::path csv = argv[3];
  Aqueduct aq = PassThrough(csv.string(), (csv.parent_path() / "out.parquet").string());
  RunOptions options;
  options.database_options.threads = std::atoi(argv[4]);
  options.progress_interval_ms = progress ? 250 : 0;
  MeasuringSink sink;
  Check(RunPipeline(aq, options, progress ? &sink : nullptr), "run");
  std::printf("progress %s: %lld events\n", progress ? "on" : "off",
              static_cast<long long>(sink.events()));
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "one") == 0) {
    return RunOnce(argc, argv);
  }
  if (argc > 3 && std::strcmp(argv[1], "generate") == 0) {
    Generate(std::atoll(argv[2]), argv[3]);
    return 0;
  }
  int64_t rows = argc > 1 ? std::atoll(argv[1]) : 10000000;
  int pairs = argc > 2 ? std::atoi(argv[2]) : 15;
  std::filesystem::path work = std::filesystem::path(argc > 3 ? argv[3] : "/tmp") /
                               ("aq_progress_bench_" + std::to_string(getpid()));
  int tap_reps = argc > 4 ? std::atoi(argv[4]) : 41;
  std::filesystem::create_directories(work);
  std::string csv = (work / "in.csv").string();
  Generate(rows, csv);
  Aqueduct aq = PassThrough(csv, (work / "out.parquet").string());

  // 1 and 2: whole runs in pairs.
  auto run = [&](bool progress, MeasuringSink* sink) {
    RunOptions options;
    options.progress_interval_ms = progress ? 250 : 0;
    double c0 = ProcessCpu();
    auto t0 = std::chrono::steady_clock::now();
    Check(RunPipeline(aq, options, progress ? sink : nullptr), "run");
    Sample s;
    s.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.cpu = ProcessCpu() - c0;
    return s;
  };
  std::vector<Sample> off, on;
  std::vector<double> d_wall, d_cpu, monitor_share, sink_share;
  int64_t events = 0;
  for (int i = 0; i < pairs; i++) {
    Sample a, b;
    MeasuringSink sink;
    if (i % 2 == 0) {
      a = run(false, nullptr);
      b = run(true, &sink);
    } else {
      b = run(true, &sink);
      a = run(false, nullptr);
    }
    off.push_back(a);
    on.push_back(b);
    d_wall.push_back((b.wall / a.wall - 1) * 100);
    d_cpu.push_back((b.cpu / a.cpu - 1) * 100);
    monitor_share.push_back(sink.monitor_cpu() / b.cpu * 100);
    sink_share.push_back(sink.in_sink() / b.wall * 100);
    events = std::max(events, sink.events());
    std::fprintf(stderr,
                 "pair %d: off %.3f s wall %.3f s cpu, on %.3f s wall %.3f s cpu; %lld events, "
                 "monitor thread %.2f ms cpu, sink %.3f ms\n",
                 i, a.wall, a.cpu, b.wall, b.cpu, static_cast<long long>(sink.events()),
                 sink.monitor_cpu() * 1e3, sink.in_sink() * 1e3);
  }
  std::vector<double> off_wall, on_wall, off_cpu, on_cpu;
  for (int i = 0; i < pairs; i++) {
    off_wall.push_back(off[i].wall);
    on_wall.push_back(on[i].wall);
    off_cpu.push_back(off[i].cpu);
    on_cpu.push_back(on[i].cpu);
  }

  // 3: the row tap on an in-memory scan.
  double tap_ns_per_chunk = 0;
  std::pair<double, double> tap_ci;
  int64_t tap_rows = 20000000;
  {
    Database::Options options;
    auto db = Database::Open(options);
    Check(db.status(), "open");
    Check((*db)->Execute("CREATE TABLE t AS SELECT range AS id, range % 1000 AS v FROM range(" +
                         std::to_string(tap_rows) + ")"),
          "table");
    const std::string plain = "SELECT sum(id), sum(v) FROM (SELECT * FROM t)";
    // Tap id 0 is never handed out: the rows count into a counter nobody reads, at the same cost.
    const std::string tapped = "SELECT sum(id), sum(v) FROM __aq_row_tap((SELECT * FROM t), 0)";
    auto cpu_of = [&](const std::string& sql) {
      double c0 = ProcessCpu();
      Check((*db)->Execute(sql), "scan");
      return ProcessCpu() - c0;
    };
    cpu_of(plain);
    cpu_of(tapped);
    std::vector<double> diff;
    for (int i = 0; i < tap_reps; i++) {
      double a = 0, b = 0;
      if (i % 2 == 0) {
        a = cpu_of(plain);
        b = cpu_of(tapped);
      } else {
        b = cpu_of(tapped);
        a = cpu_of(plain);
      }
      diff.push_back(b - a);
    }
    double chunks = static_cast<double>(tap_rows) / 2048.0;
    tap_ns_per_chunk = Median(diff) / chunks * 1e9;
    auto ci = MedianCi(diff);
    tap_ci = {ci.first / chunks * 1e9, ci.second / chunks * 1e9};
  }
  double run_chunks = static_cast<double>(rows) / 2048.0;
  double run_cpu = Median(on_cpu);
  auto tap_share = [&](double ns) { return ns * 1e-9 * run_chunks / run_cpu * 100; };

  auto wall_ci = MedianCi(d_wall);
  auto cpu_ci = MedianCi(d_cpu);
  auto mon_ci = MedianCi(monitor_share);
  std::printf("CSV -> Parquet, %lld rows, %d pairs, %lld progress events a run\n\n",
              static_cast<long long>(rows), pairs, static_cast<long long>(events));
  std::printf("| measure | off, median | on, median | on vs off, median of pairs | 95 %% CI |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf("| wall time (s) | %.3f | %.3f | %+.2f %% | %+.2f %% .. %+.2f %% |\n",
              Median(off_wall), Median(on_wall), Median(d_wall), wall_ci.first, wall_ci.second);
  std::printf("| process CPU time (s) | %.3f | %.3f | %+.2f %% | %+.2f %% .. %+.2f %% |\n\n",
              Median(off_cpu), Median(on_cpu), Median(d_cpu), cpu_ci.first, cpu_ci.second);
  std::printf("| reporting path, per \"on\" run | median | 95 %% CI |\n|---|---|---|\n");
  std::printf("| monitor thread CPU, share of the run's CPU | %.4f %% | %.4f %% .. %.4f %% |\n",
              Median(monitor_share), mon_ci.first, mon_ci.second);
  auto sink_ci = MedianCi(sink_share);
  std::printf("| time in the sink, share of the run's wall time | %.5f %% | %.5f %% .. %.5f %% |\n",
              Median(sink_share), sink_ci.first, sink_ci.second);
  std::printf(
      "| row tap: %.1f ns a chunk (95 %% CI %.1f .. %.1f; %d in-memory scans of %lld rows "
      "each way), share of the run's CPU | %.4f %% | %.4f %% .. %.4f %% |\n",
      tap_ns_per_chunk, tap_ci.first, tap_ci.second, tap_reps, static_cast<long long>(tap_rows),
      tap_share(tap_ns_per_chunk), tap_share(tap_ci.first), tap_share(tap_ci.second));
  std::filesystem::remove_all(work);
  return 0;
}

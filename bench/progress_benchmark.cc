// Progress overhead (issue 16): the same single-stage CSV -> Parquet pipeline with progress off
// (progress_interval_ms 0: no row tap, no polling, no events) and on (the default 250 ms, with a
// sink that formats every event as the terminal renderer would be fed), runs interleaved,
// median of each. Prints a Markdown row for docs/benchmarks.md.
// Usage: progress_benchmark [rows=10000000] [reps=5] [workdir=/tmp]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

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

// Counts events and does a little work with each, as a real sink would.
class CountingSink : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override {
    events_.fetch_add(1);
    chars_.fetch_add(static_cast<int64_t>(event.name.size() + std::to_string(event.rows).size()));
  }
  void OnOutput(const StageOutput&) override {}
  int64_t events() const { return events_.load(); }

 private:
  std::atomic<int64_t> events_{0};
  std::atomic<int64_t> chars_{0};
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = argc > 1 ? std::atoll(argv[1]) : 10000000;
  int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  std::filesystem::path work = std::filesystem::path(argc > 3 ? argv[3] : "/tmp") /
                               ("aq_progress_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(work);
  std::string csv = (work / "in.csv").string();
  {
    auto db = Database::Open();
    Check(db.status(), "open");
    Check((*db)->Execute("COPY (SELECT range AS id, hash(range) % 1000 AS v, 'name ' || range AS "
                         "name, range / 7.0 AS d FROM range(" +
                         std::to_string(rows) + ")) TO '" + csv + "' (HEADER)"),
          "generate");
  }
  Aqueduct aq;
  aq.sources = {FileSource{
      .name = "big", .format = {.format = FileFormat::kCsv}, .location = ParseLocation(csv)}};
  aq.stages = {{{.name = "pass", .query = "SELECT * FROM big"}}};
  aq.destination = FileDestination{.name = "out",
                                   .location = ParseLocation((work / "out.parquet").string()),
                                   .format = {.format = FileFormat::kParquet}};
  std::vector<double> off, on;
  int64_t events = 0;
  for (int i = 0; i < 2 * reps; i++) {
    bool progress = i % 2 == 1;
    RunOptions options;
    options.progress_interval_ms = progress ? 250 : 0;
    CountingSink sink;
    auto t0 = std::chrono::steady_clock::now();
    Check(RunPipeline(aq, options, progress ? &sink : nullptr), "run");
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    (progress ? on : off).push_back(s);
    events = std::max(events, sink.events());
    std::fprintf(stderr, "run %d progress=%d %.3f s\n", i, progress ? 1 : 0, s);
  }
  double m_off = Median(off), m_on = Median(on);
  std::printf("| CSV -> Parquet, %lld rows | %.3f | %.3f | %+.2f%% | %lld |\n",
              static_cast<long long>(rows), m_off, m_on, (m_on / m_off - 1) * 100,
              static_cast<long long>(events));
  std::filesystem::remove_all(work);
  return 0;
}

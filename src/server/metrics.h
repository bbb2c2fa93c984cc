#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace aqueducts::server {

/// \brief A Prometheus histogram: cumulative buckets, sum and count (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  /// The text exposition lines of metric `name` (after its # HELP and # TYPE lines).
  std::string Render(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  ///< per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

/// \brief The server's run timings for /metrics (docs/server-api.md, "Metrics"): how long runs
/// waited in the queue (queued -> dispatched), how long dispatch took (dispatched -> the
/// executor's `started`) and how long runs ran (started -> final state). Kept since the
/// process started. Thread-safe.
class Metrics {
 public:
  Metrics();
  /// A run was queued now.
  void OnQueued(int64_t run_id);
  /// Run `run_id` entered `state` now.
  void OnState(int64_t run_id, const std::string& state);
  /// The histograms in the text exposition format.
  std::string RenderHistograms() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Times {
    Clock::time_point queued, dispatched, started;
    bool has_queued = false, has_dispatched = false, has_started = false;
  };
  mutable std::mutex mu_;
  std::map<int64_t, Times> times_;
  Histogram queue_wait_;
  Histogram dispatch_;
  Histogram run_;
};

}  // namespace aqueducts::server

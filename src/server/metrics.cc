#include "server/metrics.h"

#include <cstdio>

#include "server/runs.h"

namespace aqueducts::server {
namespace {

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) {
    ++i;
  }
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::Render(const std::string& name) const {
  std::string out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + Number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + Number(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
  return out;
}

Metrics::Metrics()
    : queue_wait_({0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600}),
      dispatch_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      run_({0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400}) {}

void Metrics::OnQueued(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Times& t = times_[run_id];
  t.queued = Clock::now();
  t.has_queued = true;
}

void Metrics::OnState(int64_t run_id, const std::string& state) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = Clock::now();
  auto it = times_.find(run_id);
  if (it == times_.end()) {
    if (IsFinalState(state)) {
      return;
    }
    it = times_.emplace(run_id, Times{}).first;
  }
  Times& t = it->second;
  if (state == "dispatched" && !t.has_dispatched) {
    t.dispatched = now;
    t.has_dispatched = true;
    if (t.has_queued) {
      queue_wait_.Observe(Seconds(now - t.queued));
    }
  } else if (state == "running" && !t.has_started) {
    t.started = now;
    t.has_started = true;
    if (t.has_dispatched) {
      dispatch_.Observe(Seconds(now - t.dispatched));
    }
  } else if (IsFinalState(state)) {
    if (t.has_started) {
      run_.Observe(Seconds(now - t.started));
    }
    times_.erase(it);
  }
}

std::string Metrics::RenderHistograms() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out +=
      "# HELP aqueducts_run_queue_seconds Time runs waited for an executor (queued to "
      "dispatched).\n# TYPE aqueducts_run_queue_seconds histogram\n";
  out += queue_wait_.Render("aqueducts_run_queue_seconds");
  out +=
      "# HELP aqueducts_run_dispatch_seconds Time from sending a run to its executor until the "
      "executor started it.\n# TYPE aqueducts_run_dispatch_seconds histogram\n";
  out += dispatch_.Render("aqueducts_run_dispatch_seconds");
  out +=
      "# HELP aqueducts_run_duration_seconds Time runs ran on their executor (started to "
      "succeeded, failed, cancelled or lost).\n# TYPE aqueducts_run_duration_seconds "
      "histogram\n";
  out += run_.Render("aqueducts_run_duration_seconds");
  return out;
}

}  // namespace aqueducts::server

#include "runner/run_monitor.h"

#include <algorithm>
#include <chrono>

namespace aqueducts::runner {
namespace {

// Cancellation is re-sent at this pace: DuckDB forgets an interrupt that arrives between two
// queries, so one call is not enough.
constexpr std::chrono::milliseconds kTick(50);

// An estimate of the time left is given once the percent has moved this far over this long from
// where it was first seen above 0: before that, a rate is mostly noise (a CSV scan reads 0%
// while it sniffs, then jumps).
constexpr double kEtaMinAdvance = 1.0;
constexpr std::chrono::milliseconds kEtaMinSpan(1000);

}  // namespace

int64_t RunMonitor::EstimateLeft(Watched& watched, std::chrono::steady_clock::time_point now) {
  if (watched.percent <= 0) {
    return -1;
  }
  if (watched.first_percent < 0) {
    watched.first_percent = watched.percent;
    watched.first_at = now;
    return -1;
  }
  double advanced = watched.percent - watched.first_percent;
  auto span = now - watched.first_at;
  if (watched.percent >= 100 || advanced < kEtaMinAdvance || span < kEtaMinSpan) {
    return watched.percent >= 100 ? 0 : -1;
  }
  double span_ms = std::chrono::duration<double, std::milli>(span).count();
  return static_cast<int64_t>(span_ms * (100.0 - watched.percent) / advanced);
}

RunMonitor::RunMonitor(engine::Session& session, const Emitter& emitter,
                       std::shared_ptr<CancelToken> cancel, int progress_interval_ms)
    : session_(session),
      emitter_(emitter),
      cancel_(std::move(cancel)),
      progress_interval_ms_(progress_interval_ms) {
  if (cancel_) {
    cancel_callback_ = cancel_->OnCancel([running = running_] { running->InterruptAll(); });
  }
  thread_ = std::thread([this] { Loop(); });
}

RunMonitor::~RunMonitor() {
  if (cancel_ && cancel_callback_ >= 0) {
    cancel_->RemoveCallback(cancel_callback_);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RunMonitor::Add(const std::string& name, engine::Connection* conn, const engine::RowTap* tap,
                     bool uploads) {
  int64_t uploads_base = uploads ? session_.UploadedBytes() : 0;
  std::lock_guard<std::mutex> lock(running_->mu);
  Watched watched;
  watched.name = name;
  watched.conn = conn;
  watched.tap = tap;
  watched.uploads = uploads;
  watched.uploads_base = uploads_base;
  running_->conns.push_back(std::move(watched));
  if (cancelled()) {
    conn->Interrupt();
  }
}

void RunMonitor::Remove(engine::Connection* conn) {
  {
    std::lock_guard<std::mutex> lock(running_->mu);
    std::erase_if(running_->conns, [conn](const Watched& entry) { return entry.conn == conn; });
  }
  // A report made before the erase may still be emitting: wait for it, so that the caller's
  // own last event of the step comes after every report of it.
  std::lock_guard<std::mutex> wait(report_mu_);
}

int64_t RunMonitor::UploadedBy(const Watched& watched) {
  if (!watched.uploads) {
    return -1;
  }
  int64_t bytes = session_.UploadedBytes() - watched.uploads_base;
  return bytes > 0 ? bytes : -1;
}

void RunMonitor::SetPhase(engine::Connection* conn, const std::string& phase, double from,
                          double to) {
  double stale = conn->Progress().percent;
  std::lock_guard<std::mutex> lock(running_->mu);
  for (auto& watched : running_->conns) {
    if (watched.conn == conn) {
      watched.phase = phase;
      watched.phase_from = std::clamp(from, 0.0, 100.0);
      watched.phase_to = std::clamp(to, watched.phase_from, 100.0);
      watched.stale_percent = stale;
      watched.phase_started = false;
      watched.percent = std::max(watched.percent, watched.phase_from);
    }
  }
}

void RunMonitor::SetRows(engine::Connection* conn, int64_t rows) {
  std::lock_guard<std::mutex> lock(running_->mu);
  for (auto& watched : running_->conns) {
    if (watched.conn == conn) {
      watched.reported_rows = std::max(watched.reported_rows, rows);
    }
  }
}

bool RunMonitor::ReportedRows(engine::Connection* conn) {
  std::lock_guard<std::mutex> lock(running_->mu);
  for (const auto& watched : running_->conns) {
    if (watched.conn == conn) {
      return watched.reported_rows >= 0;
    }
  }
  return false;
}

void RunMonitor::Finish(engine::Connection* conn, int64_t rows) {
  std::lock_guard<std::mutex> reporting(report_mu_);
  ProgressEvent event;
  {
    std::lock_guard<std::mutex> lock(running_->mu);
    auto it = std::find_if(running_->conns.begin(), running_->conns.end(),
                           [conn](const Watched& entry) { return entry.conn == conn; });
    if (it == running_->conns.end() || it->finished) {
      return;
    }
    it->finished = true;
    event.type = ProgressEvent::Type::kStageProgress;
    event.name = it->name;
    event.percent = 100;
    event.rows = rows >= 0 ? rows : it->reported_rows;
    event.bytes = UploadedBy(*it);
    event.eta_ms = 0;
    event.phase = it->phase;
  }
  if (progress_interval_ms_ > 0) {
    emitter_.Emit(event);
  }
}

void RunMonitor::Running::InterruptAll() {
  std::lock_guard<std::mutex> lock(mu);
  for (auto& watched : conns) {
    watched.conn->Interrupt();
  }
}

void RunMonitor::Report() {
  std::lock_guard<std::mutex> reporting(report_mu_);
  std::vector<ProgressEvent> events;
  {
    std::lock_guard<std::mutex> lock(running_->mu);
    auto now = std::chrono::steady_clock::now();
    for (auto& watched : running_->conns) {
      if (watched.finished) {
        continue;
      }
      ProgressEvent event;
      event.type = ProgressEvent::Type::kStageProgress;
      event.name = watched.name;
      event.rows = watched.tap != nullptr ? watched.tap->rows() : watched.reported_rows;
      event.bytes = UploadedBy(watched);
      event.phase = watched.phase;
      // DuckDB's rows_processed is deliberately not used: it sums estimated rows over every
      // operator of the plan. Its percent is the query's own and is what the line shows.
      double query = std::min(watched.conn->Progress().percent, 100.0);
      if (!watched.phase_started && query != watched.stale_percent) {
        watched.phase_started = true;
      }
      double percent = query;
      if (!watched.phase.empty()) {
        // Within a phase, the query's percent fills the phase's share of the step.
        percent = watched.phase_started && query >= 0
                      ? watched.phase_from + (watched.phase_to - watched.phase_from) * query / 100
                      : watched.phase_from;
      }
      if (percent > watched.percent) {
        watched.percent = percent;
      }
      event.percent = watched.percent;
      event.eta_ms = EstimateLeft(watched, now);
      events.push_back(std::move(event));
    }
  }
  for (const auto& event : events) {
    emitter_.Emit(event);
  }
}

void RunMonitor::Loop() {
  try {
    auto next_report =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(progress_interval_ms_);
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, kTick, [this] { return stop_; })) {
      lock.unlock();
      if (cancelled()) {
        running_->InterruptAll();
      }
      int64_t spilled = session_.TempFileBytes();
      if (spilled > spilled_bytes_) {
        spilled_bytes_ = spilled;
        ProgressEvent event;
        event.type = ProgressEvent::Type::kSpill;
        event.bytes = spilled;
        emitter_.Emit(event);
      }
      auto now = std::chrono::steady_clock::now();
      if (progress_interval_ms_ > 0 && now >= next_report) {
        Report();
        next_report = now + std::chrono::milliseconds(progress_interval_ms_);
      }
      lock.lock();
    }
  } catch (const std::exception&) {
    // Monitoring is best effort; the run itself reports its own errors.
  }
}

}  // namespace aqueducts::runner

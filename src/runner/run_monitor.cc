#include "runner/run_monitor.h"

#include <algorithm>
#include <chrono>

namespace aqueducts::runner {
namespace {

// Cancellation is re-sent at this pace: DuckDB forgets an interrupt that arrives between two
// queries, so one call is not enough.
constexpr std::chrono::milliseconds kTick(50);

}  // namespace

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

void RunMonitor::Add(const std::string& name, engine::Connection* conn) {
  std::lock_guard<std::mutex> lock(running_->mu);
  running_->conns.emplace_back(name, conn);
  if (cancelled()) {
    conn->Interrupt();
  }
}

void RunMonitor::Remove(engine::Connection* conn) {
  std::lock_guard<std::mutex> lock(running_->mu);
  std::erase_if(running_->conns, [conn](const auto& entry) { return entry.second == conn; });
}

void RunMonitor::Running::InterruptAll() {
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [name, conn] : conns) {
    conn->Interrupt();
  }
}

void RunMonitor::Report() {
  std::vector<ProgressEvent> events;
  {
    std::lock_guard<std::mutex> lock(running_->mu);
    for (auto& [name, conn] : running_->conns) {
      engine::QueryProgress progress = conn->Progress();
      ProgressEvent event;
      event.type = ProgressEvent::Type::kStageProgress;
      event.name = name;
      event.percent = progress.percent;
      event.rows = static_cast<int64_t>(progress.rows_processed);
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

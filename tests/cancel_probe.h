#pragma once

// Cancel a pipeline run while its destination is writing: the run is started on a thread, and the
// cancel is sent once the run reports progress of the destination's write (an event, not a
// sleep). For the cancellation tests of every destination kind.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aqueducts/run.h"

namespace aqueducts::testing {

/// \brief What a cancelled run did.
struct CancelledRun {
  Status status;
  bool cancel_sent = false;  ///< false: the run ended before its write got under way
  std::chrono::milliseconds after_cancel{0};  ///< from Cancel() to RunPipeline's return
  std::vector<ProgressEvent> events;
};

/// \brief Records the events and wakes the test when the write of `destination` is under way.
class WriteWatcher : public ProgressSink {
 public:
  explicit WriteWatcher(std::string destination) : destination_(std::move(destination)) {}
  void OnEvent(const ProgressEvent& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event);
    using Type = ProgressEvent::Type;
    if (event.type == Type::kDestinationStarted && event.name == destination_) {
      writing_ = true;
    }
    // The runner reports the destination's connection only while the write runs on it.
    bool rows_moving = writing_ && event.type == Type::kStageProgress && event.name == destination_;
    bool ended = event.type == Type::kCompleted || event.type == Type::kFailed ||
                 event.type == Type::kCancelled;
    if (rows_moving || ended) {
      ready_ = true;
      cv_.notify_all();
    }
  }
  void OnOutput(const StageOutput&) override {}
  /// Wait until the write is under way or the run ends; false when the run ended first.
  bool WaitForWrite() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return ready_; });
    return writing_ &&
           (events_.empty() || (events_.back().type != ProgressEvent::Type::kCompleted &&
                                events_.back().type != ProgressEvent::Type::kFailed));
  }
  std::vector<ProgressEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  std::string destination_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;
  bool ready_ = false;
  std::vector<ProgressEvent> events_;
};

/// Run `aqueduct` and cancel it while its destination `destination` writes rows.
inline CancelledRun CancelDuringWrite(const Aqueduct& aqueduct, RunOptions options,
                                      const std::string& destination) {
  options.cancel = std::make_shared<CancelToken>();
  if (options.progress_interval_ms <= 0 || options.progress_interval_ms > 20) {
    options.progress_interval_ms = 20;
  }
  WriteWatcher watcher(destination);
  CancelledRun run;
  std::chrono::steady_clock::time_point ended;
  std::thread thread([&] {
    run.status = RunPipeline(aqueduct, options, &watcher);
    ended = std::chrono::steady_clock::now();
  });
  run.cancel_sent = watcher.WaitForWrite();
  auto sent = std::chrono::steady_clock::now();
  options.cancel->Cancel();
  thread.join();
  run.after_cancel = std::chrono::duration_cast<std::chrono::milliseconds>(ended - sent);
  run.events = watcher.events();
  return run;
}

}  // namespace aqueducts::testing

#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aqueducts/model.h"
#include "aqueducts/run.h"
#include "aqueducts/status.h"

#include "executor/event_stream.h"
#include "executor/logger.h"

namespace aqueducts::executor {

/// \brief One submitted pipeline: shared by the manager and the HTTP response streaming it.
struct Execution {
  std::string id;
  Aqueduct aqueduct;
  PreviewFormat preview = PreviewFormat::kTable;  ///< how `show` previews are rendered
  std::shared_ptr<EventStream> stream = std::make_shared<EventStream>();
  std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
  std::chrono::steady_clock::time_point submitted_at;
  std::chrono::steady_clock::time_point started_at;
};

struct ExecutionManagerOptions {
  /// Executions that may wait behind the running one; beyond it Submit fails. Default 16.
  size_t max_queue = 16;
  /// Settings of each run's fresh database (memory limit). temp_directory is set per run.
  Database::Options database_options;
  /// Where each run gets its own spill directory (<temp_root>/<execution id>, removed after the
  /// run); empty: DuckDB's default.
  std::string temp_root;
  /// Interval of the runner's stage progress events.
  int progress_interval_ms = 250;
};

/// \brief Runs one execution at a time on a worker thread; the others wait in a bounded FIFO
/// queue and are told their position whenever it changes. Thread-safe.
class ExecutionManager {
 public:
  ExecutionManager(ExecutionManagerOptions options, Logger* logger);
  /// Shuts down (cancelling everything) if not done yet.
  ~ExecutionManager();

  /// Queue a validated pipeline. Its stream gets `queued` at once, then `started`, the run's
  /// events and one final event. kConflict when the queue is full.
  /// `preview`: how its `show` previews are rendered.
  Result<std::shared_ptr<Execution>> Submit(Aqueduct aqueduct,
                                            PreviewFormat preview = PreviewFormat::kTable);

  enum class CancelOutcome { kCancelled, kNotRunning, kNotFound };
  /// Cancel a waiting (removed at once) or running (DuckDB interrupted) execution.
  /// kNotRunning: the id is known but has finished.
  CancelOutcome Cancel(const std::string& id);

  struct Snapshot {
    std::string current_id;  ///< empty when idle
    double running_seconds = 0;
    std::vector<std::string> queued_ids;  ///< in order: position 0 first
  };
  Snapshot GetSnapshot();
  size_t max_queue() const { return options_.max_queue; }

  /// Refuse new work, cancel the waiting and the running executions, join the worker.
  void Shutdown();

 private:
  void WorkerLoop();
  /// Run one execution; returns its final frame (completed / failed / cancelled).
  std::string Run(const std::shared_ptr<Execution>& execution);
  void Finish(const std::shared_ptr<Execution>& execution, std::string frame);
  void BroadcastPositionsLocked();
  void RememberFinishedLocked(const std::string& id);

  ExecutionManagerOptions options_;
  Logger* logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Execution>> queue_;
  std::shared_ptr<Execution> running_;
  std::deque<std::string> finished_;  ///< recent ids, for not_running answers
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace aqueducts::executor

#include "executor/execution_manager.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <system_error>

#include "common/clock.h"
#include "common/uuid.h"
#include "executor/stream_sink.h"
#include "protocol/events.h"

namespace aqueducts::executor {
namespace {

constexpr size_t kFinishedMemory = 256;

}  // namespace

ExecutionManager::ExecutionManager(ExecutionManagerOptions options, Logger* logger)
    : options_(std::move(options)), logger_(logger) {
  worker_ = std::thread([this] { WorkerLoop(); });
}

ExecutionManager::~ExecutionManager() {
  Shutdown();
}

Result<std::shared_ptr<Execution>> ExecutionManager::Submit(Aqueduct aqueduct,
                                                            PreviewFormat preview) {
  auto execution = std::make_shared<Execution>();
  execution->id = NewUuid();
  execution->aqueduct = std::move(aqueduct);
  execution->preview = preview;
  execution->submitted_at = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      return Status::Conflict("The executor is shutting down");
    }
    bool busy = running_ != nullptr || !queue_.empty();
    if (busy && queue_.size() >= options_.max_queue) {
      return Status::Conflict("The execution queue is full (" + std::to_string(queue_.size()) +
                              " waiting, limit " + std::to_string(options_.max_queue) + ")");
    }
    execution->stream->Push(protocol::FormatSse(
        protocol::EncodeQueued(execution->id, static_cast<int>(queue_.size()))));
    queue_.push_back(execution);
    // Logged under the lock so the line precedes the worker's "execution started".
    logger_->Info("execution queued", {{"execution_id", execution->id},
                                       {"position", std::to_string(queue_.size() - 1)}});
  }
  cv_.notify_all();
  return execution;
}

ExecutionManager::CancelOutcome ExecutionManager::Cancel(const std::string& id) {
  std::shared_ptr<Execution> removed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ && running_->id == id) {
      running_->cancel->Cancel();
      logger_->Info("cancelling running execution", {{"execution_id", id}});
      return CancelOutcome::kCancelled;
    }
    auto it =
        std::find_if(queue_.begin(), queue_.end(), [&](const auto& e) { return e->id == id; });
    if (it == queue_.end()) {
      bool known = std::find(finished_.begin(), finished_.end(), id) != finished_.end();
      return known ? CancelOutcome::kNotRunning : CancelOutcome::kNotFound;
    }
    removed = *it;
    queue_.erase(it);
    RememberFinishedLocked(id);
    BroadcastPositionsLocked();
  }
  removed->cancel->Cancel();
  ProgressEvent event;
  event.type = ProgressEvent::Type::kCancelled;
  event.message = "Pipeline execution cancelled before it started";
  Finish(removed, protocol::FormatSse(protocol::EncodeEvent(event, removed->id)));
  logger_->Info("cancelled queued execution", {{"execution_id", id}});
  return CancelOutcome::kCancelled;
}

ExecutionManager::Snapshot ExecutionManager::GetSnapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  Snapshot snapshot;
  if (running_) {
    snapshot.current_id = running_->id;
    snapshot.running_seconds = static_cast<double>(MillisSince(running_->started_at)) / 1000.0;
  }
  for (const auto& e : queue_) {
    snapshot.queued_ids.push_back(e->id);
  }
  return snapshot;
}

void ExecutionManager::Shutdown() {
  std::deque<std::shared_ptr<Execution>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !worker_.joinable()) {
      return;
    }
    stopping_ = true;
    waiting.swap(queue_);
    if (running_) {
      running_->cancel->Cancel();
    }
  }
  cv_.notify_all();
  for (const auto& execution : waiting) {
    ProgressEvent event;
    event.type = ProgressEvent::Type::kCancelled;
    event.message = "The executor is shutting down";
    Finish(execution, protocol::FormatSse(protocol::EncodeEvent(event, execution->id)));
  }
  if (worker_.joinable()) {
    worker_.join();
  }
}

void ExecutionManager::WorkerLoop() {
  while (true) {
    std::shared_ptr<Execution> execution;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        return;
      }
      execution = queue_.front();
      queue_.pop_front();
      running_ = execution;
      execution->started_at = std::chrono::steady_clock::now();
      BroadcastPositionsLocked();
    }
    std::string final_frame;
    // Top of a thread: nothing may escape (STYLE 3), or the executor would terminate.
    try {
      final_frame = Run(execution);
    } catch (const std::exception& e) {
      final_frame = protocol::FormatSse(protocol::EncodeFailed(
          execution->id, std::string("Internal error: ") + e.what(), "Internal", ""));
    } catch (...) {
      final_frame = protocol::FormatSse(
          protocol::EncodeFailed(execution->id, "Internal error", "Internal", ""));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.reset();
      RememberFinishedLocked(execution->id);
    }
    // Sent once the executor is idle again, so a client may submit right after the final event.
    Finish(execution, std::move(final_frame));
  }
}

std::string ExecutionManager::Run(const std::shared_ptr<Execution>& execution) {
  const std::string& id = execution->id;
  execution->stream->Push(protocol::FormatSse(protocol::EncodeStarted(id)));
  logger_->Info("execution started", {{"execution_id", id}});
  execution->stream->Push(
      protocol::FormatSse(protocol::EncodeLog(id, "info", "Execution started on executor")));

  RunOptions run_options;
  run_options.database_options = options_.database_options;
  run_options.cancel = execution->cancel;
  run_options.progress_interval_ms = options_.progress_interval_ms;
  run_options.preview_format = execution->preview;
  std::filesystem::path temp_dir;
  if (!options_.temp_root.empty()) {
    temp_dir = std::filesystem::path(options_.temp_root) / id;
    std::error_code ec;
    std::filesystem::create_directories(temp_dir, ec);
    run_options.database_options.temp_directory = temp_dir.string();
  }

  StreamSink sink(id, execution->aqueduct, execution->stream, logger_);
  Status status = execution->cancel->cancelled()
                      ? Status::Cancelled()
                      : RunPipeline(execution->aqueduct, run_options, &sink);
  int64_t duration_ms = MillisSince(execution->started_at);
  if (!temp_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir, ec);
  }

  LogFields fields{{"execution_id", id}, {"duration_ms", std::to_string(duration_ms)}};
  ProgressEvent event;
  event.duration_ms = duration_ms;
  if (status.ok()) {
    execution->stream->Push(protocol::FormatSse(protocol::EncodeProgress(id, 100)));
    event.type = ProgressEvent::Type::kCompleted;
    event.message = "Pipeline execution completed successfully";
    logger_->Info("execution completed", fields);
    return protocol::FormatSse(protocol::EncodeEvent(event, id));
  }
  if (status.code() == StatusCode::kCancelled || execution->cancel->cancelled()) {
    event.type = ProgressEvent::Type::kCancelled;
    event.message = "Pipeline execution cancelled";
    logger_->Info("execution cancelled", fields);
    return protocol::FormatSse(protocol::EncodeEvent(event, id));
  }
  fields["error"] = status.message();
  logger_->Error("execution failed", fields);
  execution->stream->Push(protocol::FormatSse(
      protocol::EncodeLog(id, "error", "Pipeline execution failed: " + status.message())));
  return protocol::FormatSse(
      protocol::EncodeFailed(id, status.message(), StatusCodeName(status.code()), status.id()));
}

void ExecutionManager::Finish(const std::shared_ptr<Execution>& execution, std::string frame) {
  execution->stream->Push(std::move(frame));
  execution->stream->Close();
}

void ExecutionManager::BroadcastPositionsLocked() {
  for (size_t i = 0; i < queue_.size(); ++i) {
    queue_[i]->stream->Push(
        protocol::FormatSse(protocol::EncodeQueued(queue_[i]->id, static_cast<int>(i))));
  }
}

void ExecutionManager::RememberFinishedLocked(const std::string& id) {
  finished_.push_back(id);
  if (finished_.size() > kFinishedMemory) {
    finished_.pop_front();
  }
}

}  // namespace aqueducts::executor

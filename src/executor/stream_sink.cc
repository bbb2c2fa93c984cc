#include "executor/stream_sink.h"

namespace aqueducts::executor {

StreamSink::StreamSink(std::string execution_id, const Aqueduct& aqueduct,
                       std::shared_ptr<EventStream> stream, Logger* logger)
    : execution_id_(std::move(execution_id)),
      stream_(std::move(stream)),
      logger_(logger),
      counter_(aqueduct) {}

void StreamSink::OnEvent(const ProgressEvent& event) {
  using T = ProgressEvent::Type;
  if (event.type == T::kStarted || event.type == T::kCompleted || event.type == T::kFailed ||
      event.type == T::kCancelled) {
    return;
  }
  if (event.type == T::kStageProgress || event.type == T::kSpill) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = event.type == T::kSpill ? "" : "step:" + event.name;
    auto it = last_sent_.find(key);
    if (it != last_sent_.end() && now - it->second.at < kMinProgressGap) {
      // Within the gap only a step's news passes: a new phase (Delta: scanning, writing files,
      // committing), or its completion: 100% or its final row count.
      bool news =
          event.type == T::kStageProgress &&
          (event.phase != it->second.phase ||
           (event.percent >= 100 && (it->second.percent < 100 || it->second.rows != event.rows)));
      if (!news) {
        return;
      }
    }
    last_sent_[key] = Sent{now, event.percent, event.rows, event.phase};
  }
  LogFields fields{{"execution_id", execution_id_}};
  if (event.type == T::kLog) {
    logger_->Log(event.level, event.message, fields);
  } else if (event.type == T::kSpill) {
    fields["bytes"] = std::to_string(event.bytes);
    logger_->Warn("memory limit reached: DuckDB spills to disk", fields);
  } else {
    if (!event.name.empty()) {
      fields["name"] = event.name;
    }
    if (event.rows >= 0) {
      fields["rows"] = std::to_string(event.rows);
    }
    if (event.duration_ms >= 0) {
      fields["duration_ms"] = std::to_string(event.duration_ms);
    }
    logger_->Log(event.type == T::kStageProgress ? LogLevel::kTrace : LogLevel::kDebug,
                 EventTypeName(event.type), fields);
  }
  // One lock around encode and push keeps each event and the progress it causes adjacent.
  std::lock_guard<std::mutex> lock(mu_);
  stream_->Push(protocol::FormatSse(protocol::EncodeEvent(event, execution_id_)));
  if (auto percent = counter_.OnEvent(event)) {
    stream_->Push(protocol::FormatSse(protocol::EncodeProgress(execution_id_, *percent)));
  }
}

void StreamSink::OnOutput(const StageOutput& output) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& message : protocol::EncodeOutput(output, execution_id_)) {
    stream_->Push(protocol::FormatSse(message));
  }
}

}  // namespace aqueducts::executor

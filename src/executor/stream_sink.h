#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "aqueducts/progress.h"

#include "executor/event_stream.h"
#include "executor/logger.h"
#include "protocol/events.h"

namespace aqueducts::executor {

/// \brief Turns a run's events into SSE frames on one stream, adding overall `progress` events
/// and mirroring log and spill events to the executor's log. Thread-safe (runner threads call it).
/// Terminal events (started/completed/failed/cancelled) are dropped: the ExecutionManager sends
/// exactly one of each itself, whatever the runner does.
class StreamSink : public ProgressSink {
 public:
  StreamSink(std::string execution_id, const Aqueduct& aqueduct,
             std::shared_ptr<EventStream> stream, Logger* logger);

  void OnEvent(const ProgressEvent& event) override;
  void OnOutput(const StageOutput& output) override;

 private:
  std::string execution_id_;
  std::shared_ptr<EventStream> stream_;
  Logger* logger_;
  std::mutex mu_;
  protocol::ProgressCounter counter_;
};

}  // namespace aqueducts::executor

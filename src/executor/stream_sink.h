#pragma once

#include <chrono>
#include <map>
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
/// exactly one of each itself, whatever the runner does. stage_progress and spill events are
/// thinned to one per step every kMinProgressGap (a step's last one, at 100%, always passes);
/// pushing never waits for the client.
class StreamSink : public ProgressSink {
 public:
  StreamSink(std::string execution_id, const Aqueduct& aqueduct,
             std::shared_ptr<EventStream> stream, Logger* logger);

  static constexpr std::chrono::milliseconds kMinProgressGap{200};

  void OnEvent(const ProgressEvent& event) override;
  void OnOutput(const StageOutput& output) override;

 private:
  std::string execution_id_;
  std::shared_ptr<EventStream> stream_;
  Logger* logger_;
  std::mutex mu_;
  protocol::ProgressCounter counter_;
  // The last stage_progress sent of each step (and the last spill, under "").
  struct Sent {
    std::chrono::steady_clock::time_point at;
    double percent = -1;
    int64_t rows = -1;
    std::string phase;
  };
  std::map<std::string, Sent> last_sent_;
};

}  // namespace aqueducts::executor

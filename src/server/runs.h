#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aqueducts/status.h"

#include "server/log.h"
#include "server/store.h"

namespace aqueducts::server {

/// True for succeeded, failed, cancelled and lost.
bool IsFinalState(const std::string& state);

/// \brief Runs pipelines on one directly configured executor (`--executor-url`): sends the
/// pipeline to its POST /api/executions, stores every SSE event it answers with a sequence
/// number, and wakes readers of a run's events. One thread per active run.
class RunManager {
 public:
  RunManager(Store* store, Log* log, std::string executor_url, std::string executor_api_key);
  ~RunManager();

  /// Queue a run of `version` (0: latest) of pipeline `pipeline_id` with `params` and start
  /// sending it. kTemplateError when parameters are missing, kNotFound for an unknown
  /// pipeline or version, kUnsupported when no executor is configured.
  Result<Run> Trigger(int64_t pipeline_id, int version,
                      const std::map<std::string, std::string>& params,
                      const std::string& created_by);
  /// Block until an event is stored or a run changes state anywhere, or `timeout` passes.
  void WaitForChange(uint64_t seen_generation, std::chrono::milliseconds timeout);
  /// A counter that changes with each stored event or state change.
  uint64_t generation();
  /// Stop every dispatch thread (their runs become `lost`) and join them.
  void Shutdown();

 private:
  void Dispatch(Run run, std::string body);
  void Record(int64_t run_id, const std::string& event, const std::string& data);
  void SetState(int64_t run_id, const std::string& state, const std::string& reason,
                const std::string& execution_id = "");

  Store* store_;
  Log* log_;
  std::string executor_url_;
  std::string executor_api_key_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace aqueducts::server

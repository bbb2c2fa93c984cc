#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aqueducts/status.h"

#include "server/log.h"
#include "server/metrics.h"
#include "server/store.h"

namespace aqueducts::server {

/// True for succeeded, failed, cancelled and lost.
bool IsFinalState(const std::string& state);

/// Parse "k=v,k2=v2" into a map; kInvalidArgument naming the bad item.
Result<std::map<std::string, std::string>> ParseLabels(const std::string& text);

/// Where a run may go: one executor by name, any online executor with a label, or any.
struct RunTarget {
  std::string executor;  ///< name; empty: any
  std::string label;     ///< "k=v"; empty: any
};

/// What an executor reports in each heartbeat.
struct Heartbeat {
  std::string version;
  std::map<std::string, std::string> labels;
  int64_t memory_limit_bytes = 0;  ///< 0: DuckDB's default
  bool busy = false;
  int64_t queue = 0;
  std::vector<int64_t> runs;  ///< runs the executor holds (running or events not yet posted)
};

/// The live view of one registered executor.
struct ExecutorView {
  std::string name;
  std::map<std::string, std::string> labels;
  bool online = false;
  bool connected = false;  ///< its work stream is open
  std::string status;      ///< "offline", "idle" or "busy"
  std::string last_heartbeat;
  std::string version;
  int64_t memory_limit_bytes = 0;
  int64_t queue = 0;
  int64_t current_run = 0;
  std::string registered_at;
};

/// \brief Schedules runs on registered executors. Executors connect outbound: they heartbeat,
/// hold a work stream (SSE) on which runs and cancels are sent, and post run events back with
/// sequence numbers. A scheduler thread dispatches queued runs in order (one run per executor at
/// a time) and marks the run of an executor that missed 3 heartbeats `lost`. Every state change
/// is stored with its reason and as a `run_state` event. Thread-safe.
class RunManager {
 public:
  struct Options {
    std::chrono::milliseconds heartbeat_interval{10000};
    std::chrono::milliseconds tick{100};  ///< how often the scheduler looks at least
    Metrics* metrics = nullptr;           ///< run timings for /metrics (optional)
  };
  RunManager(Store* store, Log* log, Options options);
  ~RunManager();

  std::chrono::milliseconds heartbeat_interval() const { return options_.heartbeat_interval; }

  /// Queue a run of `version` (0: latest) of pipeline `pipeline_id` with `params`.
  /// kTemplateError when parameters are missing, kNotFound for an unknown pipeline or version.
  Result<Run> Trigger(int64_t pipeline_id, int version,
                      const std::map<std::string, std::string>& params, const RunTarget& target,
                      const std::string& created_by);
  /// Queue a run of a pipeline sent inline (canonical JSON, already templated by the client).
  Result<Run> TriggerInline(const std::string& pipeline_json, const RunTarget& target,
                            const std::string& created_by);
  /// Queue a new run with the same pipeline, parameters and target as finished run `id`.
  /// kConflict while `id` is not finished.
  Result<Run> Rerun(int64_t id, const std::string& created_by);
  /// Cancel run `id`: a queued run at once; a dispatched or running one by asking its
  /// executor. kConflict when it already finished.
  Result<Run> Cancel(int64_t id, const std::string& by);

  /// A newly enrolled (or re-enrolled) executor: known from now on, online at its heartbeat.
  void OnEnrolled(const std::string& name, const std::map<std::string, std::string>& labels);
  /// An executor's heartbeat (it is online from now on).
  void OnHeartbeat(const std::string& name, const Heartbeat& beat);
  /// Events an executor posted for one of its runs; returns the highest sequence number stored.
  /// kInvalidArgument when the run is not this executor's.
  Result<int64_t> OnEvents(const std::string& name, int64_t run_id,
                           const std::vector<SequencedEvent>& events);

  /// A new work stream of executor `name`; returns its generation. Frames to send are taken
  /// with NextWork; an older stream of the same executor ends.
  uint64_t OpenWorkStream(const std::string& name);
  /// The next frame for work stream `generation` of `name`: a frame, "" when idle after
  /// `wait`, nullopt when this stream is superseded or the server stops.
  std::optional<std::string> NextWork(const std::string& name, uint64_t generation,
                                      std::chrono::milliseconds wait);
  void CloseWorkStream(const std::string& name, uint64_t generation);

  std::vector<ExecutorView> Executors();

  /// Block until an event is stored or a run changes state anywhere, or `timeout` passes.
  void WaitForChange(uint64_t seen_generation, std::chrono::milliseconds timeout);
  /// A counter that changes with each stored event or state change.
  uint64_t generation();
  /// Stop the scheduler; work streams and waits for changes end.
  void Shutdown();
  bool stopping();

 private:
  struct Link {
    Heartbeat beat;
    bool ever_beat = false;
    std::chrono::steady_clock::time_point last_beat;
    std::string last_beat_utc;
    bool online = false;
    uint64_t stream_generation = 0;  ///< 0: no work stream open
    std::deque<std::string> outbox;  ///< SSE frames for the work stream
    int64_t current_run = 0;         ///< the run assigned to it (dispatched or running)
    bool started = false;            ///< the current run sent `started`
  };

  Result<Run> Enqueue(Run run);
  void SchedulerLoop();
  void TickLocked();
  /// Why run `r` cannot go anywhere now, or the executor it can go to (reason empty).
  std::string Place(const Run& r, std::string* chosen);
  void DispatchLocked(int64_t run_id, const std::string& name, Link& link);
  void Record(int64_t run_id, const std::string& event, const std::string& data);
  void SetState(int64_t run_id, const std::string& state, const std::string& reason,
                const std::string& executor_name = "");
  void NotifyLocked();

  Store* store_;
  Log* log_;
  Options options_;
  std::mutex mu_;                    ///< the scheduler's state below
  std::condition_variable work_cv_;  ///< work streams and the scheduler
  std::mutex change_mu_;             ///< generation_ (taken after mu_, never before)
  std::condition_variable cv_;       ///< readers of events and states
  uint64_t generation_ = 0;
  bool change_stop_ = false;
  uint64_t next_stream_generation_ = 1;
  bool stopping_ = false;
  bool dirty_ = false;  ///< something changed: the scheduler looks now
  std::map<std::string, Link> links_;
  std::vector<Run> queued_;                     ///< queued runs, oldest first
  std::map<int64_t, std::string> waiting_why_;  ///< the reason last stored per queued run
  std::map<int64_t, std::string> cancelling_;   ///< run -> who asked, until the executor answers
  /// Runs found dispatched/running at start-up (a previous server process assigned them) ->
  /// until when their executor may reconnect and claim them in a heartbeat; then `lost`.
  std::map<int64_t, std::chrono::steady_clock::time_point> reclaim_;
  std::thread scheduler_;
};

}  // namespace aqueducts::server

#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "aqueducts/status.h"

#include "server/log.h"
#include "server/store.h"

namespace aqueducts::server {

/// \brief Event retention (`serve --event-retention-days N`): the stored events of runs that
/// finished more than N days ago are deleted, leaving one `events_deleted` event that says so
/// (Store::PruneEventsOfRunsFinishedBefore). A run that is not finished keeps every event,
/// however old. The run itself (state, reason, parameters) is kept. Time comes from a clock the
/// owner gives (the tests use a fake one and call Sweep themselves). Thread-safe.
class EventRetention {
 public:
  using Clock = std::function<int64_t()>;  ///< seconds since the epoch, UTC
  struct Options {
    int64_t days = 0;        ///< 0: keep events forever (nothing is swept)
    Clock now;               ///< default: the system clock
    bool run_thread = true;  ///< false: only explicit Sweep calls delete
    std::chrono::milliseconds interval{std::chrono::hours(1)};  ///< the thread sweeps this often
  };
  EventRetention(Store* store, Log* log, Options options);
  ~EventRetention();

  /// Delete the events of runs finished before `now` - days. Returns the number of runs pruned.
  Result<int64_t> Sweep(int64_t now);
  void Shutdown();

 private:
  Store* store_;
  Log* log_;
  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace aqueducts::server

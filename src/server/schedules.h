#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aqueducts/status.h"

#include "server/cron.h"
#include "server/log.h"
#include "server/runs.h"
#include "server/store.h"
#include "server/tz.h"

namespace aqueducts::server {

/// The first instant strictly after `after` at which `cron` fires in `zone`; kNotFound when it
/// never fires within 8 years (e.g. "0 0 30 2 *").
Result<int64_t> NextFireTime(const CronSpec& cron, const TimeZone& zone, int64_t after);

/// Seconds since the epoch as RFC 3339 UTC ("2026-03-29T01:00:00Z").
std::string FormatUtc(int64_t t);
/// Seconds since the epoch as RFC 3339 local time with its offset ("2026-03-29T03:00:00+02:00").
std::string FormatLocal(int64_t t, const TimeZone& zone);

/// What a client asks for when creating a schedule.
struct ScheduleRequest {
  int64_t pipeline_id = 0;
  std::string cron;
  std::string time_zone = "UTC";
  std::map<std::string, std::string> parameters;
  RunTarget target;
};

/// \brief Fires cron schedules of stored pipelines as runs through the RunManager. Time comes
/// from a clock the owner gives (the tests use a fake one and call Tick themselves). A fire
/// whose previous run is not finished is skipped with that reason; when fire times passed while
/// the server was down, one run is started for the latest of them and the others are only
/// counted (`missed`). Every fire is recorded (Store::RecordFire). Thread-safe.
class Scheduler {
 public:
  using Clock = std::function<int64_t()>;  ///< seconds since the epoch, UTC
  struct Options {
    Clock now;                ///< default: the system clock
    bool run_thread = true;   ///< false: only explicit Tick calls fire schedules
    int64_t tick_ms = 1000;   ///< how often the thread looks
    int next_fire_count = 5;  ///< fire times listed per schedule
  };
  Scheduler(Store* store, RunManager* runs, Log* log, Options options);
  ~Scheduler();

  int64_t Now() const { return options_.now(); }
  int next_fire_count() const { return options_.next_fire_count; }

  /// Validate and store a schedule. kInvalidArgument naming the field ("cron", "time_zone",
  /// "pipeline_id"); kTemplateError when the pipeline needs parameters not given.
  Result<Schedule> Create(const ScheduleRequest& request, const std::string& created_by);
  /// Pause or resume schedule `id`. Resuming computes the next fire time from now: fire times
  /// that passed while paused are not run.
  Result<Schedule> SetPaused(int64_t id, bool paused);
  Status Delete(int64_t id);
  /// The next `count` fire times of `s` after now (empty while paused).
  Result<std::vector<int64_t>> NextFireTimes(const Schedule& s, int count) const;

  /// Fire every schedule that is due at `now`.
  Status Tick(int64_t now);
  void Shutdown();

 private:
  Status FireLocked(Schedule s, int64_t now);

  Store* store_;
  RunManager* runs_;
  Log* log_;
  Options options_;
  std::mutex mu_;  ///< one Tick or change at a time
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace aqueducts::server

#include "server/schedules.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

namespace aqueducts::server {

using json = nlohmann::json;

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kSearchDays = 8 * 366 + 2;  // covers a 29 February
constexpr int64_t kMaxMissedCounted = 100000;

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

std::string FormatClock(int64_t local, const std::string& suffix) {
  int64_t days = FloorDiv(local, kDay);
  int64_t secs = local - days * kDay;
  std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(days))};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d%s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60), suffix.c_str());
  return buf;
}

Format FormatOf(const std::string& name) {
  return name == "json" ? Format::kJson : name == "toml" ? Format::kToml : Format::kYaml;
}

}  // namespace

std::string FormatUtc(int64_t t) {
  return FormatClock(t, "Z");
}

std::string FormatLocal(int64_t t, const TimeZone& zone) {
  int64_t offset = zone.OffsetAt(t);
  int64_t a = offset < 0 ? -offset : offset;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%c%02d:%02d", offset < 0 ? '-' : '+',
                static_cast<int>(a / 3600), static_cast<int>(a / 60 % 60));
  return FormatClock(t + offset, suffix);
}

Result<int64_t> NextFireTime(const CronSpec& cron, const TimeZone& zone, int64_t after) {
  int64_t first_day = FloorDiv(after + zone.OffsetAt(after), kDay) - 1;
  for (int64_t day = first_day; day < first_day + kSearchDays; ++day) {
    std::chrono::sys_days date{std::chrono::days(day)};
    std::chrono::year_month_day ymd{date};
    if (!cron.MatchesDay(static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                         std::chrono::weekday(date).c_encoding())) {
      continue;
    }
    // Local times in order map to instants that never decrease (see TimeZone::LocalToUtc), so
    // the first one after `after` is the earliest.
    for (int h = 0; h < 24; ++h) {
      if (!cron.hours.test(static_cast<size_t>(h))) {
        continue;
      }
      for (int m = 0; m < 60; ++m) {
        if (!cron.minutes.test(static_cast<size_t>(m))) {
          continue;
        }
        int64_t utc = zone.LocalToUtc(day * kDay + h * 3600 + m * 60);
        if (utc > after) {
          return utc;
        }
      }
    }
  }
  return Status::NotFound("never fires within 8 years");
}

Scheduler::Scheduler(Store* store, RunManager* runs, Log* log, Options options)
    : store_(store), runs_(runs), log_(log), options_(std::move(options)) {
  if (!options_.now) {
    options_.now = [] {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    };
  }
  if (options_.run_thread) {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(stop_mu_);
      while (!stopping_) {
        stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms));
        if (stopping_) {
          break;
        }
        lock.unlock();
        Status s = Tick(options_.now());
        if (!s.ok()) {
          log_->Error("schedules: tick failed", {{"error", s.message()}});
        }
        lock.lock();
      }
    });
  }
}

Scheduler::~Scheduler() {
  Shutdown();
}

void Scheduler::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

Result<Schedule> Scheduler::Create(const ScheduleRequest& request, const std::string& created_by) {
  Result<CronSpec> cron = ParseCron(request.cron);
  if (!cron.ok()) {
    return cron.status().WithPrefix("Field \"cron\": ");
  }
  Result<TimeZone> zone = TimeZone::Load(request.time_zone);
  if (!zone.ok()) {
    return zone.status().WithPrefix("Field \"time_zone\": ");
  }
  Result<PipelineVersion> pipeline = store_->GetPipeline(request.pipeline_id, 0);
  if (!pipeline.ok()) {
    if (pipeline.status().code() == StatusCode::kNotFound) {
      return Status::InvalidArgument("Field \"pipeline_id\": no pipeline with id " +
                                     std::to_string(request.pipeline_id));
    }
    return pipeline.status();
  }
  // The parameters must fill the pipeline's ${names}, as a run would need.
  AQ_RETURN_IF_ERROR(LoadAqueductFromString(pipeline->text, FormatOf(pipeline->format),
                                            request.parameters, {}, pipeline->name)
                         .status());
  std::lock_guard<std::mutex> lock(mu_);
  Result<int64_t> next = NextFireTime(*cron, *zone, options_.now());
  if (!next.ok()) {
    return Status::InvalidArgument("Field \"cron\": '" + request.cron + "' " +
                                   next.status().message());
  }
  Schedule s;
  s.pipeline_id = request.pipeline_id;
  s.cron = request.cron;
  s.time_zone = request.time_zone;
  s.parameters_json = json(request.parameters).dump();
  s.target_executor = request.target.executor;
  s.target_label = request.target.label;
  s.next_fire_at = *next;
  s.created_by = created_by;
  AQ_ASSIGN_OR_RETURN(Schedule stored, store_->CreateSchedule(s));
  log_->Info("schedule created", {{"schedule", std::to_string(stored.id)},
                                  {"cron", stored.cron},
                                  {"time_zone", stored.time_zone},
                                  {"next_fire_at", FormatUtc(stored.next_fire_at)}});
  return stored;
}

Result<Schedule> Scheduler::SetPaused(int64_t id, bool paused) {
  std::lock_guard<std::mutex> lock(mu_);
  AQ_ASSIGN_OR_RETURN(Schedule s, store_->GetSchedule(id));
  if (s.paused == paused) {
    return s;
  }
  s.paused = paused;
  if (!paused) {
    AQ_ASSIGN_OR_RETURN(CronSpec cron, ParseCron(s.cron));
    AQ_ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(s.time_zone));
    AQ_ASSIGN_OR_RETURN(s.next_fire_at, NextFireTime(cron, zone, options_.now()));
  }
  AQ_RETURN_IF_ERROR(store_->UpdateSchedule(s));
  return store_->GetSchedule(id);
}

Status Scheduler::Delete(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_->DeleteSchedule(id);
}

Result<std::vector<int64_t>> Scheduler::NextFireTimes(const Schedule& s, int count) const {
  std::vector<int64_t> out;
  if (s.paused) {
    return out;
  }
  AQ_ASSIGN_OR_RETURN(CronSpec cron, ParseCron(s.cron));
  AQ_ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(s.time_zone));
  // The stored next fire time first: it may be due and not handled yet.
  int64_t t = s.next_fire_at;
  out.push_back(t);
  while (static_cast<int>(out.size()) < count) {
    Result<int64_t> next = NextFireTime(cron, zone, t);
    if (!next.ok()) {
      break;
    }
    t = *next;
    out.push_back(t);
  }
  return out;
}

Status Scheduler::Tick(int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  AQ_ASSIGN_OR_RETURN(std::vector<Schedule> all, store_->ListSchedules());
  Status first_error;
  for (const Schedule& s : all) {
    if (s.paused || s.next_fire_at > now) {
      continue;
    }
    Status st = FireLocked(s, now);
    if (!st.ok() && first_error.ok()) {
      first_error = st;
    }
  }
  return first_error;
}

Status Scheduler::FireLocked(Schedule s, int64_t now) {
  ScheduleFire fire;
  fire.schedule_id = s.id;
  Result<CronSpec> cron = ParseCron(s.cron);
  Result<TimeZone> zone = cron.ok() ? TimeZone::Load(s.time_zone) : Result<TimeZone>(cron.status());
  if (!zone.ok()) {
    // Cannot happen for a schedule validated on creation unless the zone files changed.
    s.paused = true;
    fire.fire_at = s.next_fire_at;
    fire.outcome = "error";
    fire.reason = "paused: " + zone.status().message();
    return store_->RecordFire(s, fire);
  }
  // The latest due fire time; earlier ones passed while the server was not running.
  int64_t latest = s.next_fire_at;
  int64_t missed = 0;
  while (missed < kMaxMissedCounted) {
    Result<int64_t> next = NextFireTime(*cron, *zone, latest);
    if (!next.ok() || *next > now) {
      break;
    }
    latest = *next;
    ++missed;
  }
  fire.fire_at = latest;
  fire.missed = missed;
  std::string missed_note;
  if (missed > 0) {
    missed_note = "; " + std::to_string(missed) + " earlier fire time" + (missed == 1 ? "" : "s") +
                  " (from " + FormatUtc(s.next_fire_at) +
                  ") passed while the server was not running and " +
                  (missed == 1 ? "was" : "were") + " not run";
  }
  Result<int64_t> next = NextFireTime(*cron, *zone, now);
  s.next_fire_at = next.ok() ? *next : now;
  if (!next.ok()) {
    s.paused = true;
  }

  std::string previous_state;
  if (s.last_run_id != 0) {
    Result<Run> previous = store_->GetRun(s.last_run_id);
    if (previous.ok() && !IsFinalState(previous->state)) {
      previous_state = previous->state;
    }
  }
  if (!previous_state.empty()) {
    fire.outcome = "skipped";
    fire.reason = "skipped: run " + std::to_string(s.last_run_id) + " of this schedule is still " +
                  previous_state + missed_note;
  } else if (runs_ == nullptr) {
    fire.outcome = "error";
    fire.reason = "error: this server runs no pipelines" + missed_note;
  } else {
    std::map<std::string, std::string> params;
    json p = json::parse(s.parameters_json, nullptr, false);
    if (p.is_object()) {
      for (const auto& [k, v] : p.items()) {
        if (v.is_string()) {
          params[k] = v.get<std::string>();
        }
      }
    }
    RunTarget target{s.target_executor, s.target_label};
    Result<Run> run =
        runs_->Trigger(s.pipeline_id, 0, params, target, "schedule " + std::to_string(s.id));
    if (run.ok()) {
      fire.outcome = "started";
      fire.run_id = run->id;
      s.last_run_id = run->id;
      fire.reason = "started run " + std::to_string(run->id) + missed_note;
    } else {
      fire.outcome = "error";
      fire.reason = "error: " + run.status().message() + missed_note;
    }
  }
  if (!next.ok()) {
    fire.reason += "; paused: the expression fires no more";
  }
  log_->Info("schedule fired", {{"schedule", std::to_string(s.id)},
                                {"fire_at", FormatUtc(fire.fire_at)},
                                {"outcome", fire.outcome},
                                {"reason", fire.reason}});
  return store_->RecordFire(s, fire);
}

}  // namespace aqueducts::server

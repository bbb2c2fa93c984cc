#include "server/retention.h"

#include <string>

#include "server/schedules.h"

namespace aqueducts::server {

EventRetention::EventRetention(Store* store, Log* log, Options options)
    : store_(store), log_(log), options_(std::move(options)) {
  if (!options_.now) {
    options_.now = [] {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    };
  }
  if (options_.run_thread && options_.days > 0) {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stopping_) {
        lock.unlock();
        Result<int64_t> pruned = Sweep(options_.now());
        if (!pruned.ok()) {
          log_->Error("event retention failed", {{"error", pruned.status().message()}});
        }
        lock.lock();
        cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
      }
    });
  }
}

EventRetention::~EventRetention() {
  Shutdown();
}

void EventRetention::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

Result<int64_t> EventRetention::Sweep(int64_t now) {
  if (options_.days <= 0) {
    return 0;
  }
  // Stored times carry milliseconds ("...:00.123Z"); the cutoff must too, or the text
  // comparison would put "...:00.123Z" before "...:00Z".
  std::string cutoff = FormatUtc(now - options_.days * 86400);
  cutoff.insert(cutoff.size() - 1, ".000");
  std::string days = std::to_string(options_.days);
  AQ_ASSIGN_OR_RETURN(
      int64_t pruned,
      store_->PruneEventsOfRunsFinishedBefore(
          cutoff, "the run finished more than " + days +
                      " days ago; its events were deleted (--event-retention-days " + days + ")"));
  log_->Info("event retention",
             {{"cutoff", cutoff}, {"days", days}, {"runs_pruned", std::to_string(pruned)}});
  return pruned;
}

}  // namespace aqueducts::server

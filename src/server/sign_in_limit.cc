#include "server/sign_in_limit.h"

#include <algorithm>

namespace aqueducts::server {

using TimePoint = std::chrono::steady_clock::time_point;

SignInLimiter::SignInLimiter(Options options) : options_(std::move(options)) {
  if (!options_.now) {
    options_.now = [] { return std::chrono::steady_clock::now(); };
  }
}

int64_t SignInLimiter::RetryAfterLocked(const std::string& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.locked_until <= now) {
    return 0;
  }
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now).count();
  return std::max<int64_t>(1, left);
}

int64_t SignInLimiter::RetryAfter(const std::string& user, const std::string& client) {
  if (options_.max_failures <= 0) {
    return 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = options_.now();
  return std::max(RetryAfterLocked("u:" + user, now), RetryAfterLocked("c:" + client, now));
}

void SignInLimiter::FailureLocked(const std::string& key, int limit, TimePoint now) {
  Entry& e = entries_[key];
  if (e.failures > 0 && now - e.last >= options_.lockout) {
    e.failures = 0;  // the earlier failures are older than a lockout period: forgotten
  }
  ++e.failures;
  e.last = now;
  if (e.failures >= limit) {
    e.locked_until = now + options_.lockout;
  }
}

void SignInLimiter::Failure(const std::string& user, const std::string& client) {
  if (options_.max_failures <= 0) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = options_.now();
  PruneLocked(now);
  FailureLocked("u:" + user, options_.max_failures, now);
  FailureLocked("c:" + client, 4 * options_.max_failures, now);
}

void SignInLimiter::Success(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase("u:" + user);
}

void SignInLimiter::PruneLocked(TimePoint now) {
  // Bounded memory under a flood of names: entries whose last failure and lock are both older
  // than a lockout period carry nothing any more.
  if (entries_.size() < 10000) {
    return;
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool stale = now - it->second.last >= options_.lockout && it->second.locked_until <= now;
    it = stale ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace aqueducts::server

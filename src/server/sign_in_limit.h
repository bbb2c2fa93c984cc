#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace aqueducts::server {

/// \brief Rate limit of failed sign-ins (docs/server-api.md, "Sign-in limits"). Failures are
/// counted per user name and per client address; `max_failures` failures of one user name in a
/// row (a success resets that user's count), or 4 x `max_failures` from one client address within
/// the lockout period, lock that name or address for `lockout` from the last failure. A locked
/// name or address is refused before its password is checked. Other names and addresses are not
/// affected. Thread-safe.
class SignInLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  struct Options {
    int max_failures = 5;  ///< 0: no limit
    std::chrono::seconds lockout{300};
    Clock now;  ///< default: std::chrono::steady_clock::now
  };
  explicit SignInLimiter(Options options);

  /// Seconds until `user` from `client` may try again (at least 1); 0 when it may now.
  int64_t RetryAfter(const std::string& user, const std::string& client);
  void Failure(const std::string& user, const std::string& client);
  /// A successful sign-in of `user`: its count starts again (the client's does not).
  void Success(const std::string& user);

  int max_failures() const { return options_.max_failures; }

 private:
  struct Entry {
    int failures = 0;
    std::chrono::steady_clock::time_point last;            ///< the last failure
    std::chrono::steady_clock::time_point locked_until{};  ///< epoch: not locked
  };
  int64_t RetryAfterLocked(const std::string& key, std::chrono::steady_clock::time_point now);
  void FailureLocked(const std::string& key, int limit, std::chrono::steady_clock::time_point now);
  void PruneLocked(std::chrono::steady_clock::time_point now);

  Options options_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  ///< "u:<name>" and "c:<address>"
};

}  // namespace aqueducts::server

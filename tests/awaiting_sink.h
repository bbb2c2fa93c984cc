#pragma once

// A RecordingSink a test can wait on: block until an event arrives instead of sleeping.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "aqueducts/progress.h"

namespace aqueducts::testing {

class AwaitingSink : public RecordingSink {
 public:
  void OnEvent(const ProgressEvent& event) override {
    RecordingSink::OnEvent(event);
    std::lock_guard<std::mutex> lock(mu_);  // no wake-up is lost between a check and the wait
    cv_.notify_all();
  }

  /// Wait until some recorded event satisfies `matches`. The limit only guards against a hang
  /// (a test fails with false); it is no timing assertion.
  bool WaitFor(const std::function<bool(const ProgressEvent&)>& matches,
               std::chrono::seconds limit = std::chrono::seconds(120)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] {
      for (const auto& event : events()) {
        if (matches(event)) {
          return true;
        }
      }
      return false;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace aqueducts::testing

#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace aqueducts {

/// \brief A cancellation flag shared between a run and whoever may cancel it. Thread-safe.
class CancelToken {
 public:
  /// Set the flag and call every registered callback once (outside the lock).
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }
  /// Register a callback run on Cancel (immediately if already cancelled). Returns an id.
  int OnCancel(std::function<void()> callback);
  void RemoveCallback(int id);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  int next_id_ = 0;
  std::vector<std::pair<int, std::function<void()>>> callbacks_;
};

}  // namespace aqueducts

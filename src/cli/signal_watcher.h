#pragma once

#include <functional>
#include <memory>
#include <thread>

#include <pthread.h>

#include "aqueducts/run.h"

namespace aqueducts::cli {

/// \brief Turns Ctrl+C / SIGTERM into a cancellation: the first signal cancels the token (the run
/// stops cleanly, DuckDB is interrupted, nothing half-written stays); a second one exits at once
/// with 130. Construct before starting any other thread: it blocks the signals process-wide and
/// waits for them on its own thread.
class SignalWatcher {
 public:
  SignalWatcher(std::shared_ptr<CancelToken> token, std::function<void()> on_first_signal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::shared_ptr<CancelToken> token_;
  std::thread thread_;
};

}  // namespace aqueducts::cli

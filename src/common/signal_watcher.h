#pragma once

// The one signal-watching thread of the binaries (CLI, executor, server): SIGINT and SIGTERM are
// blocked and taken by sigwait on a thread of their own, so a handler may do anything (log, stop
// a server, cancel a run), not just async-signal-safe calls.

#include <functional>
#include <thread>

namespace aqueducts {

/// Block SIGINT and SIGTERM in the calling thread, so every thread started afterwards inherits
/// the mask. Call first thing in main when threads are started before the SignalWatcher exists.
void BlockTerminationSignals();

/// \brief Calls `on_signal(signal, count)` on its own thread for each SIGINT or SIGTERM
/// (count = 1 for the first). Construct before starting other threads (or after
/// BlockTerminationSignals): it blocks the signals in the constructing thread. The destructor
/// stops the thread and unblocks the signals in the destructing thread.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void(int signal, int count)> on_signal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::thread thread_;
};

}  // namespace aqueducts

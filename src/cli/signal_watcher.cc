#include "cli/signal_watcher.h"

#include <signal.h>
#include <unistd.h>

namespace aqueducts::cli {
namespace {

sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // our own wake-up call from the destructor
  return set;
}

}  // namespace

SignalWatcher::SignalWatcher(std::shared_ptr<CancelToken> token,
                             std::function<void()> on_first_signal)
    : token_(std::move(token)) {
  sigset_t set = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, set, on_first_signal = std::move(on_first_signal)] {
    bool first = true;
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0 || sig == SIGUSR1) {
        return;
      }
      if (!first) {
        _exit(130);
      }
      first = false;
      if (on_first_signal) {
        on_first_signal();
      }
      token_->Cancel();
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
  sigset_t set = WatchedSignals();
  sigdelset(&set, SIGUSR1);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace aqueducts::cli

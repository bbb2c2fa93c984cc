#include "common/signal_watcher.h"

#include <pthread.h>
#include <signal.h>

namespace aqueducts {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(std::function<void(int signal, int count)> on_signal) {
  sigset_t set = TerminationSignals();
  sigaddset(&set, SIGUSR1);  // the destructor's wake-up call
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([set, on_signal = std::move(on_signal)] {
    int count = 0;
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0 || sig == SIGUSR1) {
        return;
      }
      on_signal(sig, ++count);
    }
  });
}

SignalWatcher::~SignalWatcher() {
  // The thread runs until this wake-up (a handler never ends it), so it is alive to receive it.
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace aqueducts

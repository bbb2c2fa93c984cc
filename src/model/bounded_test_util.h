#pragma once

// Running a load in a child process with a memory ceiling, measuring its peak RSS and wall
// time: a load that expands without limit fails the test instead of exhausting the machine.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace aqueducts::testing {

struct BoundedRun {
  bool exited = false;     ///< the child exited normally (no signal, no memory-ceiling abort)
  int exit_code = -1;      ///< its exit code: 0 when `body` returned true
  long peak_rss_kib = 0;   ///< the child's peak resident set
  double seconds = 0;      ///< wall time from fork to exit
  double cpu_seconds = 0;  ///< the child's user + system CPU time
};

/// Run `body` in a forked child limited to `address_space_mib` of address space and
/// `cpu_seconds` of CPU; the child exits 0 when `body` returns true.
inline BoundedRun RunBounded(const std::function<bool()>& body, long address_space_mib = 2048,
                             int cpu_seconds = 30) {
  std::fflush(nullptr);  // nothing buffered before the fork is written twice
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    rlimit as{static_cast<rlim_t>(address_space_mib) << 20, static_cast<rlim_t>(address_space_mib)
                                                                << 20};
    setrlimit(RLIMIT_AS, &as);
    rlimit cpu{static_cast<rlim_t>(cpu_seconds), static_cast<rlim_t>(cpu_seconds)};
    setrlimit(RLIMIT_CPU, &cpu);
    bool ok = false;
    try {
      ok = body();
    } catch (...) {
      _exit(3);
    }
    _exit(ok ? 0 : 1);
  }
  BoundedRun run;
  int status = 0;
  rusage usage{};
  if (pid > 0 && wait4(pid, &status, 0, &usage) == pid) {
    run.exited = WIFEXITED(status);
    run.exit_code = run.exited ? WEXITSTATUS(status) : -1;
    run.peak_rss_kib = usage.ru_maxrss;
    run.cpu_seconds = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                      (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace aqueducts::testing

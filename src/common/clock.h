#pragma once

// Elapsed time, measured on the monotonic clock (never jumps with the wall clock).

#include <chrono>
#include <cstdint>

namespace aqueducts {

using SteadyClock = std::chrono::steady_clock;

/// Whole milliseconds from `start` to now.
inline int64_t MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

}  // namespace aqueducts

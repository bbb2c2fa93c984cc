#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

namespace aqueducts::executor {

/// \brief The ordered frames of one SSE response. Producers (the runner's threads, the queue)
/// push; the one HTTP thread serving the response pops. A single queue per stream is what keeps
/// events in order. Thread-safe.
class EventStream {
 public:
  /// Append a formatted frame. Ignored after Close().
  void Push(std::string frame);
  /// No more frames: the reader drains what is queued, then sees kClosed.
  void Close();

  enum class Next { kFrame, kIdle, kClosed };
  /// Wait up to `wait` for a frame: kFrame (stored in *frame), kIdle (nothing yet; time for a
  /// keepalive), or kClosed (drained and closed).
  Next Pop(std::string* frame, std::chrono::milliseconds wait);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> frames_;
  bool closed_ = false;
};

}  // namespace aqueducts::executor

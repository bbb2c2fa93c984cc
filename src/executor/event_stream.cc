#include "executor/event_stream.h"

namespace aqueducts::executor {

void EventStream::Push(std::string frame) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      return;
    }
    frames_.push_back(std::move(frame));
  }
  cv_.notify_all();
}

void EventStream::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

EventStream::Next EventStream::Pop(std::string* frame, std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, wait, [this] { return !frames_.empty() || closed_; });
  if (!frames_.empty()) {
    *frame = std::move(frames_.front());
    frames_.pop_front();
    return Next::kFrame;
  }
  return closed_ ? Next::kClosed : Next::kIdle;
}

}  // namespace aqueducts::executor

#include "aqueducts/cancel_token.h"

namespace aqueducts {

void CancelToken::Cancel() {
  std::vector<std::pair<int, std::function<void()>>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_.exchange(true)) {
      return;
    }
    callbacks = callbacks_;
  }
  for (auto& [id, callback] : callbacks) {
    callback();
  }
}

int CancelToken::OnCancel(std::function<void()> callback) {
  std::unique_lock<std::mutex> lock(mu_);
  if (cancelled_.load()) {
    lock.unlock();
    callback();
    return -1;
  }
  int id = next_id_++;
  callbacks_.emplace_back(id, std::move(callback));
  return id;
}

void CancelToken::RemoveCallback(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

}  // namespace aqueducts

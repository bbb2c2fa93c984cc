#include "storage/mounts.h"

#include <map>
#include <mutex>

#include "storage/local_store.h"
#include "storage/object_url.h"

namespace aqueducts::storage {
namespace {

struct Mounts {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<ObjectStore>> by_location;
};

Mounts& TheMounts() {
  static Mounts mounts;
  return mounts;
}

bool Contains(const std::string& location, const std::string& path) {
  return path == location ||
         (path.rfind(location, 0) == 0 && (location.back() == '/' || path[location.size()] == '/'));
}

}  // namespace

Result<ResolvedObject> StoreForPath(const std::string& path) {
  {
    Mounts& mounts = TheMounts();
    std::lock_guard<std::mutex> lock(mounts.mu);
    const std::pair<const std::string, std::shared_ptr<ObjectStore>>* best = nullptr;
    for (const auto& entry : mounts.by_location) {
      if (Contains(entry.first, path) &&
          (best == nullptr || entry.first.size() > best->first.size())) {
        best = &entry;
      }
    }
    if (best != nullptr) {
      return ResolvedObject{best->second, path};
    }
  }
  if (IsObjectStoreUrl(path)) {
    return Status::Unsupported("'" + RedactUrl(path) +
                               "': this operation is not supported on object stores yet");
  }
  return ResolvedObject{LocalFileSystem(), path};
}

ScopedMount::ScopedMount(std::string location, std::shared_ptr<ObjectStore> store)
    : location_(std::move(location)) {
  while (location_.size() > 1 && location_.back() == '/') {
    location_.pop_back();
  }
  Mounts& mounts = TheMounts();
  std::lock_guard<std::mutex> lock(mounts.mu);
  mounts.by_location[location_] = std::move(store);
}

ScopedMount::~ScopedMount() {
  Mounts& mounts = TheMounts();
  std::lock_guard<std::mutex> lock(mounts.mu);
  mounts.by_location.erase(location_);
}

}  // namespace aqueducts::storage

#include "storage/mounts.h"

#include <map>
#include <mutex>

#include "storage/local_store.h"
#include "storage/object_url.h"

namespace aqueducts::storage {
namespace {

struct RegistryMount {
  std::string location;
  std::shared_ptr<StoreRegistry> registry;
};

struct Mounts {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<ObjectStore>> by_location;
  uint64_t next_id = 0;
  std::map<uint64_t, RegistryMount> registries;  // by id: later guards have larger ids
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
  if (!IsObjectStoreUrl(path)) {
    return ResolvedObject{LocalFileSystem(), path};
  }
  std::shared_ptr<StoreRegistry> registry;
  {
    Mounts& mounts = TheMounts();
    std::lock_guard<std::mutex> lock(mounts.mu);
    size_t best = 0;
    for (const auto& [id, mount] : mounts.registries) {
      if (Contains(mount.location, path) && mount.location.size() >= best) {
        best = mount.location.size();
        registry = mount.registry;
      }
    }
  }
  if (registry == nullptr) {
    static auto* from_environment = new StoreRegistry();  // never destroyed: used at exit
    return from_environment->Resolve(path);
  }
  return registry->Resolve(path);
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

namespace aqueducts::storage {

ScopedObjectStores::ScopedObjectStores(std::string location,
                                       std::shared_ptr<StoreRegistry> registry) {
  while (location.size() > 1 && location.back() == '/') {
    location.pop_back();
  }
  Mounts& mounts = TheMounts();
  std::lock_guard<std::mutex> lock(mounts.mu);
  id_ = mounts.next_id++;
  mounts.registries[id_] = RegistryMount{std::move(location), std::move(registry)};
}

ScopedObjectStores::~ScopedObjectStores() {
  Mounts& mounts = TheMounts();
  std::lock_guard<std::mutex> lock(mounts.mu);
  mounts.registries.erase(id_);
}

}  // namespace aqueducts::storage

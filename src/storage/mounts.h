#pragma once

// Which store serves a local path: the local file system, unless a store is mounted at a
// directory containing the path. A mount is how an embedder or a test puts another
// implementation (for instance one that wraps the local store and injects faults) under a
// directory; production code never branches on the store it gets.

#include <cstdint>
#include <memory>
#include <string>

#include "storage/object_store.h"
#include "storage/store_registry.h"

namespace aqueducts::storage {

/// The store of `path` and the key of the path in it. A mounted store (ScopedMount) sees the
/// path itself as the key, as the local store would. An object-store URL (s3://, gs://, az://
/// and their aliases) is resolved by the registry of the longest ScopedObjectStores location
/// containing it (a run's storage_config), else by a store configured from the environment
/// alone; its key is then the object's key in its bucket.
Result<ResolvedObject> StoreForPath(const std::string& path);

/// Mounts `store` at `location` (a directory path, no trailing '/') for the guard's lifetime;
/// the longest mounted location containing a path wins. Thread-safe.
class ScopedMount {
 public:
  ScopedMount(std::string location, std::shared_ptr<ObjectStore> store);
  ~ScopedMount();
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;

 private:
  std::string location_;
};

/// Resolves object-store URLs under `location` (no trailing '/') through `registry` for the
/// guard's lifetime. Guards for the same location nest: the newest wins. Thread-safe.
class ScopedObjectStores {
 public:
  ScopedObjectStores(std::string location, std::shared_ptr<StoreRegistry> registry);
  ~ScopedObjectStores();
  ScopedObjectStores(const ScopedObjectStores&) = delete;
  ScopedObjectStores& operator=(const ScopedObjectStores&) = delete;

 private:
  uint64_t id_;
};

}  // namespace aqueducts::storage

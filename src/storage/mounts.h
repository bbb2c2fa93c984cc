#pragma once

// Which store serves a local path: the local file system, unless a store is mounted at a
// directory containing the path. A mount is how an embedder or a test puts another
// implementation (for instance one that wraps the local store and injects faults) under a
// directory; production code never branches on the store it gets.

#include <memory>
#include <string>

#include "storage/object_store.h"
#include "storage/store_registry.h"

namespace aqueducts::storage {

/// The store of `path` and the key of the path in it (the path itself: a mounted store sees
/// the same keys as the local store would). Object-store URLs are kUnsupported here unless a
/// store is mounted at them (their credentials live in the run's StoreRegistry).
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

}  // namespace aqueducts::storage

#pragma once

// Which store serves a URL, with which credentials. A run registers each object-store
// location with its storage_config; any URL under a registered location uses that store, any
// other URL a store configured from the environment alone.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "storage/object_store.h"
#include "storage/object_url.h"
#include "storage/store_options.h"

namespace aqueducts::storage {

/// Open the store of `url` with `config` applied over the environment. kInvalidArgument or
/// kUnsupported name the URL and the offending key.
Result<std::shared_ptr<ObjectStore>> OpenStore(const ObjectUrl& url,
                                               const std::map<std::string, std::string>& config,
                                               const EnvLookup& env = ProcessEnv());

/// A store and the key of one URL in it.
struct ResolvedObject {
  std::shared_ptr<ObjectStore> store;
  std::string key;
};

/// Thread-safe.
class StoreRegistry {
 public:
  explicit StoreRegistry(EnvLookup env = ProcessEnv()) : env_(std::move(env)) {}

  /// Check `config` and remember it for every URL under `url`.
  Status Register(const std::string& url, const std::map<std::string, std::string>& config);
  /// The store for `url`: the longest registered location that contains it, else one built
  /// from the environment for its bucket.
  Result<ResolvedObject> Resolve(const std::string& url);
  /// Bytes uploaded through this registry's stores, as far as the uploader counts them
  /// (engine/object_file_system.cc counts what DuckDB writes): the bytes of live progress.
  void CountUploaded(uint64_t bytes) { uploaded_.fetch_add(static_cast<int64_t>(bytes)); }
  int64_t uploaded() const { return uploaded_.load(); }

 private:
  std::atomic<int64_t> uploaded_{0};
  EnvLookup env_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ObjectStore>> by_location_;  // registered prefixes
  std::map<std::string, std::shared_ptr<ObjectStore>> by_bucket_;    // environment-only
};

}  // namespace aqueducts::storage

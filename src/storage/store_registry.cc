#include "storage/store_registry.h"

#include "storage/azure_store.h"
#include "storage/gcs_store.h"
#include "storage/s3_store.h"

namespace aqueducts::storage {

Result<std::shared_ptr<ObjectStore>> OpenStore(const ObjectUrl& url,
                                               const std::map<std::string, std::string>& config,
                                               const EnvLookup& env) {
  std::string where = url.WithKey(url.key);
  switch (url.kind) {
    case StoreKind::kS3: {
      auto options = ResolveS3Options(config, env);
      if (!options.ok()) {
        return options.status().WithPrefix("location " + where + ": ");
      }
      return std::shared_ptr<ObjectStore>(MakeS3Store(url, *options));
    }
    case StoreKind::kAzure: {
      auto options = ResolveAzureOptions(config, url.account, env);
      if (!options.ok()) {
        return options.status().WithPrefix("location " + where + ": ");
      }
      return std::shared_ptr<ObjectStore>(MakeAzureStore(url, *options));
    }
    case StoreKind::kGcs: {
      auto options = ResolveGcsOptions(config, url.bucket, env);
      if (!options.ok()) {
        return options.status().WithPrefix("location " + where + ": ");
      }
      return std::shared_ptr<ObjectStore>(MakeGcsStore(url, *options));
    }
  }
  return Status::Internal("location " + where + ": unknown object store kind");
}

Status StoreRegistry::Register(const std::string& url,
                               const std::map<std::string, std::string>& config) {
  AQ_ASSIGN_OR_RETURN(ObjectUrl parsed, ParseObjectUrl(url));
  AQ_ASSIGN_OR_RETURN(auto store, OpenStore(parsed, config, env_));
  std::lock_guard<std::mutex> lock(mu_);
  by_location_[url] = std::move(store);
  return Status::OK();
}

Result<ResolvedObject> StoreRegistry::Resolve(const std::string& url) {
  AQ_ASSIGN_OR_RETURN(ObjectUrl parsed, ParseObjectUrl(url));
  std::lock_guard<std::mutex> lock(mu_);
  const std::string* best = nullptr;
  for (const auto& [location, store] : by_location_) {
    std::string prefix = location;
    // A location is a file or a directory: it contains `url` if equal or a parent of it.
    bool contains = url == prefix || (url.rfind(prefix, 0) == 0 &&
                                      (prefix.back() == '/' || url[prefix.size()] == '/'));
    if (contains && (best == nullptr || prefix.size() > best->size())) {
      best = &location;
    }
  }
  if (best != nullptr) {
    return ResolvedObject{by_location_[*best], parsed.key};
  }
  std::string bucket = parsed.scheme + "://" + parsed.account + "/" + parsed.bucket;
  auto it = by_bucket_.find(bucket);
  if (it == by_bucket_.end()) {
    AQ_ASSIGN_OR_RETURN(auto store, OpenStore(parsed, {}, env_));
    it = by_bucket_.emplace(bucket, std::move(store)).first;
  }
  return ResolvedObject{it->second, parsed.key};
}

}  // namespace aqueducts::storage

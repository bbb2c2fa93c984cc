// ValidateLocations (locations.h): every location must be one this build can read or write.
#include "aqueducts/locations.h"

#include "storage/object_url.h"
#include "storage/store_registry.h"

namespace aqueducts {
namespace {

// `what` names the element, e.g. "source 'jan'". Local files, and the object stores of
// src/storage (S3, GCS, Azure Blob) with valid storage_config keys (docs/object-stores.md).
Status CheckStorage(const std::string& what, const std::string& id, const Location& location,
                    const StorageConfig& storage_config) {
  if (!location.IsLocal()) {
    std::string where = storage::RedactUrl(location.url);
    if (!storage::IsObjectStoreScheme(location.Scheme())) {
      return Status::Unsupported("The " + what + " has location '" + where + "': scheme '" +
                                     location.Scheme() +
                                     "' is not supported (local paths, file:// URLs, and s3://, "
                                     "gs:// or az:// object stores are)",
                                 id);
    }
    auto url = storage::ParseObjectUrl(location.url);
    if (!url.ok()) {
      return url.status().WithPrefix("The " + what + ": ", id);
    }
    // Resolving the options checks every key and that credentials are there, without
    // sending anything.
    auto store = storage::OpenStore(*url, storage_config);
    if (!store.ok()) {
      return store.status().WithPrefix("The " + what + ": ", id);
    }
    return Status::OK();
  }
  if (!storage_config.empty()) {
    std::string keys;
    for (const auto& [key, value] : storage_config) {
      keys += (keys.empty() ? "" : ", ") + key;
    }
    return Status::Unsupported("The " + what + " has storage_config keys (" + keys +
                                   ") but its location is a local path, where storage options "
                                   "have no effect; remove them",
                               id);
  }
  return Status::OK();
}

}  // namespace

Status ValidateLocations(const Aqueduct& aqueduct) {
  const char* kSourceId = "aqueducts::source::location";
  for (const auto& source : aqueduct.sources) {
    if (const auto* file = std::get_if<FileSource>(&source)) {
      AQ_RETURN_IF_ERROR(CheckStorage("source '" + file->name + "'", kSourceId, file->location,
                                      file->storage_config));
    } else if (const auto* dir = std::get_if<DirSource>(&source)) {
      AQ_RETURN_IF_ERROR(CheckStorage("source '" + dir->name + "'", kSourceId, dir->location,
                                      dir->storage_config));
    } else if (const auto* delta = std::get_if<DeltaSource>(&source)) {
      AQ_RETURN_IF_ERROR(CheckStorage("source '" + delta->name + "'", kSourceId, delta->location,
                                      delta->storage_config));
    }
  }
  if (!aqueduct.destination) {
    return Status::OK();
  }
  const char* kDestinationId = "aqueducts::destination::location";
  if (const auto* file = std::get_if<FileDestination>(&*aqueduct.destination)) {
    return CheckStorage("destination '" + file->name + "'", kDestinationId, file->location,
                        file->storage_config);
  }
  if (const auto* delta = std::get_if<DeltaDestination>(&*aqueduct.destination)) {
    return CheckStorage("destination '" + delta->name + "'", kDestinationId, delta->location,
                        delta->storage_config);
  }
  return Status::OK();
}

}  // namespace aqueducts

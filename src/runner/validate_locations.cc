// ValidateLocations (locations.h): every location must be one this build can read or write.
#include "aqueducts/locations.h"

namespace aqueducts {
namespace {

// `what` names the element, e.g. "source 'jan'". Only local files are served: a location with
// another scheme, or storage options (which only object stores use), cannot take effect.
Status CheckStorage(const std::string& what, const std::string& id, const Location& location,
                    const StorageConfig& storage_config) {
  if (!location.IsLocal()) {
    return Status::Unsupported(
        "The " + what + " has location '" + location.url + "': object store scheme '" +
            location.Scheme() +
            "' is not supported (only local paths and file:// URLs); copy the data to a local "
            "path or mount the bucket",
        id);
  }
  if (!storage_config.empty()) {
    std::string keys;
    for (const auto& [key, value] : storage_config) {
      keys += (keys.empty() ? "" : ", ") + key;
    }
    return Status::Unsupported("The " + what + " has storage_config keys (" + keys +
                                   ") but its location is a local path, where storage options "
                                   "have no effect (only local files are served); remove them",
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

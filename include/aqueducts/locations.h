#pragma once

#include "aqueducts/model.h"
#include "aqueducts/status.h"

namespace aqueducts {

/// Check that every source and destination location can be served by this build: local paths
/// and file:// URLs only, with an empty storage_config (storage options only mean something to
/// object stores). Errors are kUnsupported naming the source or destination, the location or
/// the keys. RunPipeline checks this before reading anything; `aqueducts validate` too.
Status ValidateLocations(const Aqueduct& aqueduct);

}  // namespace aqueducts

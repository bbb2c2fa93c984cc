#pragma once

#include <memory>

#include "storage/object_store.h"
#include "storage/object_url.h"
#include "storage/store_options.h"

namespace aqueducts::storage {

/// A Google Cloud Storage bucket through its XML API, authenticated with an OAuth 2.0 access
/// token obtained from a service-account key (an RS256-signed JWT) or an authorized user's
/// refresh token, and refreshed before it expires. The credentials are read at the first
/// request; missing or malformed ones make every request fail with kInvalidArgument, naming
/// where they came from and never their content.
std::unique_ptr<ObjectStore> MakeGcsStore(const ObjectUrl& url, const GcsOptions& options);

}  // namespace aqueducts::storage

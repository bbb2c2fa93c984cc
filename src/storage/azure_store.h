#pragma once

#include <memory>

#include "storage/object_store.h"
#include "storage/object_url.h"
#include "storage/store_options.h"

namespace aqueducts::storage {

/// An Azure Blob container, requests authorised with the account's shared key or a SAS token.
std::unique_ptr<ObjectStore> MakeAzureStore(const ObjectUrl& url, const AzureOptions& options);

/// Create the container `url` names (tests and set-up scripts; pipelines never create one).
/// An existing container is not an error.
Status CreateAzureContainer(const ObjectUrl& url, const AzureOptions& options);

}  // namespace aqueducts::storage

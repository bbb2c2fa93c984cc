#pragma once

#include <memory>

#include "storage/object_store.h"
#include "storage/object_url.h"
#include "storage/store_options.h"

namespace aqueducts::storage {

/// An S3 bucket (AWS or an S3-compatible server), requests signed with AWS Signature V4.
std::unique_ptr<ObjectStore> MakeS3Store(const ObjectUrl& url, const S3Options& options);

}  // namespace aqueducts::storage

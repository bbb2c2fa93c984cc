#pragma once

// Uploads in parts that were started and never completed nor aborted. A writer killed during a
// multipart upload (S3, Google Cloud Storage) leaves one behind: no object appears, which is the
// point, but the store keeps the parts sent so far, and bills them, until the upload is aborted.
// Stores that can list them implement PendingUploadStore next to ObjectStore (the XML API of S3
// and GCS: ListMultipartUploads and AbortMultipartUpload); Azure Blob discards uncommitted
// blocks by itself after a week and has nothing to list here.

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/status.h"

#include "storage/object_store.h"

namespace aqueducts::storage {

/// One upload in parts that was started and is neither completed nor aborted.
struct PendingUpload {
  std::string key;        ///< the object it would create
  std::string upload_id;  ///< the store's id of the upload
  int64_t initiated = 0;  ///< when it was started, seconds since the Unix epoch (0 if unknown)
};

/// What a store that can list its pending uploads offers besides ObjectStore. Thread-safe.
class PendingUploadStore {
 public:
  virtual ~PendingUploadStore() = default;
  /// The pending uploads of keys that start with `prefix`, in key order. Follows the listing's
  /// continuation. An error when the store refuses or cannot list them.
  virtual Result<std::vector<PendingUpload>> ListUploads(const std::string& prefix) = 0;
  /// Abort one pending upload: its parts are deleted. An upload that no longer exists is not an
  /// error.
  virtual Status AbortUpload(const std::string& key, const std::string& upload_id) = 0;
};

/// `store`'s PendingUploadStore side, or nullptr when it cannot list pending uploads.
PendingUploadStore* PendingUploadsOf(ObjectStore& store);

/// Abort the pending uploads under `prefix` (of `key` exactly, when `exact_key`) that were
/// started at least `min_age_seconds` before `now` (seconds since the Unix epoch); returns the
/// uploads aborted. kUnsupported when the store cannot list pending uploads.
Result<std::vector<PendingUpload>> AbortStaleUploads(ObjectStore& store, const std::string& prefix,
                                                     bool exact_key, int64_t min_age_seconds,
                                                     int64_t now);

}  // namespace aqueducts::storage

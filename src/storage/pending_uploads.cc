#include "storage/pending_uploads.h"

namespace aqueducts::storage {

PendingUploadStore* PendingUploadsOf(ObjectStore& store) {
  return dynamic_cast<PendingUploadStore*>(&store);
}

Result<std::vector<PendingUpload>> AbortStaleUploads(ObjectStore& store, const std::string& prefix,
                                                     bool exact_key, int64_t min_age_seconds,
                                                     int64_t now) {
  PendingUploadStore* pending = PendingUploadsOf(store);
  if (pending == nullptr) {
    return Status::Unsupported("the store of " + store.UrlOf(prefix) +
                               " cannot list pending uploads");
  }
  AQ_ASSIGN_OR_RETURN(std::vector<PendingUpload> uploads, pending->ListUploads(prefix));
  std::vector<PendingUpload> aborted;
  for (const PendingUpload& upload : uploads) {
    if (exact_key && upload.key != prefix) {
      continue;
    }
    // An upload of unknown age is never taken for a stale one.
    if (upload.initiated <= 0 || now - upload.initiated < min_age_seconds) {
      continue;
    }
    AQ_RETURN_IF_ERROR(pending->AbortUpload(upload.key, upload.upload_id));
    aborted.push_back(upload);
  }
  return aborted;
}

}  // namespace aqueducts::storage

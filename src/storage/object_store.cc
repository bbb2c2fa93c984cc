#include "storage/object_store.h"

#include <algorithm>

namespace aqueducts::storage {

Status ObjectStore::Rename(const std::string& from, const std::string& to) {
  return Status::Unsupported("cannot publish " + UrlOf(from) + " as " + UrlOf(to) +
                             ": this store has no atomic rename");
}

Status ObjectStore::DeleteAll(const std::string& prefix) {
  AQ_RETURN_IF_ERROR(Delete(prefix));
  AQ_ASSIGN_OR_RETURN(Listing listing, List(prefix + "/"));
  for (const auto& object : listing.objects) {
    AQ_RETURN_IF_ERROR(Delete(object.key));
  }
  return Status::OK();
}

Status ObjectStore::MakeDirectories(const std::string&) {
  return Status::OK();
}

Status ObjectStore::Copy(const std::string& from, const std::string& to, uint64_t) {
  return Status::Unsupported("cannot copy " + UrlOf(from) + " to " + UrlOf(to) +
                             " inside the store");
}

Status CopyObject(ObjectStore& store, const std::string& from, const std::string& to) {
  AQ_ASSIGN_OR_RETURN(ObjectMeta meta, store.Head(from));
  Status copied = store.Copy(from, to, meta.size);
  if (copied.code() != StatusCode::kUnsupported) {
    return copied;
  }
  const uint64_t part = std::max<uint64_t>(store.MinPartSize(), 8ull << 20);
  if (meta.size <= part) {
    AQ_ASSIGN_OR_RETURN(std::string data, store.Get(from));
    return store.Put(to, data);
  }
  AQ_ASSIGN_OR_RETURN(auto upload, store.StartUpload(to));
  std::string buffer;
  for (uint64_t offset = 0; offset < meta.size; offset += part) {
    buffer.resize(std::min(part, meta.size - offset));
    AQ_ASSIGN_OR_RETURN(uint64_t got, store.GetRange(from, offset, buffer.size(), buffer.data()));
    if (got != buffer.size()) {
      return Status::IoError("'" + store.UrlOf(from) + "' changed while it was being copied");
    }
    AQ_RETURN_IF_ERROR(upload->UploadPart(buffer));
  }
  return upload->Complete();
}

int64_t ModifiedMillis(const ObjectMeta& meta) {
  return meta.last_modified_ms != 0 ? meta.last_modified_ms : meta.last_modified * 1000;
}

}  // namespace aqueducts::storage

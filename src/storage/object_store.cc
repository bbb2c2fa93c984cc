#include "storage/object_store.h"

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

int64_t ModifiedMillis(const ObjectMeta& meta) {
  return meta.last_modified_ms != 0 ? meta.last_modified_ms : meta.last_modified * 1000;
}

}  // namespace aqueducts::storage

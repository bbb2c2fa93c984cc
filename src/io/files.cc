#include "io/files.h"

#include <algorithm>

#include "storage/mounts.h"

namespace aqueducts::io::files {
namespace {

// The directory as a listing prefix: "dir/" ("" for the working directory).
std::string DirPrefix(const std::string& dir_key) {
  if (dir_key.empty() || dir_key == ".") {
    return "";
  }
  return dir_key.back() == '/' ? dir_key : dir_key + "/";
}

// An object store has no rename: the object is copied (server-side where the store can), then
// the source is deleted.
Status CopyThenDelete(storage::ObjectStore& store, const std::string& from, const std::string& to) {
  AQ_RETURN_IF_ERROR(storage::CopyObject(store, from, to));
  return store.Delete(from);
}

}  // namespace

Result<Kind> KindOf(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  auto meta = where.store->Head(where.key);
  if (!meta.ok()) {
    if (meta.status().code() == StatusCode::kNotFound) {
      return Kind::kMissing;
    }
    return meta.status();
  }
  return meta->directory ? Kind::kDirectory : Kind::kFile;
}

Status MakeDirs(const std::string& dir) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(dir));
  return where.store->MakeDirectories(where.key);
}

Status Rename(const std::string& from, const std::string& to) {
  AQ_ASSIGN_OR_RETURN(auto target, storage::StoreForPath(to));
  AQ_ASSIGN_OR_RETURN(auto source, storage::StoreForPath(from));
  if (source.store != target.store) {
    return Status::IoError("cannot move '" + from + "' to '" + to + "': different stores");
  }
  Status renamed = target.store->Rename(source.key, target.key);
  if (renamed.code() == StatusCode::kUnsupported) {
    return CopyThenDelete(*target.store, source.key, target.key);
  }
  return renamed;
}

Status Remove(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->Delete(where.key);
}

Status RemoveTree(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->DeleteAll(where.key);
}

int64_t SizeOf(const std::string& path) {
  auto where = storage::StoreForPath(path);
  if (!where.ok()) {
    return -1;
  }
  auto meta = where->store->Head(where->key);
  return meta.ok() ? static_cast<int64_t>(meta->size) : -1;
}

Result<std::vector<std::string>> ListTree(const std::string& dir) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(dir));
  std::string prefix = DirPrefix(where.key);
  AQ_ASSIGN_OR_RETURN(storage::Listing listing, where.store->List(prefix));
  std::vector<std::string> out;
  for (const auto& object : listing.objects) {
    out.push_back(object.key.substr(prefix.size()));
  }
  return out;
}

Result<std::vector<std::string>> ListNames(const std::string& dir, const std::string& name_prefix) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(dir));
  std::string prefix = DirPrefix(where.key);
  AQ_ASSIGN_OR_RETURN(storage::Listing listing, where.store->List(prefix + name_prefix, "/"));
  std::vector<std::string> out;
  for (const auto& object : listing.objects) {
    out.push_back(object.key.substr(prefix.size()));
  }
  for (const auto& sub : listing.prefixes) {
    out.push_back(sub.substr(prefix.size(), sub.size() - prefix.size() - 1));
  }
  return out;
}

Result<std::string> Read(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->Get(where.key);
}

Status Write(const std::string& path, const std::string& data) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->Put(where.key, data);
}

}  // namespace aqueducts::io::files

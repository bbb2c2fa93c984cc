#pragma once

// The storage seam: one interface for every place data lives. The local file system is one
// implementation (storage/local_store.h); S3, Google Cloud Storage and Azure Blob are others; the
// Delta module does its own file operations only through it (src/delta/util.h), and the DuckDB
// file system adapter (src/engine/object_file_system.cc) serves object stores with it.
// Tests inject faults by wrapping an implementation (storage/mounts.h). Implementations are
// thread-safe: one store may serve many threads at once.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::storage {

/// What a store knows of one object.
struct ObjectMeta {
  std::string key;            ///< the object's key inside its bucket/container (no leading '/')
  uint64_t size = 0;          ///< bytes
  std::string etag;           ///< the store's version tag, quotes removed
  int64_t last_modified = 0;  ///< seconds since the Unix epoch (0 when unknown)
  /// The same instant in milliseconds where the store knows it (local files); else
  /// last_modified * 1000.
  int64_t last_modified_ms = 0;
  /// Local file systems only: the key names a directory (object stores have none).
  bool directory = false;
};

/// One listing: objects directly matched and, with a delimiter, the common prefixes.
struct Listing {
  std::vector<ObjectMeta> objects;
  std::vector<std::string> prefixes;  ///< each ends with the delimiter
};

/// An upload in parts: parts are sent as they come; the object appears only on Complete, all at
/// once. Destroying an upload that was not completed aborts it (no object, no leftover parts).
class MultipartUpload {
 public:
  virtual ~MultipartUpload() = default;
  /// Send the next part. Every part but the last must be at least MinPartSize() bytes.
  virtual Status UploadPart(std::string_view data) = 0;
  /// Make the object visible with every part sent so far.
  virtual Status Complete() = 0;
  /// Drop the parts sent so far. Idempotent.
  virtual Status Abort() = 0;
};

/// \brief A bucket (S3, GCS) or container (Azure) of one account.
///
/// Errors: kNotFound for a missing object, kConflict when PutIfAbsent finds the key taken,
/// kIoError otherwise. Messages name the object's URL and never contain a credential.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// The URL of `key` in this store, as a user wrote it (e.g. "s3://bucket/dir/a.csv").
  virtual std::string UrlOf(const std::string& key) const = 0;
  /// Metadata of one object; kNotFound when it does not exist.
  virtual Result<ObjectMeta> Head(const std::string& key) = 0;
  /// Read `length` bytes from `offset` into `out`; returns the number of bytes read (less only
  /// at the end of the object).
  virtual Result<uint64_t> GetRange(const std::string& key, uint64_t offset, uint64_t length,
                                    char* out) = 0;
  /// The whole object.
  virtual Result<std::string> Get(const std::string& key) = 0;
  /// Create or replace an object in one request.
  virtual Status Put(const std::string& key, std::string_view data) = 0;
  /// Create an object only if no object has the key (kConflict otherwise), atomically.
  virtual Status PutIfAbsent(const std::string& key, std::string_view data) = 0;
  /// Start an upload in parts of `key`.
  virtual Result<std::unique_ptr<MultipartUpload>> StartUpload(const std::string& key) = 0;
  /// The smallest part a MultipartUpload accepts (but for the last).
  virtual uint64_t MinPartSize() const = 0;
  /// Every object whose key starts with `prefix`; with a non-empty `delimiter`, keys that have
  /// the delimiter after the prefix are rolled up into `prefixes`. Follows continuation tokens.
  virtual Result<Listing> List(const std::string& prefix, const std::string& delimiter = {}) = 0;
  /// Delete one object; deleting a missing object is not an error.
  virtual Status Delete(const std::string& key) = 0;

  /// Atomic publish: make what is at `from` visible at `to` in one step, replacing what was
  /// there, and remove `from`. A file system does it with rename(2), for a file or a whole
  /// directory. Object stores have no atomic rename: kUnsupported (the default).
  virtual Status Rename(const std::string& from, const std::string& to);
  /// Server-side copy of `from` (`size` bytes, as Head gave it) to `to` in this store, replacing
  /// `to`; the copy appears whole, and no data passes through this process. kUnsupported when the
  /// store cannot copy (the default) or not an object of this size: the caller then copies the
  /// bytes itself (CopyObject below does both).
  virtual Status Copy(const std::string& from, const std::string& to, uint64_t size);
  /// Delete `prefix` and everything below `prefix` + "/"; a missing prefix is not an error.
  /// Default: List and Delete each object.
  virtual Status DeleteAll(const std::string& prefix);
  /// Make `key` usable as a directory for writers outside this interface (DuckDB's COPY),
  /// creating missing parents. Object stores have no directories: nothing to do (the default).
  virtual Status MakeDirectories(const std::string& key);
};

/// Copy the object `from` to `to` in `store`, replacing `to`: server-side (ObjectStore::Copy)
/// when the store can, else through this process (one GET and PUT up to 8 MiB, larger objects in
/// parts of ranged reads sent as one multipart upload). Either way the copy appears whole.
Status CopyObject(ObjectStore& store, const std::string& from, const std::string& to);

/// The milliseconds of a modification time: last_modified_ms, or last_modified * 1000.
int64_t ModifiedMillis(const ObjectMeta& meta);

}  // namespace aqueducts::storage

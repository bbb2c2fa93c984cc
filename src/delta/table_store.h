#pragma once

// Where a Delta table lives: a local directory, or an object-store URL (s3://, gs://, az://
// and their aliases). The module's file operations (util.h) reach an object-store table's store
// through the storage seam while a TableStoreScope for its root is alive.

#include <memory>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "engine/session.h"
#include "storage/mounts.h"

namespace aqueducts::delta {

/// While alive, every path under an object-store `root` is served by the store that the
/// location's `config` (its storage_config, over the environment) configures. Nothing for a
/// local root.
class TableStoreScope {
 public:
  /// kInvalidArgument/kUnsupported name the location and the offending key, never a secret;
  /// a DynamoDB locking provider in `config` is refused naming its key.
  static Result<std::unique_ptr<TableStoreScope>> Open(const std::string& root,
                                                       const StorageConfig& config);

 private:
  std::unique_ptr<storage::ScopedObjectStores> mount_;
};

/// kUnsupported naming the key when `config` sets a locking provider (aws_s3_locking_provider):
/// Delta commits on object stores are create-only puts, never a DynamoDB lock.
Status RefuseLockingProvider(const std::string& url, const StorageConfig& config);

/// Let DuckDB on `session` read and write the data files of an object-store table at
/// `location` with `config` (nothing for a local table).
Status UseTableStore(engine::Session& session, const Location& location,
                     const StorageConfig& config);

/// Before a write that commits to the table at `root` (inside its scope): OK for a local table.
/// On an object store, OK when the store honours create-only puts, which a probe object under
/// `_delta_log/` shows (created once, refused the second time, then deleted); a store that
/// ignores the condition is refused (kUnsupported) unless `aws_s3_allow_unsafe_rename` (config
/// or AWS_S3_ALLOW_UNSAFE_RENAME) is true. AWS_S3_LOCKING_PROVIDER in the environment is
/// refused, naming it: commits use conditional puts, never a DynamoDB lock.
Status CheckCommitSafety(const std::string& root, const StorageConfig& config);

}  // namespace aqueducts::delta

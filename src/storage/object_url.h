#pragma once

// Object-store URLs: which store a location names, its bucket (or container and account) and key.

#include <string>
#include <string_view>

#include "aqueducts/status.h"

namespace aqueducts::storage {

enum class StoreKind { kS3, kAzure, kGcs };

/// A parsed object-store URL. The key is kept exactly as written (no percent-decoding), so a
/// hive directory name such as "k=a%2Fb" is one key segment, as the writer made it.
struct ObjectUrl {
  StoreKind kind = StoreKind::kS3;
  std::string scheme;   ///< lower case, as written ("s3", "s3a", "az", "abfss", ...)
  std::string bucket;   ///< S3/GCS bucket, Azure container
  std::string account;  ///< Azure account when the URL names one; empty otherwise
  std::string key;      ///< no leading '/'; may be empty (the bucket's root)

  /// The URL of another key of the same bucket, in this URL's spelling.
  std::string WithKey(const std::string& other_key) const;
};

/// True for the schemes served by an object store: s3, s3a, gs, gcs, az, azure, abfs, abfss.
bool IsObjectStoreScheme(std::string_view scheme);

/// True when `url` starts with an object-store scheme followed by "://".
bool IsObjectStoreUrl(std::string_view url);

/// Parse `url`. Accepted forms: s3://bucket/key, s3a://bucket/key, gs://bucket/key,
/// gcs://bucket/key, az://container/key, azure://container/key,
/// abfs[s]://container@account.dfs.core.windows.net/key, and
/// az://account.blob.core.windows.net/container/key. kInvalidArgument names the URL otherwise.
Result<ObjectUrl> ParseObjectUrl(const std::string& url);

/// `url` with any user information ("user:password@" before the host) removed, for messages.
std::string RedactUrl(const std::string& url);

}  // namespace aqueducts::storage

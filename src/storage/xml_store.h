#pragma once

// The XML REST API that S3 and Google Cloud Storage share (objects by path, ranged GET,
// ListObjectsV2 listings, multipart uploads). One implementation serves both stores; what
// differs is how a request is authenticated and how a create-only PUT is spelled.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "storage/object_store.h"
#include "storage/object_url.h"

namespace aqueducts::storage {

/// Authenticates the requests of one store. Thread-safe.
class RequestAuth {
 public:
  virtual ~RequestAuth() = default;
  /// Called once before the attempts of each request: may fetch or refresh a credential (an
  /// access token). An error here is the request's error.
  virtual Status Prepare() { return Status::OK(); }
  /// Add authentication headers to one attempt. `headers` (lower-case names) are those to send;
  /// `path` is percent-encoded, `canonical_query` sorted and encoded, `body` the payload.
  virtual void Sign(const std::string& method, const std::string& host, const std::string& path,
                    const std::string& canonical_query, std::string_view body,
                    std::map<std::string, std::string>* headers) = 0;
};

/// Where a store's requests go.
struct XmlEndpoint {
  std::string scheme;       ///< "https" or "http"
  std::string host;         ///< host[:port]
  std::string path_prefix;  ///< "/bucket" when the bucket is in the path; "" when in the host
};

/// How one flavour of the XML API spells what differs.
struct XmlDialect {
  /// The header (lower-case name, value) that makes a PUT fail with 412 when the key exists
  /// (S3: if-none-match: *; GCS: x-goog-if-generation-match: 0).
  std::pair<std::string, std::string> create_only;
  /// The header of a server-side copy's PUT naming the source "bucket/key" (S3:
  /// x-amz-copy-source; GCS: x-goog-copy-source).
  std::string copy_source;
  /// The largest object one copy request may copy (S3: 5 GiB); larger ones are copied by the
  /// caller.
  uint64_t max_copy_size = UINT64_MAX;
  /// The attempts each request gets (1 + the configured retries).
  int max_attempts = 5;
};

/// A store of the XML API.
std::unique_ptr<ObjectStore> MakeXmlStore(const ObjectUrl& url, XmlEndpoint endpoint,
                                          XmlDialect dialect, std::unique_ptr<RequestAuth> auth);

/// Split an endpoint URL ("http://127.0.0.1:9000/base") into scheme, host and path (no
/// trailing '/').
XmlEndpoint ParseEndpoint(const std::string& endpoint_url);

}  // namespace aqueducts::storage

#pragma once

// Credentials and settings of a store: the environment first, then a location's
// `storage_config` keys (case-insensitive, with the original Aqueducts' aliases) on top.
// docs/object-stores.md lists every key.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "aqueducts/status.h"

namespace aqueducts::storage {

/// Reads an environment variable; std::nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
/// The process environment.
EnvLookup ProcessEnv();

struct S3Options {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string region = "us-east-1";
  std::string endpoint;  ///< e.g. "http://127.0.0.1:9000"; empty: AWS
  bool allow_http = false;
  bool virtual_hosted_style = false;  ///< with an endpoint; AWS itself always uses it
  bool skip_signature = false;        ///< anonymous requests (public buckets)
  bool unsigned_payload = false;      ///< sign "UNSIGNED-PAYLOAD" instead of the body hash
  bool allow_unsafe_rename = false;   ///< Delta writes without conditional puts
  /// Where a container agent (ECS, EKS Pod Identity) serves temporary credentials, used when no
  /// access key is configured: AWS_CONTAINER_CREDENTIALS_FULL_URI, or http://169.254.170.2 followed
  /// by AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (or the aws_container_credentials_relative_uri
  /// key). The credentials are fetched at the first request and again before they expire.
  std::string container_credentials_uri;
  /// The Authorization header for that endpoint: AWS_CONTAINER_AUTHORIZATION_TOKEN, else the
  /// contents of the file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at each fetch).
  std::string container_authorization_token;
  std::string container_authorization_token_file;
  /// Retries of a request after throttling, a server error or a lost connection (max_retries).
  int max_retries = 4;
};

struct AzureOptions {
  std::string account;
  std::string account_key;  ///< base64, as the portal shows it
  std::string sas_token;    ///< query string, without the leading '?'
  std::string endpoint;     ///< e.g. "http://127.0.0.1:10000/devstoreaccount1"; empty: Azure
  bool use_emulator = false;
  bool allow_http = false;
  int max_retries = 4;  ///< as S3Options::max_retries
};

struct GcsOptions {
  /// A service-account key or an authorized-user credentials file: the JSON document's text...
  std::string credentials_json;
  /// ... or the path of such a file. Both are read when the first request is made, on the
  /// machine that makes it (an executor may hold credentials that the CLI machine does not).
  std::string credentials_path;
  /// Where the credentials came from, for messages: a key or variable name, never the content.
  std::string credentials_origin;
  std::string endpoint;  ///< e.g. "http://127.0.0.1:4443"; empty: https://storage.googleapis.com
  bool allow_http = false;
  bool skip_signature = false;
  int max_retries = 4;  ///< as S3Options::max_retries
};

/// Resolve S3 settings. An unknown key, a known key we do not support, or a bad boolean is
/// kInvalidArgument naming the key (never its value).
Result<S3Options> ResolveS3Options(const std::map<std::string, std::string>& config,
                                   const EnvLookup& env);

/// Resolve Azure settings; `url_account` is the account a URL names (may be empty).
Result<AzureOptions> ResolveAzureOptions(const std::map<std::string, std::string>& config,
                                         const std::string& url_account, const EnvLookup& env);

/// Resolve Google Cloud Storage settings for the bucket `url_bucket`. The credentials come from
/// google_service_account_key (the JSON text), google_service_account or
/// google_application_credentials (a file), the same variables in the environment, or gcloud's
/// application-default file. Finding none is not an error here: the first request says so.
Result<GcsOptions> ResolveGcsOptions(const std::map<std::string, std::string>& config,
                                     const std::string& url_bucket, const EnvLookup& env);

/// True when `key` names a secret (its value must never be shown).
bool IsSecretKey(const std::string& key);

}  // namespace aqueducts::storage

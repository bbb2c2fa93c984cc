#include "storage/s3_store.h"

#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "storage/crypto.h"
#include "storage/http_client.h"
#include "storage/object_url.h"
#include "storage/store_util.h"
#include "storage/xml_store.h"

namespace aqueducts::storage {
namespace {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

// Credentials are fetched again this long before they expire.
constexpr int64_t kRefreshMarginSeconds = 300;

// AWS Signature Version 4 over the host and every header sent (all lower case, sorted).
class SigV4Auth final : public RequestAuth {
 public:
  explicit SigV4Auth(const S3Options& options) : options_(options) {
    current_ = {options_.access_key_id, options_.secret_access_key, options_.session_token};
  }

  // Container credentials, when no access key is configured: fetched at the first request and
  // again when they are about to expire.
  Status Prepare() override {
    if (options_.skip_signature || options_.container_credentials_uri.empty() ||
        !options_.access_key_id.empty()) {
      return Status::OK();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!current_.access_key_id.empty() &&
        static_cast<int64_t>(std::time(nullptr)) + kRefreshMarginSeconds < expires_at_) {
      return Status::OK();
    }
    return FetchContainerCredentials();
  }

  void Sign(const std::string& method, const std::string& host, const std::string& path,
            const std::string& canonical_query, std::string_view body,
            std::map<std::string, std::string>* headers) override {
    if (options_.skip_signature) {
      return;
    }
    Credentials credentials;
    {
      std::lock_guard<std::mutex> lock(mu_);
      credentials = current_;
    }
    std::string payload_hash =
        options_.unsigned_payload ? "UNSIGNED-PAYLOAD" : HexEncode(Sha256(body));
    std::string date = AmzDate(std::time(nullptr));
    (*headers)["x-amz-date"] = date;
    (*headers)["x-amz-content-sha256"] = payload_hash;
    if (!credentials.session_token.empty()) {
      (*headers)["x-amz-security-token"] = credentials.session_token;
    }
    std::map<std::string, std::string> signed_headers = *headers;
    signed_headers["host"] = host;
    std::string canonical_headers;
    std::string names;
    for (const auto& [name, value] : signed_headers) {
      canonical_headers += name + ":" + value + "\n";
      names += (names.empty() ? "" : ";") + name;
    }
    std::string canonical = method + "\n" + path + "\n" + canonical_query + "\n" +
                            canonical_headers + "\n" + names + "\n" + payload_hash;
    std::string day = date.substr(0, 8);
    std::string scope = day + "/" + options_.region + "/s3/aws4_request";
    std::string to_sign =
        "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + HexEncode(Sha256(canonical));
    std::string key = HmacSha256("AWS4" + credentials.secret_access_key, day);
    key = HmacSha256(key, options_.region);
    key = HmacSha256(key, "s3");
    key = HmacSha256(key, "aws4_request");
    (*headers)["authorization"] = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
                                  scope + ", SignedHeaders=" + names +
                                  ", Signature=" + HexEncode(HmacSha256(key, to_sign));
  }

 private:
  // GET the endpoint (with the authorization token when there is one) and read the JSON answer
  // {AccessKeyId, SecretAccessKey, Token, Expiration}. Errors name the endpoint, never a value.
  Status FetchContainerCredentials() {
    const std::string where = "fetching S3 credentials from the container endpoint " +
                              RedactUrl(options_.container_credentials_uri);
    std::string token = options_.container_authorization_token;
    if (token.empty() && !options_.container_authorization_token_file.empty()) {
      std::ifstream in(options_.container_authorization_token_file);
      if (!in) {
        return Status::IoError(where + ": cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '" +
                               options_.container_authorization_token_file + "'");
      }
      std::stringstream text;
      text << in.rdbuf();
      token = text.str();
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
      }
    }
    auto make = [&]() {
      HttpRequest request;
      request.url = options_.container_credentials_uri;
      if (!token.empty()) {
        request.headers.emplace_back("authorization", token);
      }
      return request;
    };
    AQ_ASSIGN_OR_RETURN(HttpResponse response, HttpSendWithRetry(make));
    if (response.status != 200) {
      return Status::IoError(where + ": HTTP " + std::to_string(response.status));
    }
    auto document = nlohmann::json::parse(response.body, nullptr, false);
    auto text = [&](const char* name) {
      return document.is_object() && document.contains(name) && document[name].is_string()
                 ? document[name].get<std::string>()
                 : std::string();
    };
    Credentials fetched{text("AccessKeyId"), text("SecretAccessKey"), text("Token")};
    if (fetched.access_key_id.empty() || fetched.secret_access_key.empty()) {
      return Status::IoError(where + ": the answer has no AccessKeyId and SecretAccessKey");
    }
    int64_t expires = ParseStoreTime(text("Expiration"));
    // Without a readable expiry, fetch again at the next request after the margin.
    expires_at_ =
        expires > 0 ? expires : static_cast<int64_t>(std::time(nullptr)) + kRefreshMarginSeconds;
    current_ = std::move(fetched);
    return Status::OK();
  }

  S3Options options_;
  std::mutex mu_;
  Credentials current_;     // guarded by mu_
  int64_t expires_at_ = 0;  // guarded by mu_; seconds since the epoch
};

}  // namespace

std::unique_ptr<ObjectStore> MakeS3Store(const ObjectUrl& url, const S3Options& options) {
  XmlEndpoint endpoint;
  if (options.endpoint.empty()) {
    endpoint.scheme = "https";
    endpoint.host = url.bucket + ".s3." + options.region + ".amazonaws.com";
  } else {
    endpoint = ParseEndpoint(options.endpoint);
    if (options.virtual_hosted_style) {
      endpoint.host = url.bucket + "." + endpoint.host;
    } else {
      endpoint.path_prefix += "/" + UriEncode(url.bucket, false);
    }
  }
  // CopyObject copies up to 5 GiB in one request.
  XmlDialect dialect{{"if-none-match", "*"}, "x-amz-copy-source", 5ull << 30};
  dialect.max_attempts = options.max_retries + 1;
  return MakeXmlStore(url, std::move(endpoint), std::move(dialect),
                      std::make_unique<SigV4Auth>(options));
}

}  // namespace aqueducts::storage

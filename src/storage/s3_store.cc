#include "storage/s3_store.h"

#include <ctime>
#include <map>

#include "storage/crypto.h"
#include "storage/store_util.h"
#include "storage/xml_store.h"

namespace aqueducts::storage {
namespace {

// AWS Signature Version 4 over the host and every header sent (all lower case, sorted).
class SigV4Auth final : public RequestAuth {
 public:
  explicit SigV4Auth(const S3Options& options) : options_(options) {}

  void Sign(const std::string& method, const std::string& host, const std::string& path,
            const std::string& canonical_query, std::string_view body,
            std::map<std::string, std::string>* headers) override {
    if (options_.skip_signature) {
      return;
    }
    std::string payload_hash =
        options_.unsigned_payload ? "UNSIGNED-PAYLOAD" : HexEncode(Sha256(body));
    std::string date = AmzDate(std::time(nullptr));
    (*headers)["x-amz-date"] = date;
    (*headers)["x-amz-content-sha256"] = payload_hash;
    if (!options_.session_token.empty()) {
      (*headers)["x-amz-security-token"] = options_.session_token;
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
    std::string key = HmacSha256("AWS4" + options_.secret_access_key, day);
    key = HmacSha256(key, options_.region);
    key = HmacSha256(key, "s3");
    key = HmacSha256(key, "aws4_request");
    (*headers)["authorization"] = "AWS4-HMAC-SHA256 Credential=" + options_.access_key_id + "/" +
                                  scope + ", SignedHeaders=" + names +
                                  ", Signature=" + HexEncode(HmacSha256(key, to_sign));
  }

 private:
  S3Options options_;
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
  return MakeXmlStore(url, std::move(endpoint), std::move(dialect),
                      std::make_unique<SigV4Auth>(options));
}

}  // namespace aqueducts::storage

#include "storage/s3_store.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "storage/crypto.h"
#include "storage/http_client.h"
#include "storage/store_util.h"
#include "storage/xml.h"

namespace aqueducts::storage {
namespace {

constexpr uint64_t kMinPart = 5ull << 20;  // S3's smallest part but the last

using Query = std::map<std::string, std::string>;

class S3Store final : public ObjectStore {
 public:
  S3Store(const ObjectUrl& url, const S3Options& options) : url_(url), options_(options) {
    if (options_.endpoint.empty()) {
      scheme_ = "https";
      host_ = url_.bucket + ".s3." + options_.region + ".amazonaws.com";
    } else {
      size_t sep = options_.endpoint.find("://");
      scheme_ = options_.endpoint.substr(0, sep);
      std::string rest = options_.endpoint.substr(sep + 3);
      size_t slash = rest.find('/');
      host_ = rest.substr(0, slash);
      std::string base_path = slash == std::string::npos ? "" : rest.substr(slash);
      if (options_.virtual_hosted_style) {
        host_ = url_.bucket + "." + host_;
        path_prefix_ = base_path;
      } else {
        path_prefix_ = base_path + "/" + UriEncode(url_.bucket, false);
      }
    }
  }

  std::string UrlOf(const std::string& key) const override { return url_.WithKey(key); }

  Result<ObjectMeta> Head(const std::string& key) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("HEAD", key, {}, {}, {}));
    if (response.status != 200) {
      return StoreError("reading", UrlOf(key), response);
    }
    return MetaOfHead(key, response);
  }

  Result<uint64_t> GetRange(const std::string& key, uint64_t offset, uint64_t length,
                            char* out) override {
    if (length == 0) {
      return uint64_t{0};
    }
    std::string range =
        "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        Send("GET", key, {}, {{"range", range}}, {}, out, length));
    if (response.status != 206 && response.status != 200) {
      if (response.status == 416) {
        return uint64_t{0};  // the range starts at or after the end
      }
      return StoreError("reading", UrlOf(key), response);
    }
    return response.out_bytes;
  }

  Result<std::string> Get(const std::string& key) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("GET", key, {}, {}, {}));
    if (response.status != 200) {
      return StoreError("reading", UrlOf(key), response);
    }
    return std::move(response.body);
  }

  Status Put(const std::string& key, std::string_view data) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("PUT", key, {}, {}, data));
    if (response.status != 200) {
      return StoreError("writing", UrlOf(key), response);
    }
    return Status::OK();
  }

  Status PutIfAbsent(const std::string& key, std::string_view data) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        Send("PUT", key, {}, {{"if-none-match", "*"}}, data));
    if (response.status == 412 || response.status == 409) {
      return Status::Conflict("object " + UrlOf(key) + " already exists");
    }
    if (response.status != 200) {
      return StoreError("writing", UrlOf(key), response);
    }
    return Status::OK();
  }

  Result<std::unique_ptr<MultipartUpload>> StartUpload(const std::string& key) override;

  uint64_t MinPartSize() const override { return kMinPart; }

  Result<Listing> List(const std::string& prefix, const std::string& delimiter) override {
    Listing listing;
    std::string token;
    do {
      Query query = {{"list-type", "2"}, {"prefix", prefix}};
      if (!delimiter.empty()) {
        query["delimiter"] = delimiter;
      }
      if (!token.empty()) {
        query["continuation-token"] = token;
      }
      AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("GET", "", query, {}, {}));
      if (response.status != 200) {
        return StoreError("listing", UrlOf(prefix), response);
      }
      AQ_ASSIGN_OR_RETURN(auto root, ParseXml(response.body));
      for (const XmlNode* item : root->Children("Contents")) {
        ObjectMeta meta;
        meta.key = item->ChildText("Key");
        meta.size = std::stoull("0" + item->ChildText("Size"));
        meta.etag = Unquote(item->ChildText("ETag"));
        meta.last_modified = ParseStoreTime(item->ChildText("LastModified"));
        listing.objects.push_back(std::move(meta));
      }
      for (const XmlNode* item : root->Children("CommonPrefixes")) {
        listing.prefixes.push_back(item->ChildText("Prefix"));
      }
      token = root->ChildText("IsTruncated") == "true" ? root->ChildText("NextContinuationToken")
                                                       : std::string();
    } while (!token.empty());
    return listing;
  }

  Status Delete(const std::string& key) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("DELETE", key, {}, {}, {}));
    if (response.status != 204 && response.status != 200 && response.status != 404) {
      return StoreError("deleting", UrlOf(key), response);
    }
    return Status::OK();
  }

  // One signed request (retried on throttling and server errors). `headers` use lower-case
  // names; `key` is the object key (empty for bucket-level requests).
  Result<HttpResponse> Send(const std::string& method, const std::string& key, const Query& query,
                            const std::map<std::string, std::string>& headers,
                            std::string_view body, char* out = nullptr, uint64_t capacity = 0) {
    // Bucket-level requests (key empty) go to "/bucket" path-style, "/" virtual-hosted.
    std::string path = key.empty() && !path_prefix_.empty()
                           ? path_prefix_
                           : path_prefix_ + "/" + UriEncode(key, true);
    std::string canonical_query;
    for (const auto& [name, value] : query) {  // std::map: sorted by name, as SigV4 wants
      canonical_query += (canonical_query.empty() ? "" : "&") + UriEncode(name, false) + "=" +
                         UriEncode(value, false);
    }
    std::string payload_hash =
        options_.unsigned_payload ? "UNSIGNED-PAYLOAD" : HexEncode(Sha256(body));
    auto make = [&]() {
      HttpRequest request;
      request.method = method;
      request.url =
          scheme_ + "://" + host_ + path + (canonical_query.empty() ? "" : "?" + canonical_query);
      request.body = body;
      request.out = out;
      request.out_capacity = capacity;
      std::map<std::string, std::string> all = headers;
      if (!options_.skip_signature) {
        std::string date = AmzDate(std::time(nullptr));
        all["x-amz-date"] = date;
        all["x-amz-content-sha256"] = payload_hash;
        if (!options_.session_token.empty()) {
          all["x-amz-security-token"] = options_.session_token;
        }
        all["authorization"] =
            Authorization(method, path, canonical_query, all, payload_hash, date);
      }
      for (const auto& [name, value] : all) {
        request.headers.emplace_back(name, value);
      }
      return request;
    };
    return HttpSendWithRetry(make);
  }

 private:
  // AWS Signature Version 4 over host and every header given (all lower case, sorted).
  std::string Authorization(const std::string& method, const std::string& path,
                            const std::string& canonical_query,
                            const std::map<std::string, std::string>& headers,
                            const std::string& payload_hash, const std::string& date) const {
    std::map<std::string, std::string> signed_headers = headers;
    signed_headers["host"] = host_;
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
    return "AWS4-HMAC-SHA256 Credential=" + options_.access_key_id + "/" + scope +
           ", SignedHeaders=" + names + ", Signature=" + HexEncode(HmacSha256(key, to_sign));
  }

  ObjectUrl url_;
  S3Options options_;
  std::string scheme_;
  std::string host_;
  std::string path_prefix_;
};

class S3Upload final : public MultipartUpload {
 public:
  S3Upload(S3Store* store, std::string key, std::string upload_id)
      : store_(store), key_(std::move(key)), upload_id_(std::move(upload_id)) {}
  ~S3Upload() override {
    if (!done_) {
      (void)Abort();
    }
  }

  Status UploadPart(std::string_view data) override {
    int number = static_cast<int>(etags_.size()) + 1;
    AQ_ASSIGN_OR_RETURN(
        HttpResponse response,
        store_->Send("PUT", key_,
                     {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}}, {}, data));
    if (response.status != 200) {
      return StoreError("uploading part " + std::to_string(number) + " of", store_->UrlOf(key_),
                        response);
    }
    etags_.push_back(response.Header("etag"));
    return Status::OK();
  }

  Status Complete() override {
    if (etags_.empty()) {
      AQ_RETURN_IF_ERROR(UploadPart({}));  // S3 needs one part, even an empty one
    }
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
              XmlEscape(etags_[i]) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        store_->Send("POST", key_, {{"uploadId", upload_id_}}, {}, body));
    // S3 may answer 200 with an <Error> body when completing fails late.
    bool failed = response.status != 200 || response.body.find("<Error>") != std::string::npos;
    if (failed) {
      return StoreError("completing the upload of", store_->UrlOf(key_), response);
    }
    done_ = true;
    return Status::OK();
  }

  Status Abort() override {
    if (done_) {
      return Status::OK();
    }
    done_ = true;
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        store_->Send("DELETE", key_, {{"uploadId", upload_id_}}, {}, {}));
    if (response.status != 204 && response.status != 200 && response.status != 404) {
      return StoreError("aborting the upload of", store_->UrlOf(key_), response);
    }
    return Status::OK();
  }

 private:
  S3Store* store_;
  std::string key_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool done_ = false;
};

Result<std::unique_ptr<MultipartUpload>> S3Store::StartUpload(const std::string& key) {
  AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("POST", key, {{"uploads", ""}}, {}, {}));
  if (response.status != 200) {
    return StoreError("starting an upload of", UrlOf(key), response);
  }
  AQ_ASSIGN_OR_RETURN(auto root, ParseXml(response.body));
  std::string id = root->ChildText("UploadId");
  if (id.empty()) {
    return Status::IoError("starting an upload of " + UrlOf(key) + ": the answer has no UploadId");
  }
  return std::unique_ptr<MultipartUpload>(new S3Upload(this, key, id));
}

}  // namespace

std::unique_ptr<ObjectStore> MakeS3Store(const ObjectUrl& url, const S3Options& options) {
  return std::make_unique<S3Store>(url, options);
}

}  // namespace aqueducts::storage

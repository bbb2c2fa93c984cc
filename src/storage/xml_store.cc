#include "storage/xml_store.h"

#include "storage/crypto.h"
#include "storage/http_client.h"
#include "storage/pending_uploads.h"
#include "storage/store_util.h"
#include "storage/xml.h"

namespace aqueducts::storage {
namespace {

constexpr uint64_t kMinPart = 5ull << 20;  // the smallest part but the last (S3 and GCS)

using Query = std::map<std::string, std::string>;

class XmlStore final : public ObjectStore, public PendingUploadStore {
 public:
  XmlStore(const ObjectUrl& url, XmlEndpoint endpoint, XmlDialect dialect,
           std::unique_ptr<RequestAuth> auth)
      : url_(url),
        endpoint_(std::move(endpoint)),
        dialect_(std::move(dialect)),
        auth_(std::move(auth)) {}

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
    AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("PUT", key, {}, {dialect_.create_only}, data));
    if (response.status == 412 || response.status == 409) {
      return ConflictOrOwnWrite(*this, key, data, response);
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

  // ListMultipartUploads (GET ?uploads), page by page (key-marker, upload-id-marker).
  Result<std::vector<PendingUpload>> ListUploads(const std::string& prefix) override {
    std::vector<PendingUpload> uploads;
    std::string key_marker;
    std::string id_marker;
    while (true) {
      Query query = {{"uploads", ""}, {"prefix", prefix}};
      if (!key_marker.empty()) {
        query["key-marker"] = key_marker;
        query["upload-id-marker"] = id_marker;
      }
      AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("GET", "", query, {}, {}));
      if (response.status == 501) {
        return Status::Unsupported(
            "listing the uploads in progress under " + UrlOf(prefix) +
            ": the store does not implement ListMultipartUploads (HTTP 501)");
      }
      if (response.status != 200) {
        return StoreError("listing the uploads in progress under", UrlOf(prefix), response);
      }
      AQ_ASSIGN_OR_RETURN(auto root, ParseXml(response.body));
      for (const XmlNode* item : root->Children("Upload")) {
        uploads.push_back(PendingUpload{item->ChildText("Key"), item->ChildText("UploadId"),
                                        ParseStoreTime(item->ChildText("Initiated"))});
      }
      std::string next_key = root->ChildText("NextKeyMarker");
      std::string next_id = root->ChildText("NextUploadIdMarker");
      if (root->ChildText("IsTruncated") != "true" || next_key.empty() ||
          (next_key == key_marker && next_id == id_marker)) {
        return uploads;
      }
      key_marker = next_key;
      id_marker = next_id;
    }
  }

  // AbortMultipartUpload (DELETE ?uploadId=).
  Status AbortUpload(const std::string& key, const std::string& upload_id) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        Send("DELETE", key, {{"uploadId", upload_id}}, {}, {}));
    if (response.status != 204 && response.status != 200 && response.status != 404) {
      return StoreError("aborting the upload of", UrlOf(key), response);
    }
    return Status::OK();
  }

  // One PUT of the target naming the source; S3 may answer 200 with an <Error> body when a copy
  // fails after it started.
  Status Copy(const std::string& from, const std::string& to, uint64_t size) override {
    if (size > dialect_.max_copy_size) {
      return Status::Unsupported("a copy inside the store is limited to " +
                                 std::to_string(dialect_.max_copy_size) + " bytes");
    }
    // The source is percent-encoded but for '=' (hive "k=v" directories): the stores decode it
    // either way, and servers that decode it as a whole URI (s3rver's decodeURI) keep "%3D".
    std::string encoded = UriEncode(from, true);
    for (size_t at = encoded.find("%3D"); at != std::string::npos; at = encoded.find("%3D", at)) {
      encoded.replace(at, 3, "=");
    }
    AQ_ASSIGN_OR_RETURN(
        HttpResponse response,
        Send("PUT", to, {}, {{dialect_.copy_source, url_.bucket + "/" + encoded}}, {}));
    if (response.status != 200 || response.body.find("<Error>") != std::string::npos) {
      return StoreError("copying " + UrlOf(from) + " to", UrlOf(to), response);
    }
    return Status::OK();
  }

  Status Delete(const std::string& key) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("DELETE", key, {}, {}, {}));
    if (response.status != 204 && response.status != 200 && response.status != 404) {
      return StoreError("deleting", UrlOf(key), response);
    }
    return Status::OK();
  }

  // One authenticated request (retried on throttling and server errors). `headers` use
  // lower-case names; `key` is the object key (empty for bucket-level requests).
  Result<HttpResponse> Send(const std::string& method, const std::string& key, const Query& query,
                            const std::map<std::string, std::string>& headers,
                            std::string_view body, char* out = nullptr, uint64_t capacity = 0) {
    // Bucket-level requests (key empty) go to "/bucket" path-style, "/" virtual-hosted.
    const std::string& prefix = endpoint_.path_prefix;
    std::string path =
        key.empty() && !prefix.empty() ? prefix : prefix + "/" + UriEncode(key, true);
    std::string canonical_query;
    for (const auto& [name, value] : query) {  // std::map: sorted by name, as SigV4 wants
      canonical_query += (canonical_query.empty() ? "" : "&") + UriEncode(name, false) + "=" +
                         UriEncode(value, false);
    }
    if (Status prepared = auth_->Prepare(); !prepared.ok()) {
      return prepared.WithPrefix("authenticating to " + UrlOf(key) + ": ");
    }
    auto make = [&]() {
      HttpRequest request;
      request.method = method;
      request.url = endpoint_.scheme + "://" + endpoint_.host + path +
                    (canonical_query.empty() ? "" : "?" + canonical_query);
      request.body = body;
      request.out = out;
      request.out_capacity = capacity;
      std::map<std::string, std::string> all = headers;
      auth_->Sign(method, endpoint_.host, path, canonical_query, body, &all);
      for (const auto& [name, value] : all) {
        request.headers.emplace_back(name, value);
      }
      return request;
    };
    auto response = HttpSendWithRetry(make, dialect_.max_attempts);
    if (!response.ok()) {  // no answer at all (connection refused, reset, timed out)
      return response.status().WithPrefix(method + " " + UrlOf(key) + ": ");
    }
    return response;
  }

 private:
  ObjectUrl url_;
  XmlEndpoint endpoint_;
  XmlDialect dialect_;
  std::unique_ptr<RequestAuth> auth_;
};

class XmlUpload final : public MultipartUpload {
 public:
  XmlUpload(XmlStore* store, std::string key, std::string upload_id)
      : store_(store), key_(std::move(key)), upload_id_(std::move(upload_id)) {}
  ~XmlUpload() override {
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
  XmlStore* store_;
  std::string key_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool done_ = false;
};

Result<std::unique_ptr<MultipartUpload>> XmlStore::StartUpload(const std::string& key) {
  AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("POST", key, {{"uploads", ""}}, {}, {}));
  if (response.status != 200) {
    return StoreError("starting an upload of", UrlOf(key), response);
  }
  AQ_ASSIGN_OR_RETURN(auto root, ParseXml(response.body));
  std::string id = root->ChildText("UploadId");
  if (id.empty()) {
    return Status::IoError("starting an upload of " + UrlOf(key) + ": the answer has no UploadId");
  }
  return std::unique_ptr<MultipartUpload>(new XmlUpload(this, key, id));
}

}  // namespace

XmlEndpoint ParseEndpoint(const std::string& endpoint_url) {
  XmlEndpoint out;
  size_t sep = endpoint_url.find("://");
  out.scheme = sep == std::string::npos ? "https" : endpoint_url.substr(0, sep);
  std::string rest = sep == std::string::npos ? endpoint_url : endpoint_url.substr(sep + 3);
  size_t slash = rest.find('/');
  out.host = rest.substr(0, slash);
  out.path_prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.path_prefix.empty() && out.path_prefix.back() == '/') {
    out.path_prefix.pop_back();
  }
  return out;
}

std::unique_ptr<ObjectStore> MakeXmlStore(const ObjectUrl& url, XmlEndpoint endpoint,
                                          XmlDialect dialect, std::unique_ptr<RequestAuth> auth) {
  return std::make_unique<XmlStore>(url, std::move(endpoint), std::move(dialect), std::move(auth));
}

}  // namespace aqueducts::storage

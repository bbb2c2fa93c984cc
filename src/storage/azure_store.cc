#include "storage/azure_store.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <thread>

#include "storage/crypto.h"
#include "storage/http_client.h"
#include "storage/store_util.h"
#include "storage/xml.h"

namespace aqueducts::storage {
namespace {

constexpr const char* kApiVersion = "2021-08-06";
constexpr uint64_t kMinBlock = 1;  // blocks may be any size; we still send large ones

using Query = std::map<std::string, std::string>;

class AzureStore final : public ObjectStore {
 public:
  AzureStore(const ObjectUrl& url, const AzureOptions& options) : url_(url), options_(options) {
    base_ = options_.endpoint.empty() ? "https://" + options_.account + ".blob.core.windows.net"
                                      : options_.endpoint;
    // The path part of the endpoint ("/devstoreaccount1" on the emulator) is signed too.
    size_t sep = base_.find("://");
    size_t slash = base_.find('/', sep + 3);
    base_path_ = slash == std::string::npos ? "" : base_.substr(slash);
    base_ = slash == std::string::npos ? base_ : base_.substr(0, slash);
    if (!options_.account_key.empty()) {
      has_key_ = Base64Decode(options_.account_key, &key_);
    }
  }

  bool KeyValid() const { return options_.account_key.empty() || has_key_; }

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
                        Send("GET", key, {}, {{"x-ms-range", range}}, {}, out, length));
    if (response.status == 416) {
      return uint64_t{0};
    }
    if (response.status != 206 && response.status != 200) {
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
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        Send("PUT", key, {}, {{"x-ms-blob-type", "BlockBlob"}}, data));
    if (response.status != 201) {
      return StoreError("writing", UrlOf(key), response);
    }
    return Status::OK();
  }

  Status PutIfAbsent(const std::string& key, std::string_view data) override {
    AQ_ASSIGN_OR_RETURN(
        HttpResponse response,
        Send("PUT", key, {}, {{"x-ms-blob-type", "BlockBlob"}, {"if-none-match", "*"}}, data));
    if (response.status == 409 || response.status == 412) {
      return ConflictOrOwnWrite(*this, key, data, response);
    }
    if (response.status != 201) {
      return StoreError("writing", UrlOf(key), response);
    }
    return Status::OK();
  }

  Result<std::unique_ptr<MultipartUpload>> StartUpload(const std::string& key) override;

  uint64_t MinPartSize() const override { return kMinBlock; }

  Result<Listing> List(const std::string& prefix, const std::string& delimiter) override {
    Listing listing;
    std::string marker;
    do {
      Query query = {{"restype", "container"}, {"comp", "list"}};
      if (!prefix.empty()) {
        query["prefix"] = prefix;
      }
      if (!delimiter.empty()) {
        query["delimiter"] = delimiter;
      }
      if (!marker.empty()) {
        query["marker"] = marker;
      }
      AQ_ASSIGN_OR_RETURN(HttpResponse response, SendContainer("GET", query));
      if (response.status != 200) {
        return StoreError("listing", UrlOf(prefix), response);
      }
      AQ_ASSIGN_OR_RETURN(auto root, ParseXml(response.body));
      if (const XmlNode* blobs = root->Child("Blobs")) {
        for (const XmlNode* blob : blobs->Children("Blob")) {
          ObjectMeta meta;
          meta.key = blob->ChildText("Name");
          if (const XmlNode* props = blob->Child("Properties")) {
            meta.size = std::stoull("0" + props->ChildText("Content-Length"));
            meta.etag = Unquote(props->ChildText("Etag"));
            meta.last_modified = ParseStoreTime(props->ChildText("Last-Modified"));
          }
          listing.objects.push_back(std::move(meta));
        }
        for (const XmlNode* item : blobs->Children("BlobPrefix")) {
          listing.prefixes.push_back(item->ChildText("Name"));
        }
      }
      marker = root->ChildText("NextMarker");
    } while (!marker.empty());
    return listing;
  }

  Status Delete(const std::string& key) override {
    AQ_ASSIGN_OR_RETURN(HttpResponse response, Send("DELETE", key, {}, {}, {}));
    if (response.status != 202 && response.status != 200 && response.status != 404) {
      return StoreError("deleting", UrlOf(key), response);
    }
    return Status::OK();
  }

  // Copy Blob: one PUT of the target naming the source blob's URL (authorised by this request
  // within the account; with a SAS, the SAS goes on the source URL too). The service may finish
  // the copy later (x-ms-copy-status: pending): the target's status is then polled, with
  // growing waits (the service sends no event), until it says success.
  Status Copy(const std::string& from, const std::string& to, uint64_t) override {
    std::string source =
        base_ + base_path_ + "/" + UriEncode(url_.bucket, false) + "/" + UriEncode(from, true);
    if (!has_key_ && !options_.sas_token.empty()) {
      source += "?" + options_.sas_token;
    }
    const std::string what = "copying " + UrlOf(from) + " to";
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        Send("PUT", to, {}, {{"x-ms-copy-source", source}}, {}));
    if (response.status != 202 && response.status != 201) {
      return StoreError(what, UrlOf(to), response);
    }
    std::string state = response.Header("x-ms-copy-status");
    for (int wait_ms = 20; state == "pending"; wait_ms = std::min(wait_ms * 2, 2000)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      AQ_ASSIGN_OR_RETURN(HttpResponse head, Send("HEAD", to, {}, {}, {}));
      if (head.status != 200) {
        return StoreError(what, UrlOf(to), head);
      }
      state = head.Header("x-ms-copy-status");
    }
    if (!state.empty() && state != "success") {
      return Status::IoError(what + " " + UrlOf(to) + ": the copy ended with status '" + state +
                             "'");
    }
    return Status::OK();
  }

  // A request on one blob.
  Result<HttpResponse> Send(const std::string& method, const std::string& key, const Query& query,
                            const std::map<std::string, std::string>& headers,
                            std::string_view body, char* out = nullptr, uint64_t capacity = 0) {
    std::string path =
        base_path_ + "/" + UriEncode(url_.bucket, false) + "/" + UriEncode(key, true);
    return SendPath(method, path, query, headers, body, out, capacity);
  }

  Result<HttpResponse> SendContainer(const std::string& method, const Query& query) {
    return SendPath(method, base_path_ + "/" + UriEncode(url_.bucket, false), query, {}, {},
                    nullptr, 0);
  }

 private:
  Result<HttpResponse> SendPath(const std::string& method, const std::string& path,
                                const Query& query,
                                const std::map<std::string, std::string>& headers,
                                std::string_view body, char* out, uint64_t capacity) {
    if (!KeyValid()) {
      return Status::InvalidArgument("storage_config: the Azure account key for " + UrlOf("") +
                                     " is not valid base64");
    }
    std::string query_string;
    for (const auto& [name, value] : query) {
      query_string += (query_string.empty() ? "" : "&") + UriEncode(name, false) + "=" +
                      UriEncode(value, false);
    }
    if (!has_key_ && !options_.sas_token.empty()) {
      query_string += (query_string.empty() ? "" : "&") + options_.sas_token;
    }
    auto make = [&]() {
      HttpRequest request;
      request.method = method;
      request.url = base_ + path + (query_string.empty() ? "" : "?" + query_string);
      request.body = body;
      request.out = out;
      request.out_capacity = capacity;
      std::map<std::string, std::string> all = headers;
      all["x-ms-date"] = HttpDate(std::time(nullptr));
      all["x-ms-version"] = kApiVersion;
      if (has_key_) {
        all["authorization"] = SharedKey(method, path, query, all, body.size());
      }
      for (const auto& [name, value] : all) {
        request.headers.emplace_back(name, value);
      }
      return request;
    };
    auto response = HttpSendWithRetry(make, options_.max_retries + 1);
    if (!response.ok()) {  // no answer at all (connection refused, reset, timed out)
      return response.status().WithPrefix(method + " " + UrlOf(PathKey(path)) + ": ");
    }
    return response;
  }

  // The key of a blob path (base_path_/container/key), unencoded, for messages; "" for the
  // container itself.
  std::string PathKey(const std::string& path) const {
    std::string container = base_path_ + "/" + UriEncode(url_.bucket, false);
    if (path.size() <= container.size() + 1) {
      return "";
    }
    std::string encoded = path.substr(container.size() + 1);
    std::string out;
    for (size_t i = 0; i < encoded.size(); ++i) {
      if (encoded[i] == '%' && i + 2 < encoded.size()) {
        out += static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += encoded[i];
      }
    }
    return out;
  }

  // The Shared Key signature of the Blob service (version 2009-09-19 and later).
  std::string SharedKey(const std::string& method, const std::string& path, const Query& query,
                        const std::map<std::string, std::string>& headers,
                        size_t content_length) const {
    auto header = [&](const char* name) {
      auto it = headers.find(name);
      return it == headers.end() ? std::string() : it->second;
    };
    std::string to_sign =
        method + "\n" + header("content-encoding") + "\n" + header("content-language") + "\n" +
        (content_length == 0 ? "" : std::to_string(content_length)) + "\n" + header("content-md5") +
        "\n" + header("content-type") + "\n" + header("date") + "\n" + header("if-modified-since") +
        "\n" + header("if-match") + "\n" + header("if-none-match") + "\n" +
        header("if-unmodified-since") + "\n" + header("range") + "\n";
    for (const auto& [name, value] : headers) {  // sorted; names are lower case
      if (name.rfind("x-ms-", 0) == 0) {
        to_sign += name + ":" + value + "\n";
      }
    }
    to_sign += "/" + options_.account + path;
    for (const auto& [name, value] : query) {
      to_sign += "\n" + name + ":" + value;
    }
    return "SharedKey " + options_.account + ":" + Base64Encode(HmacSha256(key_, to_sign));
  }

  ObjectUrl url_;
  AzureOptions options_;
  std::string base_;       // scheme://host[:port]
  std::string base_path_;  // "" or "/account" (emulator)
  std::string key_;        // decoded account key
  bool has_key_ = false;
};

// Blocks staged with Put Block, committed in order by Put Block List. Uncommitted blocks are
// dropped by the service (after a week), so an abort only forgets them.
class AzureUpload final : public MultipartUpload {
 public:
  AzureUpload(AzureStore* store, std::string key) : store_(store), key_(std::move(key)) {}

  Status UploadPart(std::string_view data) override {
    char id[16];
    std::snprintf(id, sizeof id, "%010zu", ids_.size());  // every id must have the same length
    std::string block_id = Base64Encode(id);
    AQ_ASSIGN_OR_RETURN(
        HttpResponse response,
        store_->Send("PUT", key_, {{"comp", "block"}, {"blockid", block_id}}, {}, data));
    if (response.status != 201) {
      return StoreError("uploading a block of", store_->UrlOf(key_), response);
    }
    ids_.push_back(block_id);
    return Status::OK();
  }

  Status Complete() override {
    std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
    for (const auto& id : ids_) {
      body += "<Latest>" + id + "</Latest>";
    }
    body += "</BlockList>";
    AQ_ASSIGN_OR_RETURN(HttpResponse response,
                        store_->Send("PUT", key_, {{"comp", "blocklist"}}, {}, body));
    if (response.status != 201) {
      return StoreError("completing the upload of", store_->UrlOf(key_), response);
    }
    return Status::OK();
  }

  Status Abort() override { return Status::OK(); }

 private:
  AzureStore* store_;
  std::string key_;
  std::vector<std::string> ids_;
};

Result<std::unique_ptr<MultipartUpload>> AzureStore::StartUpload(const std::string& key) {
  if (!KeyValid()) {
    return Status::InvalidArgument("storage_config: the Azure account key for " + UrlOf("") +
                                   " is not valid base64");
  }
  return std::unique_ptr<MultipartUpload>(new AzureUpload(this, key));
}

}  // namespace

Status CreateAzureContainer(const ObjectUrl& url, const AzureOptions& options) {
  AzureStore store(url, options);
  AQ_ASSIGN_OR_RETURN(HttpResponse response,
                      store.SendContainer("PUT", {{"restype", "container"}}));
  if (response.status != 201 && response.status != 409) {
    return StoreError("creating the container of", url.WithKey(""), response);
  }
  return Status::OK();
}

std::unique_ptr<ObjectStore> MakeAzureStore(const ObjectUrl& url, const AzureOptions& options) {
  return std::make_unique<AzureStore>(url, options);
}

}  // namespace aqueducts::storage

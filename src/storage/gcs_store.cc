#include "storage/gcs_store.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>

#include <nlohmann/json.hpp>

#include "storage/crypto.h"
#include "storage/http_client.h"
#include "storage/xml_store.h"

namespace aqueducts::storage {
namespace {

constexpr const char* kDefaultEndpoint = "https://storage.googleapis.com";
constexpr const char* kDefaultTokenUri = "https://oauth2.googleapis.com/token";
constexpr const char* kScope = "https://www.googleapis.com/auth/devstorage.read_write";
constexpr int64_t kRefreshMarginSeconds = 300;  // refresh a token this long before it expires

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a credentials document says, checked once when the store is made.
struct Credentials {
  std::string type;  // "service_account" or "authorized_user"
  std::string token_uri;
  std::string client_email;  // service account
  std::string private_key;
  std::string private_key_id;
  std::string client_id;  // authorized user
  std::string client_secret;
  std::string refresh_token;
};

// The credentials document: the JSON text given, or the file named, read now.
Result<Credentials> LoadCredentials(const GcsOptions& options) {
  std::string origin = options.credentials_origin;
  std::string json = options.credentials_json;
  if (json.empty() && !options.credentials_path.empty()) {
    origin = "'" + options.credentials_path + "' (" + options.credentials_origin + ")";
    std::ifstream in(options.credentials_path, std::ios::binary);
    if (!in) {
      return Status::InvalidArgument("cannot read the Google credentials file " + origin);
    }
    json.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (json.empty()) {
    return Status::InvalidArgument(
        "no Google credentials; set google_service_account (a service-account key file), "
        "google_service_account_key (its JSON) or GOOGLE_APPLICATION_CREDENTIALS, or "
        "google_skip_signature: true for a public bucket");
  }
  auto invalid = [&](const std::string& what) {
    return Status::InvalidArgument("the Google credentials from " + origin + " " + what);
  };
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object()) {
    return invalid("are not a JSON object");
  }
  auto text = [&](const char* name) {
    auto it = doc.find(name);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Credentials out;
  out.type = text("type");
  out.token_uri = text("token_uri").empty() ? kDefaultTokenUri : text("token_uri");
  if (out.type == "service_account") {
    out.client_email = text("client_email");
    out.private_key = text("private_key");
    out.private_key_id = text("private_key_id");
    if (out.client_email.empty() || out.private_key.empty()) {
      return invalid("lack client_email or private_key");
    }
  } else if (out.type == "authorized_user") {
    out.client_id = text("client_id");
    out.client_secret = text("client_secret");
    out.refresh_token = text("refresh_token");
    if (out.client_id.empty() || out.refresh_token.empty()) {
      return invalid("lack client_id or refresh_token");
    }
  } else {
    return invalid("have type '" + out.type.substr(0, 40) +
                   "'; expected service_account or authorized_user");
  }
  return out;
}

// Bearer tokens from the OAuth 2.0 token endpoint, cached until shortly before they expire. The
// credentials are read at the first request (and a failure to read them is every request's).
class OAuthAuth final : public RequestAuth {
 public:
  explicit OAuthAuth(GcsOptions options) : options_(std::move(options)) {}

  Status Prepare() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!loaded_) {
      auto credentials = LoadCredentials(options_);
      load_status_ = credentials.status();
      if (credentials.ok()) {
        credentials_ = std::move(*credentials);
      }
      loaded_ = true;
    }
    if (!load_status_.ok()) {
      return load_status_;
    }
    if (!token_.empty() && NowSeconds() + kRefreshMarginSeconds < expires_at_) {
      return Status::OK();
    }
    return Refresh();
  }

  void Sign(const std::string&, const std::string&, const std::string&, const std::string&,
            std::string_view, std::map<std::string, std::string>* headers) override {
    std::lock_guard<std::mutex> lock(mu_);
    (*headers)["authorization"] = "Bearer " + token_;
  }

 private:
  // The token request's form body.
  Result<std::string> Form() const {
    if (credentials_.type == "authorized_user") {
      return "grant_type=refresh_token&client_id=" + UriEncode(credentials_.client_id, false) +
             "&client_secret=" + UriEncode(credentials_.client_secret, false) +
             "&refresh_token=" + UriEncode(credentials_.refresh_token, false);
    }
    int64_t now = NowSeconds();
    nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
    if (!credentials_.private_key_id.empty()) {
      header["kid"] = credentials_.private_key_id;
    }
    nlohmann::json claims = {{"iss", credentials_.client_email},
                             {"scope", kScope},
                             {"aud", credentials_.token_uri},
                             {"iat", now},
                             {"exp", now + 3600}};
    std::string unsigned_jwt =
        Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
    AQ_ASSIGN_OR_RETURN(std::string signature,
                        RsaSha256Sign(credentials_.private_key, unsigned_jwt));
    return "grant_type=" + UriEncode("urn:ietf:params:oauth:grant-type:jwt-bearer", false) +
           "&assertion=" + unsigned_jwt + "." + Base64UrlEncode(signature);
  }

  Status Refresh() {
    auto form = Form();
    if (!form.ok()) {
      return form.status().WithPrefix("the service account's ");
    }
    auto make = [&]() {
      HttpRequest request;
      request.method = "POST";
      request.url = credentials_.token_uri;
      request.body = *form;
      request.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
      return request;
    };
    AQ_ASSIGN_OR_RETURN(HttpResponse response, HttpSendWithRetry(make));
    nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    auto field = [&](const char* name) {
      return body.is_object() && body.contains(name) && body[name].is_string()
                 ? body[name].get<std::string>()
                 : std::string();
    };
    if (response.status != 200 || field("access_token").empty()) {
      // The endpoint's error code and description hold no secret; they say what is wrong.
      std::string detail = field("error");
      if (!field("error_description").empty()) {
        detail += (detail.empty() ? "" : ": ") + field("error_description");
      }
      return Status::IoError("the token request to " + credentials_.token_uri + " failed: HTTP " +
                             std::to_string(response.status) +
                             (detail.empty() ? "" : " (" + detail.substr(0, 300) + ")") +
                             "; check the credentials for this location");
    }
    token_ = field("access_token");
    int64_t lifetime = body.contains("expires_in") && body["expires_in"].is_number_integer()
                           ? body["expires_in"].get<int64_t>()
                           : 3600;
    expires_at_ = NowSeconds() + lifetime;
    return Status::OK();
  }

  GcsOptions options_;
  std::mutex mu_;
  bool loaded_ = false;
  Status load_status_;
  Credentials credentials_;
  std::string token_;
  int64_t expires_at_ = 0;
};

// Requests without credentials (public buckets).
class AnonymousAuth final : public RequestAuth {
 public:
  void Sign(const std::string&, const std::string&, const std::string&, const std::string&,
            std::string_view, std::map<std::string, std::string>*) override {}
};

}  // namespace

std::unique_ptr<ObjectStore> MakeGcsStore(const ObjectUrl& url, const GcsOptions& options) {
  std::unique_ptr<RequestAuth> auth;
  if (options.skip_signature) {
    auth = std::make_unique<AnonymousAuth>();
  } else {
    auth = std::make_unique<OAuthAuth>(options);
  }
  XmlEndpoint endpoint =
      ParseEndpoint(options.endpoint.empty() ? kDefaultEndpoint : options.endpoint);
  endpoint.path_prefix += "/" + UriEncode(url.bucket, false);
  XmlDialect dialect{{"x-goog-if-generation-match", "0"}, "x-goog-copy-source", UINT64_MAX};
  dialect.max_attempts = options.max_retries + 1;
  return MakeXmlStore(url, std::move(endpoint), std::move(dialect), std::move(auth));
}

}  // namespace aqueducts::storage

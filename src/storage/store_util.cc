#include "storage/store_util.h"

#include <cstdlib>
#include <cstring>

#include "storage/xml.h"

namespace aqueducts::storage {

std::string AmzDate(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

std::string HttpDate(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

int64_t ParseStoreTime(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) {
    tm = {};
    end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  }
  if (end == nullptr) {
    return 0;
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::string Unquote(const std::string& etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

ObjectMeta MetaOfHead(const std::string& key, const HttpResponse& response) {
  ObjectMeta meta;
  meta.key = key;
  std::string length = response.Header("content-length");
  meta.size = length.empty() ? 0 : std::strtoull(length.c_str(), nullptr, 10);
  meta.etag = Unquote(response.Header("etag"));
  meta.last_modified = ParseStoreTime(response.Header("last-modified"));
  return meta;
}

Status StoreError(const std::string& what, const std::string& url, const HttpResponse& response) {
  std::string detail;
  if (!response.body.empty()) {
    auto xml = ParseXml(response.body);
    if (xml.ok()) {
      std::string code = (*xml)->ChildText("Code");
      std::string message = (*xml)->ChildText("Message");
      detail = code;
      if (!message.empty()) {
        // The first line only: some stores append the whole string they signed.
        detail += (detail.empty() ? "" : ": ") + message.substr(0, message.find('\n'));
      }
    }
  }
  if (detail.empty()) {
    detail = response.Header("x-ms-error-code");
  }
  std::string message = what + " " + url + " failed: HTTP " + std::to_string(response.status);
  if (!detail.empty()) {
    message += " (" + (detail.size() > 300 ? detail.substr(0, 300) + "..." : detail) + ")";
  }
  if (response.attempts > 1) {
    message += " after " + std::to_string(response.attempts) + " attempts";
  }
  switch (response.status) {
    case 404:
      return Status::NotFound(message);
    case 409:
    case 412:
      return Status::Conflict(message);
    case 401:
    case 403:
      return Status::IoError(message + "; check the credentials for this location");
    default:
      return Status::IoError(message);
  }
}

Status ConflictOrOwnWrite(ObjectStore& store, const std::string& key, std::string_view data,
                          const HttpResponse& response) {
  std::string exists = "object " + store.UrlOf(key) + " already exists";
  if (response.attempts <= 1) {
    return Status::Conflict(exists);
  }
  auto present = store.Get(key);
  if (!present.ok()) {
    return present.status().WithPrefix(
        "a create-only write of " + store.UrlOf(key) + " was retried after " +
        std::to_string(response.attempts - 1) +
        " failed attempt(s) and found the object present, but it could not be read back to tell "
        "whether it is this write: ");
  }
  if (*present == data) {
    return Status::OK();  // an earlier attempt of this very write created it
  }
  return Status::Conflict(exists);
}

}  // namespace aqueducts::storage

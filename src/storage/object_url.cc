#include "storage/object_url.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/text.h"

namespace aqueducts::storage {
namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The Azure account of a host such as "acct.blob.core.windows.net"; empty for other hosts.
std::string AzureAccountOfHost(const std::string& host) {
  for (std::string_view suffix : {".blob.core.windows.net", ".dfs.core.windows.net"}) {
    if (EndsWith(host, suffix)) {
      return host.substr(0, host.size() - suffix.size());
    }
  }
  return {};
}

}  // namespace

bool IsObjectStoreScheme(std::string_view scheme) {
  static constexpr std::array<std::string_view, 8> kSchemes = {"s3", "s3a",   "gs",   "gcs",
                                                               "az", "azure", "abfs", "abfss"};
  std::string lower = ToLowerAscii(scheme);
  return std::find(kSchemes.begin(), kSchemes.end(), lower) != kSchemes.end();
}

bool IsObjectStoreUrl(std::string_view url) {
  size_t colon = url.find("://");
  return colon != std::string_view::npos && IsObjectStoreScheme(url.substr(0, colon));
}

std::string ObjectUrl::WithKey(const std::string& other_key) const {
  std::string host = bucket;
  if (!account.empty()) {
    host = (scheme == "abfs" || scheme == "abfss")
               ? bucket + "@" + account + ".dfs.core.windows.net"
               : account + ".blob.core.windows.net/" + bucket;
  }
  return scheme + "://" + host + "/" + other_key;
}

Result<ObjectUrl> ParseObjectUrl(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos || !IsObjectStoreScheme(url.substr(0, sep))) {
    return Status::InvalidArgument("not an object-store URL: '" + RedactUrl(url) + "'");
  }
  ObjectUrl out;
  out.scheme = ToLowerAscii(url.substr(0, sep));
  std::string rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string host = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (host.find('@') != std::string::npos && out.scheme != "abfs" && out.scheme != "abfss") {
    return Status::InvalidArgument("object-store URL '" + RedactUrl(url) +
                                   "' carries credentials in the URL; give them in "
                                   "storage_config or the environment instead");
  }
  if (out.scheme == "s3" || out.scheme == "s3a") {
    out.kind = StoreKind::kS3;
  } else if (out.scheme == "gs" || out.scheme == "gcs") {
    out.kind = StoreKind::kGcs;
  } else {
    out.kind = StoreKind::kAzure;
    if (out.scheme == "abfs" || out.scheme == "abfss") {
      size_t at = host.find('@');
      if (at == std::string::npos) {
        return Status::InvalidArgument("Azure URL '" + url +
                                       "' must read abfss://container@account.dfs.core.windows.net/"
                                       "path");
      }
      out.account = AzureAccountOfHost(host.substr(at + 1));
      if (out.account.empty()) {
        out.account = host.substr(at + 1, host.find('.', at) - at - 1);
      }
      host = host.substr(0, at);
    } else if (std::string account = AzureAccountOfHost(host); !account.empty()) {
      out.account = account;
      size_t next = path.find('/');
      host = path.substr(0, next);
      path = next == std::string::npos ? "" : path.substr(next + 1);
    }
  }
  out.bucket = host;
  out.key = path;
  if (out.bucket.empty()) {
    return Status::InvalidArgument("object-store URL '" + url + "' names no bucket or container");
  }
  return out;
}

std::string RedactUrl(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) {
    return url;
  }
  size_t host_end = url.find('/', sep + 3);
  size_t at = url.rfind('@', host_end == std::string::npos ? url.size() : host_end);
  if (at == std::string::npos || at < sep + 3) {
    return url;
  }
  std::string userinfo = url.substr(sep + 3, at - sep - 3);
  // abfss://container@account...: the part before '@' is a container, not a credential.
  if (userinfo.find(':') == std::string::npos) {
    return url;
  }
  return url.substr(0, sep + 3) + "***@" + url.substr(at + 1);
}

}  // namespace aqueducts::storage

#include "delta/util.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "common/hex.h"
#include "storage/mounts.h"

namespace aqueducts::delta {
namespace {

void AppendHex(std::string& out, unsigned char c) {
  static const char* kHex = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = HexDigitValue(text[i + 1]);
      int lo = HexDigitValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string PercentEncodePath(std::string_view path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '=') {
      out.push_back(static_cast<char>(c));
    } else {
      AppendHex(out, c);
    }
  }
  return out;
}

std::string HiveEscape(std::string_view value) {
  static const std::string_view kSpecial = "\"#%'*/:=?\\{[]^";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 0x01 && c <= 0x1F) || c == 0x7F ||
        kSpecial.find(static_cast<char>(c)) != kSpecial.npos) {
      AppendHex(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  return path;
}

std::string ZeroPadVersion(int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(version));
  return buf;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every file operation of the module goes through the storage seam (storage/mounts.h): the
// local file system, or whatever store is mounted where the table lives.

Result<std::string> ReadWholeFile(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->Get(where.key);
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(dir));
  AQ_ASSIGN_OR_RETURN(storage::Listing listing, where.store->List(where.key + "/", "/"));
  if (listing.objects.empty() && listing.prefixes.empty()) {
    auto meta = where.store->Head(where.key);
    if (!meta.ok() && meta.status().code() != StatusCode::kNotFound) {
      return meta.status();
    }
    if (!meta.ok() || !meta->directory) {
      return Status::NotFound("directory '" + dir + "' does not exist");
    }
  }
  size_t skip = where.key.size() + 1;
  std::vector<std::string> names;
  for (const auto& object : listing.objects) {
    names.push_back(object.key.substr(skip));
  }
  for (const auto& prefix : listing.prefixes) {
    names.push_back(prefix.substr(skip, prefix.size() - skip - 1));
  }
  return names;
}

namespace {

Result<storage::ObjectMeta> Stat(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->Head(where.key);
}

}  // namespace

bool PathExists(const std::string& path) {
  return Stat(path).ok();
}

int64_t FileMtimeMillis(const std::string& path) {
  auto meta = Stat(path);
  return meta.ok() ? storage::ModifiedMillis(*meta) : -1;
}

int64_t FileSize(const std::string& path) {
  auto meta = Stat(path);
  return meta.ok() ? static_cast<int64_t>(meta->size) : -1;
}

Status MakeDirs(const std::string& dir) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(dir));
  return where.store->MakeDirectories(where.key);
}

Result<bool> WriteFileIfAbsent(const std::string& target, const std::string& data) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(target));
  Status put = where.store->PutIfAbsent(where.key, data);
  if (put.code() == StatusCode::kConflict) {
    return false;
  }
  AQ_RETURN_IF_ERROR(put);
  return true;
}

Status WriteFileReplace(const std::string& target, const std::string& data) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(target));
  return where.store->Put(where.key, data);
}

namespace {

// An object store has no rename: copy the object (server-side where the store can; the copy
// appears all at once, as a rename would), then delete the source.
Status CopyThenDelete(storage::ObjectStore& store, const std::string& from, const std::string& to) {
  AQ_RETURN_IF_ERROR(storage::CopyObject(store, from, to));
  return store.Delete(from);
}

}  // namespace

Status RenamePath(const std::string& from, const std::string& to) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(to));
  AQ_ASSIGN_OR_RETURN(auto source, storage::StoreForPath(from));
  if (source.store != where.store) {
    return Status::IoError("cannot move '" + from + "' to '" + to + "': different stores");
  }
  Status renamed = where.store->Rename(source.key, where.key);
  if (renamed.code() == StatusCode::kUnsupported) {
    return CopyThenDelete(*where.store, source.key, where.key);
  }
  return renamed;
}

Status RemovePath(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->Delete(where.key);
}

Status RemoveTree(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(path));
  return where.store->DeleteAll(where.key);
}

std::optional<int64_t> ParseTimestampMicros(std::string_view text) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  std::string t(text);
  int consumed = 0;
  if (std::sscanf(t.c_str(), "%d-%d-%d%n", &y, &mo, &d, &consumed) != 3) {
    return std::nullopt;
  }
  size_t pos = size_t(consumed);
  int64_t micros = 0;
  int64_t offset_seconds = 0;
  if (pos < t.size() && (t[pos] == 'T' || t[pos] == ' ')) {
    int c2 = 0;
    if (std::sscanf(t.c_str() + pos + 1, "%d:%d:%d%n", &h, &mi, &s, &c2) != 3) {
      return std::nullopt;
    }
    pos += 1 + size_t(c2);
    if (pos < t.size() && t[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
        micros += (t[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
    if (pos < t.size()) {
      if (t[pos] == 'Z' || t[pos] == 'z') {
        ++pos;
      } else if (t[pos] == '+' || t[pos] == '-') {
        int oh = 0, om = 0;
        int sign = t[pos] == '-' ? -1 : 1;
        if (std::sscanf(t.c_str() + pos + 1, "%d:%d", &oh, &om) < 1) {
          return std::nullopt;
        }
        offset_seconds = sign * (oh * 3600 + om * 60);
        pos = t.size();
      }
    }
  }
  // Days from civil (Howard Hinnant's algorithm).
  y -= mo <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_seconds;
  return secs * 1000000 + micros;
}

}  // namespace aqueducts::delta

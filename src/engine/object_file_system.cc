#include "engine/object_file_system.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <mutex>

#include <duckdb.hpp>
#include <duckdb/common/file_system.hpp>
#include <duckdb/common/virtual_file_system.hpp>
#include <fnmatch.h>

#include "engine/duckdb_error.h"
#include "storage/object_url.h"
#include "storage/pending_uploads.h"

namespace aqueducts::engine {
namespace {

constexpr const char* kName = "AqueductsObjectStoreFileSystem";
constexpr uint64_t kPartSize = 8ull << 20;  // bytes buffered before a part is sent
// Read-ahead of small reads: a read that follows a seek fetches kMinReadAhead; each miss that
// continues where the previous fetch ended doubles it, up to kMaxReadAhead. A selective Parquet
// read (footer, then a few column chunks) thus fetches little beyond what it uses, and a
// sequential reader of small pieces still reaches 1 MiB requests after a few of them.
constexpr uint64_t kMinReadAhead = 64ull << 10;
constexpr uint64_t kMaxReadAhead = 1ull << 20;
// DuckDB's threads read different parts of one handle at once; each such stream keeps its own
// read-ahead window (a slot), so that one stream's miss does not evict the window another is
// still reading. A miss that does not continue a window replaces the least recently used one.
constexpr size_t kReadAheadSlots = 8;
// A pending upload of the key being written that was started this long ago (or longer) comes
// from a writer that died mid-upload, and is aborted (ObjectHandle::DropAbandonedUploads).
constexpr int64_t kAbandonedUploadSeconds = 24 * 3600;

[[noreturn]] void Throw(const Status& status) {
  throw duckdb::IOException(status.message());
}

template <typename T>
T Unwrap(Result<T> result) {
  if (!result.ok()) {
    Throw(result.status());
  }
  return std::move(result).value();
}

void Check(const Status& status) {
  if (!status.ok()) {
    Throw(status);
  }
}

class ObjectHandle final : public duckdb::FileHandle {
 public:
  ObjectHandle(duckdb::FileSystem& fs, const std::string& object_path,
               duckdb::FileOpenFlags open_flags, storage::ResolvedObject object,
               storage::StoreRegistry* uploads)
      : FileHandle(fs, object_path, open_flags), object_(std::move(object)), uploads_(uploads) {}

  ~ObjectHandle() override {
    // DuckDB closes a handle only when its writer succeeded: an upload never completed is
    // dropped, so a failed COPY leaves no object and the previous one untouched.
    if (upload_ != nullptr) {
      (void)upload_->Abort();
    }
  }

  void Close() override {
    if (!flags.OpenForWriting() || closed_) {
      return;
    }
    closed_ = true;
    if (upload_ == nullptr) {
      Check(object_.store->Put(object_.key, buffer_));
    } else {
      if (!buffer_.empty()) {
        Check(upload_->UploadPart(buffer_));
      }
      Check(upload_->Complete());
      upload_.reset();
    }
    uploads_->CountUploaded(buffer_.size());
    buffer_.clear();
  }

  void Append(const char* data, uint64_t n) {
    buffer_.append(data, n);
    written_ += n;
    if (buffer_.size() >= kPartSize) {
      if (upload_ == nullptr) {
        DropAbandonedUploads();
        upload_ = Unwrap(object_.store->StartUpload(object_.key));
      }
      Check(upload_->UploadPart(buffer_));
      uploads_->CountUploaded(buffer_.size());
      buffer_.clear();
    }
  }

  // Before the first part of a new upload: uploads of this same key that were started at least
  // kAbandonedUploadSeconds ago and never completed were left by a writer that died mid-upload
  // (no object appeared, but the store keeps and bills their parts); they are aborted. Best
  // effort: where the store cannot list them (an S3 server without ListMultipartUploads, a
  // credential without the permission, Azure) this write goes on unchanged.
  void DropAbandonedUploads() {
    (void)storage::AbortStaleUploads(*object_.store, object_.key, /*exact_key=*/true,
                                     kAbandonedUploadSeconds,
                                     static_cast<int64_t>(std::time(nullptr)));
  }

  // Read [offset, offset + n) into out; returns bytes read (short only at the end).
  uint64_t ReadAt(char* out, uint64_t n, uint64_t offset) {
    if (offset >= meta_.size || n == 0) {
      return 0;
    }
    n = std::min<uint64_t>(n, meta_.size - offset);
    if (n < kMaxReadAhead) {
      std::lock_guard<std::mutex> lock(cache_mu_);
      Window& window = WindowFor(offset, n);
      uint64_t available = window.offset + window.data.size() - offset;
      uint64_t take = std::min(n, available);
      std::memcpy(out, window.data.data() + (offset - window.offset), take);
      return take;
    }
    uint64_t done = 0;
    while (done < n) {
      uint64_t got =
          Unwrap(object_.store->GetRange(object_.key, offset + done, n - done, out + done));
      if (got == 0) {
        break;
      }
      done += got;
    }
    return done;
  }

  // A read-ahead window: [offset, offset + data.size()) of the object.
  struct Window {
    uint64_t offset = 0;
    std::string data;
    uint64_t read_ahead = kMinReadAhead;  // the size of its last fetch's read-ahead
    uint64_t last_use = 0;
  };

  // The window holding [offset, offset + n) (n < kMaxReadAhead, offset < size), fetched if no
  // window holds it. Called with cache_mu_ held.
  Window& WindowFor(uint64_t offset, uint64_t n) {
    Window* continued = nullptr;
    Window* oldest = &windows_[0];
    for (auto& window : windows_) {
      uint64_t end = window.offset + window.data.size();
      if (!window.data.empty() && offset >= window.offset && offset + n <= end) {
        window.last_use = ++uses_;
        return window;
      }
      if (!window.data.empty() && offset >= window.offset && offset <= end) {
        continued = &window;
      }
      if (window.last_use < oldest->last_use) {
        oldest = &window;
      }
    }
    Window& window = continued != nullptr ? *continued : *oldest;
    window.read_ahead =
        continued != nullptr ? std::min(window.read_ahead * 2, kMaxReadAhead) : kMinReadAhead;
    uint64_t want = std::min<uint64_t>(std::max(n, window.read_ahead), meta_.size - offset);
    // Fetched aside: a failed fetch (Unwrap throws) leaves every window as it was.
    std::string data(want, '\0');
    data.resize(Unwrap(object_.store->GetRange(object_.key, offset, want, data.data())));
    window.data = std::move(data);
    window.offset = offset;
    window.last_use = ++uses_;
    return window;
  }

  storage::ResolvedObject object_;
  storage::ObjectMeta meta_;
  uint64_t position_ = 0;
  uint64_t written_ = 0;

 private:
  std::string buffer_;
  storage::StoreRegistry* uploads_;  // counts the bytes sent (the file system's registry)
  std::unique_ptr<storage::MultipartUpload> upload_;
  bool closed_ = false;
  std::mutex cache_mu_;
  std::array<Window, kReadAheadSlots> windows_;
  uint64_t uses_ = 0;  // a clock for last_use
};

// fnmatch per path segment, with "**" matching any number of segments.
bool GlobMatch(const std::vector<std::string>& pattern, size_t p,
               const std::vector<std::string>& path, size_t s) {
  if (p == pattern.size()) {
    return s == path.size();
  }
  if (pattern[p] == "**") {
    for (size_t skip = s; skip <= path.size(); ++skip) {
      if (GlobMatch(pattern, p + 1, path, skip)) {
        return true;
      }
    }
    return false;
  }
  if (s == path.size() || fnmatch(pattern[p].c_str(), path[s].c_str(), 0) != 0) {
    return false;
  }
  return GlobMatch(pattern, p + 1, path, s + 1);
}

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    out.push_back(
        text.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) {
      return out;
    }
    start = slash + 1;
  }
}

class ObjectFileSystem final : public duckdb::FileSystem {
 public:
  explicit ObjectFileSystem(std::shared_ptr<storage::StoreRegistry> registry)
      : registry_(std::move(registry)) {}

  std::string GetName() const override { return kName; }

  bool CanHandleFile(const std::string& path) override { return storage::IsObjectStoreUrl(path); }

  duckdb::unique_ptr<duckdb::FileHandle> OpenFile(
      const std::string& path, duckdb::FileOpenFlags flags,
      duckdb::optional_ptr<duckdb::FileOpener>) override {
    auto object = Unwrap(registry_->Resolve(path));
    if (flags.OpenForWriting() && flags.OpenForReading()) {
      throw duckdb::NotImplementedException("objects cannot be opened for reading and writing: " +
                                            path);
    }
    if (flags.OpenForAppending()) {
      throw duckdb::NotImplementedException("objects cannot be appended to: " + path);
    }
    auto handle = duckdb::make_uniq<ObjectHandle>(*this, path, flags, object, registry_.get());
    if (flags.OpenForReading()) {
      auto meta = object.store->Head(object.key);
      if (!meta.ok()) {
        if (meta.status().code() == StatusCode::kNotFound && flags.ReturnNullIfNotExists()) {
          return nullptr;
        }
        Throw(meta.status());
      }
      handle->meta_ = *meta;
    }
    return handle;
  }

  void Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
            duckdb::idx_t location) override {
    auto& h = handle.Cast<ObjectHandle>();
    uint64_t got = h.ReadAt(static_cast<char*>(buffer), static_cast<uint64_t>(nr_bytes), location);
    if (got != static_cast<uint64_t>(nr_bytes)) {
      throw duckdb::IOException("could not read " + std::to_string(nr_bytes) + " bytes at offset " +
                                std::to_string(location) + " of " + handle.path);
    }
  }

  int64_t Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) override {
    auto& h = handle.Cast<ObjectHandle>();
    uint64_t got =
        h.ReadAt(static_cast<char*>(buffer), static_cast<uint64_t>(nr_bytes), h.position_);
    h.position_ += got;
    return static_cast<int64_t>(got);
  }

  void Write(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
             duckdb::idx_t location) override {
    auto& h = handle.Cast<ObjectHandle>();
    if (location != h.written_) {
      throw duckdb::NotImplementedException("objects are written front to back: " + handle.path);
    }
    h.Append(static_cast<const char*>(buffer), static_cast<uint64_t>(nr_bytes));
  }

  int64_t Write(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) override {
    auto& h = handle.Cast<ObjectHandle>();
    h.Append(static_cast<const char*>(buffer), static_cast<uint64_t>(nr_bytes));
    return nr_bytes;
  }

  int64_t GetFileSize(duckdb::FileHandle& handle) override {
    auto& h = handle.Cast<ObjectHandle>();
    return static_cast<int64_t>(h.flags.OpenForWriting() ? h.written_ : h.meta_.size);
  }

  duckdb::timestamp_t GetLastModifiedTime(duckdb::FileHandle& handle) override {
    return duckdb::Timestamp::FromEpochSeconds(handle.Cast<ObjectHandle>().meta_.last_modified);
  }

  std::string GetVersionTag(duckdb::FileHandle& handle) override {
    return handle.Cast<ObjectHandle>().meta_.etag;
  }

  duckdb::FileType GetFileType(duckdb::FileHandle&) override {
    return duckdb::FileType::FILE_TYPE_REGULAR;
  }

  void Seek(duckdb::FileHandle& handle, duckdb::idx_t location) override {
    handle.Cast<ObjectHandle>().position_ = location;
  }
  void Reset(duckdb::FileHandle& handle) override { handle.Cast<ObjectHandle>().position_ = 0; }
  duckdb::idx_t SeekPosition(duckdb::FileHandle& handle) override {
    return handle.Cast<ObjectHandle>().position_;
  }
  bool CanSeek() override { return true; }
  bool OnDiskFile(duckdb::FileHandle&) override { return false; }
  void FileSync(duckdb::FileHandle&) override {}

  bool FileExists(const std::string& path, duckdb::optional_ptr<duckdb::FileOpener>) override {
    auto object = Unwrap(registry_->Resolve(path));
    auto meta = object.store->Head(object.key);
    if (!meta.ok() && meta.status().code() != StatusCode::kNotFound) {
      Throw(meta.status());
    }
    return meta.ok();
  }

  bool DirectoryExists(const std::string& directory,
                       duckdb::optional_ptr<duckdb::FileOpener>) override {
    auto object = Unwrap(registry_->Resolve(directory));
    std::string prefix =
        object.key.empty() || object.key.back() == '/' ? object.key : object.key + "/";
    auto listing = Unwrap(object.store->List(prefix, "/"));
    return !listing.objects.empty() || !listing.prefixes.empty();
  }

  // Object stores have no directories: a "directory" exists while an object is under it.
  void CreateDirectory(const std::string&, duckdb::optional_ptr<duckdb::FileOpener>) override {}

  void RemoveFile(const std::string& path, duckdb::optional_ptr<duckdb::FileOpener>) override {
    auto object = Unwrap(registry_->Resolve(path));
    Check(object.store->Delete(object.key));
  }

  bool TryRemoveFile(const std::string& path,
                     duckdb::optional_ptr<duckdb::FileOpener> opener) override {
    if (!FileExists(path, opener)) {
      return false;
    }
    RemoveFile(path, opener);
    return true;
  }

  bool ListFiles(const std::string& directory,
                 const std::function<void(const std::string&, bool)>& callback,
                 duckdb::FileOpener*) override {
    auto object = Unwrap(registry_->Resolve(directory));
    std::string prefix =
        object.key.empty() || object.key.back() == '/' ? object.key : object.key + "/";
    auto listing = Unwrap(object.store->List(prefix, "/"));
    for (const auto& meta : listing.objects) {
      callback(meta.key.substr(prefix.size()), false);
    }
    for (const auto& sub : listing.prefixes) {
      std::string name = sub.substr(prefix.size());
      callback(name.substr(0, name.size() - 1), true);
    }
    return !listing.objects.empty() || !listing.prefixes.empty();
  }

  duckdb::vector<duckdb::OpenFileInfo> Glob(const std::string& path, duckdb::FileOpener*) override {
    auto url = Unwrap(storage::ParseObjectUrl(path));
    auto object = Unwrap(registry_->Resolve(path));
    duckdb::vector<duckdb::OpenFileInfo> out;
    size_t wildcard = object.key.find_first_of("*?[");
    if (wildcard == std::string::npos) {
      auto meta = object.store->Head(object.key);
      if (meta.ok()) {
        out.emplace_back(path);
      } else if (meta.status().code() != StatusCode::kNotFound) {
        Throw(meta.status());
      }
      return out;
    }
    size_t slash = object.key.rfind('/', wildcard);
    std::string prefix = slash == std::string::npos ? "" : object.key.substr(0, slash + 1);
    auto pattern = Split(object.key);
    auto listing = Unwrap(object.store->List(prefix));
    for (const auto& meta : listing.objects) {
      if (GlobMatch(pattern, 0, Split(meta.key), 0)) {
        out.emplace_back(url.WithKey(meta.key));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string PathSeparator(const std::string&) override { return "/"; }

 private:
  std::shared_ptr<storage::StoreRegistry> registry_;
};

}  // namespace

Status InstallObjectFileSystem(duckdb::DuckDB& db,
                               std::shared_ptr<storage::StoreRegistry> registry) {
  try {
    auto& fs = db.GetFileSystem();
    for (const auto& name : fs.ListSubSystems()) {
      if (name == kName) {
        return Status::OK();
      }
    }
    fs.RegisterSubSystem(duckdb::make_uniq<ObjectFileSystem>(std::move(registry)));
    return Status::OK();
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace aqueducts::engine

#include "storage/local_store.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/uuid.h"

namespace aqueducts::storage {
namespace {

namespace fs = std::filesystem;

std::string ErrnoText(int err) {
  return std::strerror(err);
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status MakeDirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::IoError("cannot create directory '" + cur + "': " + ErrnoText(errno));
      }
    }
    if (i < dir.size()) {
      cur.push_back(dir[i]);
    }
  }
  return Status::OK();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::IoError("cannot write '" + path + "': " + ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

// A new hidden temporary beside `target` (created with its parents), open for writing.
Result<std::pair<std::string, int>> OpenTemp(const std::string& target) {
  std::string dir = ParentOf(target);
  AQ_RETURN_IF_ERROR(MakeDirs(dir));
  std::string tmp = dir + "/." + NewUuid() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IoError("cannot create '" + tmp + "': " + ErrnoText(errno));
  }
  return std::make_pair(tmp, fd);
}

// Write `data` to a hidden temporary beside `target`, fsynced; returns its path.
Result<std::string> WriteTemp(const std::string& target, std::string_view data) {
  AQ_ASSIGN_OR_RETURN(auto tmp, OpenTemp(target));
  Status written = WriteAll(tmp.second, data, tmp.first);
  if (written.ok() && ::fsync(tmp.second) != 0) {
    written = Status::IoError("cannot sync '" + tmp.first + "': " + ErrnoText(errno));
  }
  ::close(tmp.second);
  if (!written.ok()) {
    ::unlink(tmp.first.c_str());
    return written;
  }
  return tmp.first;
}

ObjectMeta MetaOf(const std::string& key, const struct stat& st) {
  ObjectMeta meta;
  meta.key = key;
  meta.size = S_ISDIR(st.st_mode) ? 0 : static_cast<uint64_t>(st.st_size);
  meta.last_modified = st.st_mtim.tv_sec;
  meta.last_modified_ms = int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  meta.etag = std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "-" +
              std::to_string(st.st_size);
  meta.directory = S_ISDIR(st.st_mode);
  return meta;
}

class LocalUpload : public MultipartUpload {
 public:
  LocalUpload(std::string target, std::string tmp, int fd)
      : target_(std::move(target)), tmp_(std::move(tmp)), fd_(fd) {}
  ~LocalUpload() override { (void)Abort(); }

  Status UploadPart(std::string_view data) override {
    if (fd_ < 0) {
      return Status::IoError("upload of '" + target_ + "' is finished");
    }
    return WriteAll(fd_, data, tmp_);
  }

  Status Complete() override {
    if (fd_ < 0) {
      return Status::IoError("upload of '" + target_ + "' is finished");
    }
    int rc = ::fsync(fd_);
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (rc != 0 || ::rename(tmp_.c_str(), target_.c_str()) != 0) {
      err = rc != 0 ? err : errno;
      ::unlink(tmp_.c_str());
      return Status::IoError("cannot complete '" + target_ + "': " + ErrnoText(err));
    }
    return Status::OK();
  }

  Status Abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
      ::unlink(tmp_.c_str());
    }
    return Status::OK();
  }

 private:
  std::string target_;
  std::string tmp_;
  int fd_;
};

class LocalStore : public ObjectStore {
 public:
  explicit LocalStore(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') {
      root_.pop_back();
    }
  }

  std::string UrlOf(const std::string& key) const override { return PathOf(key); }

  Result<ObjectMeta> Head(const std::string& key) override {
    struct stat st;
    std::string path = PathOf(key);
    if (::stat(path.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) {
        return Status::NotFound("'" + path + "' does not exist");
      }
      return Status::IoError("cannot stat '" + path + "': " + ErrnoText(err));
    }
    return MetaOf(key, st);
  }

  Result<uint64_t> GetRange(const std::string& key, uint64_t offset, uint64_t length,
                            char* out) override {
    std::string path = PathOf(key);
    AQ_ASSIGN_OR_RETURN(int fd, OpenForRead(path));
    uint64_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return Status::IoError("cannot read '" + path + "': " + ErrnoText(err));
      }
      if (n == 0) {
        break;
      }
      done += static_cast<uint64_t>(n);
    }
    ::close(fd);
    return done;
  }

  Result<std::string> Get(const std::string& key) override {
    std::string path = PathOf(key);
    AQ_ASSIGN_OR_RETURN(int fd, OpenForRead(path));
    std::string out;
    char buf[1 << 16];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return Status::IoError("cannot read '" + path + "': " + ErrnoText(err));
      }
      if (n == 0) {
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Status Put(const std::string& key, std::string_view data) override {
    std::string path = PathOf(key);
    AQ_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return Status::IoError("cannot replace '" + path + "': " + ErrnoText(err));
    }
    return Status::OK();
  }

  Status PutIfAbsent(const std::string& key, std::string_view data) override {
    std::string path = PathOf(key);
    AQ_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data));
    // link(2) fails with EEXIST when the name is taken: exactly one writer wins, and readers
    // never see a partial file.
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc == 0) {
      return Status::OK();
    }
    if (err == EEXIST) {
      return Status::Conflict("'" + path + "' already exists");
    }
    return Status::IoError("cannot create '" + path + "': " + ErrnoText(err));
  }

  Result<std::unique_ptr<MultipartUpload>> StartUpload(const std::string& key) override {
    std::string path = PathOf(key);
    AQ_ASSIGN_OR_RETURN(auto tmp, OpenTemp(path));
    return std::unique_ptr<MultipartUpload>(new LocalUpload(path, tmp.first, tmp.second));
  }

  uint64_t MinPartSize() const override { return 1; }

  Result<Listing> List(const std::string& prefix, const std::string& delimiter) override {
    // The directory that holds every key with this prefix, and the name prefix inside it.
    size_t slash = prefix.rfind('/');
    std::string dir_key = slash == std::string::npos ? "" : prefix.substr(0, slash);
    std::string dir = dir_key.empty() ? (slash == 0 ? "/" : PathOf("")) : PathOf(dir_key);
    if (dir.empty()) {
      dir = ".";
    }
    std::string key_base = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
    std::string name_prefix = slash == std::string::npos ? prefix : prefix.substr(slash + 1);
    Listing listing;
    AQ_RETURN_IF_ERROR(Walk(dir, key_base, name_prefix, delimiter == "/", &listing));
    return listing;
  }

  Status Delete(const std::string& key) override {
    std::string path = PathOf(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IoError("cannot delete '" + path + "': " + ErrnoText(errno));
    }
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    std::string source = PathOf(from);
    std::string target = PathOf(to);
    if (::rename(source.c_str(), target.c_str()) != 0) {
      return Status::IoError("cannot rename '" + source + "' to '" + target +
                             "': " + ErrnoText(errno));
    }
    return Status::OK();
  }

  Status DeleteAll(const std::string& prefix) override {
    std::string path = PathOf(prefix);
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) {
      return Status::IoError("cannot delete '" + path + "': " + ec.message());
    }
    return Status::OK();
  }

  Status MakeDirectories(const std::string& key) override { return MakeDirs(PathOf(key)); }

 private:
  std::string PathOf(const std::string& key) const {
    if (root_.empty()) {
      return key;
    }
    if (key.empty()) {
      return root_;
    }
    return root_ == "/" ? "/" + key : root_ + "/" + key;
  }

  static Result<int> OpenForRead(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) {
        return Status::NotFound("'" + path + "' does not exist");
      }
      return Status::IoError("cannot open '" + path + "': " + ErrnoText(err));
    }
    return fd;
  }

  // Adds the entries of `dir` whose names start with `name_prefix` (keys `key_base` + name);
  // sub-directories are descended into, or rolled up into prefixes when `shallow`.
  Status Walk(const std::string& dir, const std::string& key_base, const std::string& name_prefix,
              bool shallow, Listing* out) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return Status::OK();  // no keys under a missing directory, as on an object store
      }
      return Status::IoError("cannot list '" + dir + "': " + ErrnoText(errno));
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != ".." && name.compare(0, name_prefix.size(), name_prefix) == 0) {
        names.push_back(std::move(name));
      }
    }
    ::closedir(d);
    for (const auto& name : names) {
      std::string path = dir == "/" ? "/" + name : dir + "/" + name;
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) {
        continue;  // removed while listing
      }
      std::string key = key_base + name;
      if (S_ISDIR(st.st_mode)) {
        if (shallow) {
          out->prefixes.push_back(key + "/");
        } else {
          AQ_RETURN_IF_ERROR(Walk(path, key + "/", "", false, out));
        }
        continue;
      }
      out->objects.push_back(MetaOf(key, st));
    }
    return Status::OK();
  }

  std::string root_;
};

}  // namespace

std::shared_ptr<ObjectStore> MakeLocalStore(std::string root) {
  return std::make_shared<LocalStore>(std::move(root));
}

const std::shared_ptr<ObjectStore>& LocalFileSystem() {
  static const std::shared_ptr<ObjectStore> store = MakeLocalStore();
  return store;
}

}  // namespace aqueducts::storage

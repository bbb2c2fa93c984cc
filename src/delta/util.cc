#include "delta/util.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace aqueducts::delta {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

void AppendHex(std::string& out, unsigned char c) {
  static const char* kHex = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

std::string ErrnoText() {
  return std::strerror(errno);
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
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
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
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

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::NotFound("cannot open '" + path + "': " + ErrnoText());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return Status::IoError("cannot read '" + path + "'");
  return ss.str();
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT)
      return Status::NotFound("directory '" + dir + "' does not exist");
    return Status::IoError("cannot list '" + dir + "': " + ErrnoText());
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..")
      names.push_back(std::move(name));
  }
  closedir(d);
  return names;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

int64_t FileMtimeMillis(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return -1;
  return int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return -1;
  return st.st_size;
}

Status MakeDirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::IoError("cannot create directory '" + cur + "': " + ErrnoText());
      }
    }
    if (i < dir.size())
      cur.push_back(dir[i]);
  }
  return Status::OK();
}

namespace {

// Temp files start with '.' so log listings and readers skip them.
Result<std::string> WriteTemp(const std::string& target, const std::string& data) {
  size_t slash = target.rfind('/');
  std::string dir = slash == std::string::npos ? "." : target.substr(0, slash);
  std::string tmp = dir + "/." + NewUuid() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    return Status::IoError("cannot create '" + tmp + "': " + ErrnoText());
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::IoError("cannot write '" + tmp + "': " + ErrnoText());
    }
    done += size_t(n);
  }
  ::fsync(fd);
  ::close(fd);
  return tmp;
}

}  // namespace

Result<bool> WriteFileIfAbsent(const std::string& target, const std::string& data) {
  AQ_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(target, data));
  // link(2) fails with EEXIST when another writer won: readers never see a partial file.
  int rc = ::link(tmp.c_str(), target.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc == 0)
    return true;
  if (err == EEXIST)
    return false;
  return Status::IoError("cannot create '" + target + "': " + std::strerror(err));
}

Status WriteFileReplace(const std::string& target, const std::string& data) {
  AQ_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(target, data));
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    std::string err = ErrnoText();
    ::unlink(tmp.c_str());
    return Status::IoError("cannot replace '" + target + "': " + err);
  }
  return Status::OK();
}

std::optional<int64_t> ParseTimestampMicros(std::string_view text) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  std::string t(text);
  int consumed = 0;
  if (std::sscanf(t.c_str(), "%d-%d-%d%n", &y, &mo, &d, &consumed) != 3)
    return std::nullopt;
  size_t pos = size_t(consumed);
  int64_t micros = 0;
  int64_t offset_seconds = 0;
  if (pos < t.size() && (t[pos] == 'T' || t[pos] == ' ')) {
    int c2 = 0;
    if (std::sscanf(t.c_str() + pos + 1, "%d:%d:%d%n", &h, &mi, &s, &c2) != 3)
      return std::nullopt;
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
        if (std::sscanf(t.c_str() + pos + 1, "%d:%d", &oh, &om) < 1)
          return std::nullopt;
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

#pragma once

// The one temporary-directory helper of every test binary.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace aqueducts::testing {

/// A fresh, empty directory under the system temp dir ("<tmp>/aq-<tag>-XXXXXX", made by
/// mkdtemp, so concurrent tests and processes never share one), left for the caller to remove.
/// Empty path when it cannot be created.
inline std::filesystem::path MakeTempDir(const std::string& tag = "test") {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("aq-" + tag + "-XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  char* made = mkdtemp(buf.data());
  return made ? std::filesystem::path(made) : std::filesystem::path();
}

/// A MakeTempDir directory removed with everything in it at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test")
      : path_(MakeTempDir(tag)), str_(path_.string()) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::string& str() const { return str_; }
  /// Write `text` to a file below the directory (parents created) and return its path.
  std::string Write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
  std::string str_;
};

}  // namespace aqueducts::testing

#include "io/output_dir.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <random>

#include <signal.h>
#include <unistd.h>

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;

constexpr char kManifestHeader[] = "aqueducts-manifest 1";

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  uint64_t v = rng();
  for (int i = 0; i < 12; i++, v >>= 4) {
    out += kDigits[v & 15];
  }
  return out;
}

// Whether the process that made a temporary named "...-<pid>-<random>" may still be running.
// Names without a pid (older versions) count as stale.
bool OwnerAlive(const std::string& rest) {
  size_t dash = rest.find('-');
  if (dash == std::string::npos || dash == 0) {
    return false;
  }
  pid_t pid = 0;
  for (size_t i = 0; i < dash; i++) {
    if (rest[i] < '0' || rest[i] > '9') {
      return false;
    }
    pid = pid * 10 + (rest[i] - '0');
  }
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

bool IsManifestName(const std::string& relative) {
  return relative.rfind(kManifestName, 0) == 0 && relative.find('/') == std::string::npos;
}

// Remove `dir` and its parents up to (not including) `root` while they are empty.
void RemoveEmptyParents(fs::path dir, const fs::path& root) {
  std::error_code ec;
  while (!dir.empty() && dir != root && dir.string().size() > root.string().size()) {
    if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec) || ec) {
      return;
    }
    fs::remove(dir, ec);
    dir = dir.parent_path();
  }
}

Status MoveFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  fs::rename(from, to, ec);
  if (ec) {
    return Status::IoError("cannot move '" + from.string() + "' to '" + to.string() +
                           "': " + ec.message());
  }
  return Status::OK();
}

// The merge publication: see PublishDirectory.
Status Merge(const fs::path& tmp, const fs::path& target, const std::set<std::string>& old_files,
             const std::vector<std::string>& foreign, std::vector<std::string>* warnings) {
  std::set<std::string> new_files = ReadManifest(tmp);
  std::set<std::string> foreign_set(foreign.begin(), foreign.end());
  for (const auto& file : new_files) {
    if (foreign_set.count(file) != 0) {
      return Status::Conflict("'" + (target / file).string() +
                              "' exists and was not written by this destination");
    }
  }
  std::string example = foreign.front();
  warnings->push_back("'" + target.string() + "' holds " + std::to_string(foreign.size()) +
                      " file(s) this destination did not write (e.g. '" + example +
                      "'); they were left in place and the directory now mixes them with the "
                      "new output");
  // Every file that may be ours during the move is in the manifest first, so a run killed half
  // way leaves nothing the next run would take for someone else's.
  std::set<std::string> both = old_files;
  both.insert(new_files.begin(), new_files.end());
  AQ_RETURN_IF_ERROR(WriteManifest(target, both));
  for (const auto& file : new_files) {
    AQ_RETURN_IF_ERROR(MoveFile(tmp / file, target / file));
  }
  AQ_RETURN_IF_ERROR(WriteManifest(target, new_files));
  std::error_code ec;
  for (const auto& file : old_files) {
    if (new_files.count(file) == 0) {
      fs::remove(target / file, ec);
      RemoveEmptyParents((target / file).parent_path(), target);
    }
  }
  fs::remove_all(tmp, ec);
  return Status::OK();
}

}  // namespace

fs::path TemporarySibling(const fs::path& target, const std::string& tag) {
  return target.parent_path() / ("." + target.filename().string() + ".aq-" + tag + "-" +
                                 std::to_string(::getpid()) + "-" + RandomSuffix());
}

void CleanStaleTemporaries(const fs::path& target, std::vector<std::string>* notes) {
  fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string tmp_prefix = "." + target.filename().string() + ".aq-tmp-";
  const std::string old_prefix = "." + target.filename().string() + ".aq-old-";
  std::vector<fs::path> tmps, olds;
  std::error_code ec;
  for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(tmp_prefix, 0) == 0 && !OwnerAlive(name.substr(tmp_prefix.size()))) {
      tmps.push_back(it->path());
    } else if (name.rfind(old_prefix, 0) == 0 && !OwnerAlive(name.substr(old_prefix.size()))) {
      olds.push_back(it->path());
    }
  }
  for (const auto& path : tmps) {
    fs::remove_all(path, ec);
    notes->push_back("removed '" + path.string() + "', left by an interrupted run");
  }
  for (const auto& path : olds) {
    if (!fs::exists(fs::symlink_status(target, ec))) {
      fs::rename(path, target, ec);
      if (!ec) {
        notes->push_back("restored the previous output '" + target.string() +
                         "' from an interrupted run");
        continue;
      }
    }
    fs::remove_all(path, ec);
    notes->push_back("removed '" + path.string() + "', left by an interrupted run");
  }
}

std::vector<std::string> ListOutputFiles(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      continue;
    }
    std::string relative = it->path().lexically_relative(dir).generic_string();
    if (!IsManifestName(relative)) {
      out.push_back(relative);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::set<std::string> ReadManifest(const fs::path& dir) {
  std::set<std::string> files;
  std::ifstream in(dir / kManifestName);
  std::string line;
  if (!std::getline(in, line) || line != kManifestHeader) {
    return files;
  }
  while (std::getline(in, line)) {
    // Only plain relative paths inside the directory count (a hand-edited manifest cannot make
    // the destination delete anything outside it).
    if (!line.empty() && line[0] != '/' && line.find("..") == std::string::npos) {
      files.insert(line);
    }
  }
  return files;
}

Status WriteManifest(const fs::path& dir, const std::set<std::string>& files) {
  fs::path tmp = dir / (std::string(kManifestName) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kManifestHeader << "\n";
    for (const auto& file : files) {
      out << file << "\n";
    }
    out.flush();
    if (!out) {
      return Status::IoError("cannot write '" + tmp.string() + "'");
    }
  }
  std::error_code ec;
  fs::rename(tmp, dir / kManifestName, ec);
  if (ec) {
    return Status::IoError("cannot write '" + (dir / kManifestName).string() +
                           "': " + ec.message());
  }
  return Status::OK();
}

Status PublishDirectory(const fs::path& tmp, const fs::path& target,
                        std::vector<std::string>* warnings) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(target, ec))) {
    fs::rename(tmp, target, ec);
    if (ec) {
      return Status::IoError("cannot rename '" + tmp.string() + "' to '" + target.string() +
                             "': " + ec.message());
    }
    return Status::OK();
  }
  std::set<std::string> old_files = ReadManifest(target);
  std::vector<std::string> foreign;
  for (const auto& file : ListOutputFiles(target)) {
    if (old_files.count(file) == 0) {
      foreign.push_back(file);
    }
  }
  if (!foreign.empty()) {
    return Merge(tmp, target, old_files, foreign, warnings);
  }
  fs::path old = TemporarySibling(target, "old");
  fs::rename(target, old, ec);
  if (ec) {
    return Status::IoError("cannot move the existing output '" + target.string() +
                           "' aside: " + ec.message());
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code restore;
    fs::rename(old, target, restore);
    return Status::IoError("cannot rename '" + tmp.string() + "' to '" + target.string() +
                           "': " + ec.message());
  }
  fs::remove_all(old, ec);
  return Status::OK();
}

}  // namespace aqueducts::io

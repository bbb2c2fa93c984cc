#include "io/output_dir.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <random>

#include <signal.h>
#include <unistd.h>

#include "io/files.h"

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;  // path arithmetic only: file operations go through io/files.h

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

std::string Join(const fs::path& dir, const std::string& relative) {
  return (dir / relative).string();
}

// Remove `dir` and its parents up to (not including) `root` while they are empty.
void RemoveEmptyParents(fs::path dir, const fs::path& root) {
  while (!dir.empty() && dir != root && dir.string().size() > root.string().size()) {
    auto kind = files::KindOf(dir.string());
    auto entries = files::ListNames(dir.string(), "");
    if (!kind.ok() || *kind != files::Kind::kDirectory || !entries.ok() || !entries->empty()) {
      return;
    }
    (void)files::RemoveTree(dir.string());
    dir = dir.parent_path();
  }
}

Status MoveFile(const fs::path& from, const fs::path& to) {
  (void)files::MakeDirs(to.parent_path().string());
  Status moved = files::Rename(from.string(), to.string());
  if (!moved.ok()) {
    return Status::IoError("cannot move '" + from.string() + "' to '" + to.string() +
                           "': " + moved.message());
  }
  return Status::OK();
}

// The merge publication: see PublishDirectory.
Status Merge(const fs::path& tmp, const fs::path& target, const std::set<std::string>& old_files,
             const std::vector<std::string>& foreign, std::vector<std::string>* warnings) {
  std::set<std::string> new_files = ReadManifest(tmp.string());
  std::set<std::string> foreign_set(foreign.begin(), foreign.end());
  for (const auto& file : new_files) {
    if (foreign_set.count(file) != 0) {
      return Status::Conflict("'" + Join(target, file) +
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
  AQ_RETURN_IF_ERROR(WriteManifest(target.string(), both));
  for (const auto& file : new_files) {
    AQ_RETURN_IF_ERROR(MoveFile(tmp / file, target / file));
  }
  AQ_RETURN_IF_ERROR(WriteManifest(target.string(), new_files));
  for (const auto& file : old_files) {
    if (new_files.count(file) == 0) {
      (void)files::Remove(Join(target, file));
      RemoveEmptyParents((target / file).parent_path(), target);
    }
  }
  (void)files::RemoveTree(tmp.string());
  return Status::OK();
}

}  // namespace

std::string TemporarySibling(const std::string& target, const std::string& tag) {
  fs::path path(target);
  return (path.parent_path() / ("." + path.filename().string() + ".aq-" + tag + "-" +
                                std::to_string(::getpid()) + "-" + RandomSuffix()))
      .string();
}

void CleanStaleTemporaries(const std::string& target_path, std::vector<std::string>* notes) {
  fs::path target(target_path);
  fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string name_prefix = "." + target.filename().string() + ".aq-";
  const std::string tmp_prefix = name_prefix + "tmp-";
  const std::string old_prefix = name_prefix + "old-";
  std::vector<fs::path> tmps, olds;
  auto names = files::ListNames(parent.string(), name_prefix);
  for (const auto& name : names.ok() ? *names : std::vector<std::string>{}) {
    if (name.rfind(tmp_prefix, 0) == 0 && !OwnerAlive(name.substr(tmp_prefix.size()))) {
      tmps.push_back(parent / name);
    } else if (name.rfind(old_prefix, 0) == 0 && !OwnerAlive(name.substr(old_prefix.size()))) {
      olds.push_back(parent / name);
    }
  }
  for (const auto& path : tmps) {
    (void)files::RemoveTree(path.string());
    notes->push_back("removed '" + path.string() + "', left by an interrupted run");
  }
  for (const auto& path : olds) {
    auto kind = files::KindOf(target.string());
    if (kind.ok() && *kind == files::Kind::kMissing &&
        files::Rename(path.string(), target.string()).ok()) {
      notes->push_back("restored the previous output '" + target.string() +
                       "' from an interrupted run");
      continue;
    }
    (void)files::RemoveTree(path.string());
    notes->push_back("removed '" + path.string() + "', left by an interrupted run");
  }
}

std::vector<std::string> ListOutputFiles(const std::string& dir) {
  std::vector<std::string> out;
  auto listed = files::ListTree(dir);
  for (const auto& relative : listed.ok() ? *listed : std::vector<std::string>{}) {
    if (!IsManifestName(relative)) {
      out.push_back(relative);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<std::set<std::string>>> ReadManifestIfAny(const std::string& dir) {
  auto text = files::Read(Join(dir, kManifestName));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return std::optional<std::set<std::string>>();
    }
    return text.status();
  }
  std::set<std::string> listed;
  size_t start = 0;
  bool header = true;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    std::string line = text->substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? text->size() : end + 1;
    if (header) {
      if (line != kManifestHeader) {
        return std::optional<std::set<std::string>>();
      }
      header = false;
      continue;
    }
    // Only plain relative paths inside the directory count (a hand-edited manifest cannot make
    // the destination delete anything outside it).
    if (!line.empty() && line[0] != '/' && line.find("..") == std::string::npos) {
      listed.insert(line);
    }
  }
  if (header) {
    return std::optional<std::set<std::string>>();  // empty: not a manifest of ours
  }
  return std::optional<std::set<std::string>>(std::move(listed));
}

std::set<std::string> ReadManifest(const std::string& dir) {
  auto listed = ReadManifestIfAny(dir);
  return listed.ok() && listed->has_value() ? **listed : std::set<std::string>();
}

Status WriteManifest(const std::string& dir, const std::set<std::string>& files) {
  std::string text = std::string(kManifestHeader) + "\n";
  for (const auto& file : files) {
    text += file + "\n";
  }
  Status written = files::Write(Join(dir, kManifestName), text);
  if (!written.ok()) {
    return Status::IoError("cannot write '" + Join(dir, kManifestName) + "': " + written.message());
  }
  return Status::OK();
}

Status PublishDirectory(const std::string& tmp_path, const std::string& target_path,
                        std::vector<std::string>* warnings) {
  fs::path tmp(tmp_path), target(target_path);
  AQ_ASSIGN_OR_RETURN(files::Kind existing, files::KindOf(target_path));
  if (existing == files::Kind::kMissing) {
    return files::Rename(tmp_path, target_path);
  }
  std::set<std::string> old_files = ReadManifest(target_path);
  std::vector<std::string> foreign;
  for (const auto& file : ListOutputFiles(target_path)) {
    if (old_files.count(file) == 0) {
      foreign.push_back(file);
    }
  }
  if (!foreign.empty()) {
    return Merge(tmp, target, old_files, foreign, warnings);
  }
  std::string old = TemporarySibling(target_path, "old");
  Status aside = files::Rename(target_path, old);
  if (!aside.ok()) {
    return Status::IoError("cannot move the existing output '" + target_path +
                           "' aside: " + aside.message());
  }
  Status moved = files::Rename(tmp_path, target_path);
  if (!moved.ok()) {
    (void)files::Rename(old, target_path);
    return moved;
  }
  (void)files::RemoveTree(old);
  return Status::OK();
}

}  // namespace aqueducts::io

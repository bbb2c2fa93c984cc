#include "io/object_dir.h"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <optional>
#include <random>

#include <signal.h>
#include <unistd.h>

#include "io/files.h"
#include "io/output_dir.h"
#include "storage/mounts.h"

namespace aqueducts::io {
namespace {

constexpr char kMarkerHeader[] = "aqueducts-pending 1";
// A marker written on another machine cannot be checked for a live process: it counts as
// abandoned once it is this old.
constexpr int64_t kForeignMarkerAgeSeconds = 24 * 3600;

std::string HostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0) {
    return "unknown";
  }
  return name;
}

std::string BaseName(const std::string& relative) {
  size_t slash = relative.rfind('/');
  return slash == std::string::npos ? relative : relative.substr(slash + 1);
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// A relative path that stays inside the directory (a hand-edited marker cannot reach outside).
bool Inside(const std::string& relative) {
  return !relative.empty() && relative[0] != '/' && relative.find("..") == std::string::npos;
}

std::string FilePrefix(const std::string& token) {
  return "part-" + token + "-";
}

struct Marker {
  std::string token;
  std::string host;
  long pid = 0;
  std::vector<std::string> old_files;
  int64_t modified = 0;  // seconds since the epoch, 0 when the store did not say
};

std::optional<Marker> ParseMarker(const std::string& text) {
  Marker marker;
  size_t start = 0;
  bool header = true;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (header) {
      if (line != kMarkerHeader) {
        return std::nullopt;
      }
      header = false;
    } else if (StartsWith(line, "host ")) {
      marker.host = line.substr(5);
    } else if (StartsWith(line, "pid ")) {
      marker.pid = std::atol(line.c_str() + 4);
    } else if (StartsWith(line, "old ") && Inside(line.substr(4))) {
      marker.old_files.push_back(line.substr(4));
    }
  }
  if (header) {
    return std::nullopt;
  }
  return marker;
}

bool Abandoned(const Marker& marker) {
  if (marker.host == HostName()) {
    return marker.pid <= 0 || (::kill(static_cast<pid_t>(marker.pid), 0) != 0 && errno != EPERM);
  }
  return marker.modified > 0 &&
         static_cast<int64_t>(std::time(nullptr)) - marker.modified > kForeignMarkerAgeSeconds;
}

// Every object below `target` with its metadata, keyed by its path relative to the target.
Result<std::vector<storage::ObjectMeta>> ListAll(const std::string& target, std::string* prefix) {
  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(target));
  *prefix = where.key.empty() || where.key.back() == '/' ? where.key : where.key + "/";
  AQ_ASSIGN_OR_RETURN(storage::Listing listing, where.store->List(*prefix));
  return std::move(listing.objects);
}

std::string Join(const std::string& target, const std::string& relative) {
  return target + "/" + relative;
}

// Delete what the dead run `marker` left: its own objects that no manifest lists (it never
// committed them), its staging prefix, and — when it did commit — the objects its manifest
// replaced (the marker's old files that the manifest no longer lists). Returns the number of
// objects deleted; the marker goes last, only when everything else went.
Result<int> CleanAbandoned(const std::string& target, const Marker& marker,
                           const std::set<std::string>& manifest,
                           const std::vector<std::string>& objects) {
  int removed = 0;
  Status failed;
  auto remove = [&](const std::string& relative) {
    Status status = files::Remove(Join(target, relative));
    if (status.ok()) {
      removed++;
    } else if (failed.ok()) {
      failed = status;
    }
  };
  const std::string prefix = FilePrefix(marker.token);
  const std::string staging = std::string(kStagingPrefix) + marker.token + "/";
  for (const auto& relative : objects) {
    if (manifest.count(relative) != 0) {
      continue;
    }
    if (StartsWith(BaseName(relative), prefix) || StartsWith(relative, staging)) {
      remove(relative);
    }
  }
  std::set<std::string> present(objects.begin(), objects.end());
  for (const auto& old : marker.old_files) {
    if (manifest.count(old) == 0 && present.count(old) != 0) {
      remove(old);
    }
  }
  AQ_RETURN_IF_ERROR(failed);
  AQ_RETURN_IF_ERROR(files::Remove(Join(target, kPendingMarkerPrefix + marker.token)));
  return removed;
}

}  // namespace

Result<ObjectDirRun> ObjectDirRun::Begin(const std::string& target,
                                         std::vector<std::string>* warnings) {
  ObjectDirRun run;
  run.target_ = target;
  // Fresh kernel randomness for each run: processes forked from one another never share it.
  std::random_device random;
  static const char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 16; i += 4) {
    uint32_t bits = random();
    for (int j = 0; j < 4; j++, bits >>= 4) {
      run.token_ += kDigits[bits & 15];
    }
  }

  AQ_ASSIGN_OR_RETURN(auto where, storage::StoreForPath(target));
  auto existing = where.store->Head(where.key);
  if (existing.ok()) {
    return Status::InvalidArgument("'" + target +
                                   "' is an object; this destination writes a directory of "
                                   "objects under it (single_file: false, partition_columns, or "
                                   "a location without a file extension)");
  }
  if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }

  std::string prefix;
  AQ_ASSIGN_OR_RETURN(auto metas, ListAll(target, &prefix));
  std::vector<std::string> objects;
  std::vector<std::pair<std::string, int64_t>> markers;  // token, modified
  for (const auto& meta : metas) {
    std::string relative = meta.key.substr(prefix.size());
    objects.push_back(relative);
    if (StartsWith(relative, kPendingMarkerPrefix) && relative.find('/') == std::string::npos) {
      markers.emplace_back(relative.substr(sizeof(kPendingMarkerPrefix) - 1), meta.last_modified);
    }
  }
  run.previous_ = ReadManifest(target);
  for (const auto& [token, modified] : markers) {
    auto text = files::Read(Join(target, kPendingMarkerPrefix + token));
    std::optional<Marker> marker = text.ok() ? ParseMarker(*text) : std::nullopt;
    if (!marker) {
      continue;  // not ours, or gone meanwhile
    }
    marker->token = token;
    marker->modified = modified;
    if (!Abandoned(*marker)) {
      run.others_in_flight_.insert(token);
      warnings->push_back("another run (host " + marker->host + ", process " +
                          std::to_string(marker->pid) + ") is writing to '" + target +
                          "' or died on another machine less than a day ago; its objects (part-" +
                          token + "-*) were left alone");
      continue;
    }
    auto removed = CleanAbandoned(target, *marker, run.previous_, objects);
    if (!removed.ok()) {
      warnings->push_back("could not remove everything an interrupted run (" + token +
                          ") left in '" + target + "': " + removed.status().message());
      run.others_in_flight_.insert(token);
      continue;
    }
    warnings->push_back("removed " + std::to_string(*removed) + " object(s) left in '" + target +
                        "' by an interrupted run (" + token + ")");
  }

  std::string text = std::string(kMarkerHeader) + "\nhost " + HostName() + "\npid " +
                     std::to_string(::getpid()) + "\n";
  for (const auto& old : run.previous_) {
    text += "old " + old + "\n";
  }
  Status marked = files::Write(Join(target, kPendingMarkerPrefix + run.token_), text);
  if (!marked.ok()) {
    return Status::IoError("cannot write '" + Join(target, kPendingMarkerPrefix + run.token_) +
                           "': " + marked.message());
  }
  return run;
}

std::string ObjectDirRun::StagingUrl() const {
  return Join(target_, kStagingPrefix + token_);
}

Result<std::vector<std::string>> ObjectDirRun::NewFiles() const {
  AQ_ASSIGN_OR_RETURN(auto listed, files::ListTree(target_));
  std::vector<std::string> out;
  const std::string prefix = FilePrefix(token_);
  const std::string staging = std::string(kStagingPrefix) + token_ + "/";
  for (const auto& relative : listed) {
    if (StartsWith(BaseName(relative), prefix) && !StartsWith(relative, staging)) {
      out.push_back(relative);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ObjectDirRun::Commit(const std::vector<std::string>& files,
                            std::vector<std::string>* warnings) {
  std::set<std::string> fresh(files.begin(), files.end());
  AQ_ASSIGN_OR_RETURN(auto listed, files::ListTree(target_));
  std::vector<std::string> foreign;
  const std::string staging = std::string(kStagingPrefix) + token_ + "/";
  for (const auto& relative : listed) {
    bool bookkeeping =
        relative == kManifestName ||
        (StartsWith(relative, kPendingMarkerPrefix) && relative.find('/') == std::string::npos) ||
        StartsWith(relative, staging);
    bool in_flight = false;
    for (const auto& other : others_in_flight_) {
      in_flight = in_flight || StartsWith(BaseName(relative), FilePrefix(other)) ||
                  StartsWith(relative, kStagingPrefix + other + "/");
    }
    if (!bookkeeping && !in_flight && fresh.count(relative) == 0 &&
        previous_.count(relative) == 0) {
      foreign.push_back(relative);
    }
  }
  if (!foreign.empty()) {
    warnings->push_back("'" + target_ + "' holds " + std::to_string(foreign.size()) +
                        " object(s) this destination did not write (e.g. '" + foreign.front() +
                        "'); they were left in place and the directory now mixes them with the "
                        "new output");
  }
  AQ_RETURN_IF_ERROR(WriteManifest(target_, fresh));  // the commit point

  Status failed;
  for (const auto& old : previous_) {
    if (fresh.count(old) == 0) {
      Status removed = files::Remove(Join(target_, old));
      if (!removed.ok() && failed.ok()) {
        failed = removed;
      }
    }
  }
  if (Status staged = files::RemoveTree(StagingUrl()); !staged.ok() && failed.ok()) {
    failed = staged;
  }
  if (!failed.ok()) {
    warnings->push_back("the new output of '" + target_ +
                        "' is published, but objects of the previous run could not all be "
                        "deleted (the next run retries): " +
                        failed.message());
    return Status::OK();
  }
  if (Status unmarked = files::Remove(Join(target_, kPendingMarkerPrefix + token_));
      !unmarked.ok()) {
    warnings->push_back("could not delete '" + Join(target_, kPendingMarkerPrefix + token_) +
                        "': " + unmarked.message());
  }
  return Status::OK();
}

void ObjectDirRun::Abort() {
  bool all = true;
  auto created = NewFiles();
  all = created.ok();
  for (const auto& relative : created.ok() ? *created : std::vector<std::string>{}) {
    all = files::Remove(Join(target_, relative)).ok() && all;
  }
  all = files::RemoveTree(StagingUrl()).ok() && all;
  if (all) {
    (void)files::Remove(Join(target_, kPendingMarkerPrefix + token_));
  }
}

}  // namespace aqueducts::io

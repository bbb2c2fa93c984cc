// Listing `_delta_log/`: commits, complete checkpoints, commit timestamps.
#include <algorithm>
#include <cctype>

#include "delta/log.h"
#include "delta/util.h"
#include "storage/object_url.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

}  // namespace

Result<std::string> TableRoot(const Location& location) {
  if (storage::IsObjectStoreUrl(location.url)) {
    return StripTrailingSlashes(location.url);
  }
  if (!location.IsLocal()) {
    return Status::Unsupported("Delta tables on '" + location.Scheme() +
                               "' storage are not supported (local paths, s3://, gs:// and "
                               "az:// are)");
  }
  return StripTrailingSlashes(location.LocalPath());
}

std::string LogDir(const std::string& table_root) {
  return table_root + "/_delta_log";
}

int64_t LogListing::LatestVersion() const {
  int64_t latest = commits.empty() ? -1 : commits.rbegin()->first;
  for (const auto& cp : checkpoints) {
    latest = std::max(latest, cp.version);
  }
  return latest;
}

Result<LogListing> ListLog(const std::string& table_root) {
  auto names = ListDirectory(LogDir(table_root));
  if (!names.ok()) {
    // A refused or failed listing (wrong credentials, a store that is down) is reported as
    // such, not as a missing table.
    if (names.status().code() != StatusCode::kNotFound) {
      return names.status().WithPrefix("cannot list the log of the Delta table at '" +
                                       storage::RedactUrl(table_root) + "': ");
    }
    return Status::NotFound("no Delta table at '" + table_root + "': _delta_log is missing");
  }
  LogListing listing;
  std::map<int64_t, CheckpointRef> classic;
  std::map<std::pair<int64_t, int64_t>, std::vector<std::string>> multipart;  // (version, parts)
  std::map<int64_t, std::vector<std::string>> uuid_cps;
  for (const std::string& name : *names) {
    if (name.size() < 25 || !AllDigits(std::string_view(name).substr(0, 20)) || name[20] != '.') {
      continue;
    }
    int64_t version = std::stoll(name.substr(0, 20));
    std::string rest = name.substr(21);
    if (rest == "json") {
      listing.commits[version] = name;
    } else if (rest == "checkpoint.parquet") {
      classic[version] = CheckpointRef{version, {name}, false};
    } else if (rest.rfind("checkpoint.", 0) == 0) {
      std::string tail = rest.substr(11);
      // Multi-part: OOOOOOOOOO.PPPPPPPPPP.parquet
      if (tail.size() == 29 && AllDigits(tail.substr(0, 10)) && tail[10] == '.' &&
          AllDigits(tail.substr(11, 10)) && tail.substr(21) == ".parquet") {
        multipart[{version, std::stoll(tail.substr(11, 10))}].push_back(name);
      } else if (tail.size() > 36 && (tail.ends_with(".json") || tail.ends_with(".parquet"))) {
        uuid_cps[version].push_back(name);
      }
    }
  }
  std::map<int64_t, CheckpointRef> chosen;
  for (auto& [key, parts] : multipart) {
    if (int64_t(parts.size()) == key.second) {
      std::sort(parts.begin(), parts.end());
      chosen[key.first] = CheckpointRef{key.first, parts, false};
    }
  }
  for (auto& [v, files] : uuid_cps) {
    chosen[v] = CheckpointRef{v, {files.front()}, true};
  }
  for (auto& [v, cp] : classic) {
    chosen[v] = cp;  // preferred when several exist
  }
  for (auto& [v, cp] : chosen) {
    listing.checkpoints.push_back(cp);
  }
  return listing;
}

bool TableExists(const std::string& table_root) {
  auto listing = ListLog(table_root);
  return listing.ok() && listing->LatestVersion() >= 0;
}

Result<std::map<int64_t, int64_t>> CommitTimestamps(const std::string& table_root,
                                                    const LogListing& listing) {
  std::map<int64_t, int64_t> out;
  int64_t prev = INT64_MIN;
  for (const auto& [v, name] : listing.commits) {
    int64_t ts = FileMtimeMillis(LogDir(table_root) + "/" + name);
    // With in-commit timestamps the commitInfo holds the authoritative time.
    auto actions = ReadCommitFile(LogDir(table_root) + "/" + name);
    if (actions.ok() && !actions->empty()) {
      const json& first = actions->front();
      auto ci = first.find("commitInfo");
      if (ci != first.end() && ci->is_object() && ci->contains("inCommitTimestamp") &&
          (*ci)["inCommitTimestamp"].is_number()) {
        ts = (*ci)["inCommitTimestamp"].get<int64_t>();
      }
    }
    if (prev != INT64_MIN && ts <= prev) {
      ts = prev + 1;
    }
    out[v] = ts;
    prev = ts;
  }
  return out;
}

}  // namespace aqueducts::delta

#include "delta/maintenance.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "aqueducts/run.h"

#include "delta/deletion_vector.h"
#include "delta/log.h"
#include "delta/table_store.h"
#include "delta/util.h"
#include "engine/session.h"
#include "storage/object_url.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

bool IsDirectory(const std::string& path) {
  auto entries = ListDirectory(path);
  return entries.ok();
}

// Hidden per the protocol: names starting with '_' or '.', except partition directories.
bool Hidden(const std::string& name) {
  return (name[0] == '_' || name[0] == '.') && name.find('=') == std::string::npos;
}

void Walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  auto entries = ListDirectory(rel.empty() ? root : root + "/" + rel);
  if (!entries.ok()) {
    return;
  }
  for (const auto& name : *entries) {
    if (Hidden(name)) {
      continue;
    }
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (IsDirectory(root + "/" + child)) {
      Walk(root, child, out);
    } else {
      out.push_back(child);
    }
  }
}

}  // namespace

Result<std::vector<HistoryEntry>> History(const std::string& table_path,
                                          const StorageConfig& storage_config) {
  std::string root = StripTrailingSlashes(table_path);
  AQ_ASSIGN_OR_RETURN(auto scope, TableStoreScope::Open(root, storage_config));
  AQ_ASSIGN_OR_RETURN(LogListing listing, ListLog(root));
  if (listing.commits.empty()) {
    return Status::NotFound("Delta table '" + root + "' has no commit files");
  }
  std::vector<HistoryEntry> out;
  for (auto it = listing.commits.rbegin(); it != listing.commits.rend(); ++it) {
    HistoryEntry e;
    e.version = it->first;
    std::string file = LogDir(root) + "/" + it->second;
    e.timestamp_ms = FileMtimeMillis(file);
    e.operation_parameters = "{}";
    AQ_ASSIGN_OR_RETURN(auto actions, ReadCommitFile(file));
    for (const json& a : actions) {
      auto ci = a.find("commitInfo");
      if (ci == a.end() || !ci->is_object()) {
        continue;
      }
      if (ci->contains("timestamp") && (*ci)["timestamp"].is_number()) {
        e.timestamp_ms = (*ci)["timestamp"].get<int64_t>();
      }
      e.operation = ci->value("operation", "");
      if (ci->contains("operationParameters")) {
        e.operation_parameters = (*ci)["operationParameters"].dump();
      }
      e.engine_info = ci->value("engineInfo", "");
      break;
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<VacuumReport> Vacuum(const std::string& table_path, const VacuumOptions& options) {
  std::string root = StripTrailingSlashes(table_path);
  if (options.retain_hours < 0) {
    return Status::InvalidArgument("--retain-hours must be >= 0");
  }
  AQ_ASSIGN_OR_RETURN(auto scope, TableStoreScope::Open(root, options.storage_config));
  AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Open(Database::Options{}));
  if (storage::IsObjectStoreUrl(root)) {  // checkpoints and deletion vectors are read by DuckDB
    AQ_RETURN_IF_ERROR(session->RegisterObjectStore(root, options.storage_config));
  }
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LoadSnapshot(session->main(), root));
  int64_t cutoff = NowMillis() - options.retain_hours * 3600 * 1000;
  std::set<std::string> keep;
  auto keep_file = [&](const FileAction& f) {
    keep.insert(f.path);
    if (f.deletion_vector && f.deletion_vector->storage_type == "u") {
      auto dv = DeletionVectorFilePath(root, *f.deletion_vector);
      if (dv.ok() && dv->rfind(root + "/", 0) == 0) {
        keep.insert(dv->substr(root.size() + 1));
      }
    }
  };
  for (const auto& f : snap.files) {
    keep_file(f);
  }
  for (const auto& f : snap.tombstones) {
    if (f.deletion_timestamp >= cutoff) {
      keep_file(f);
    }
  }
  std::vector<std::string> all;
  Walk(root, "", all);
  std::sort(all.begin(), all.end());
  VacuumReport report;
  report.dry_run = options.dry_run;
  for (const auto& rel : all) {
    if (keep.count(rel)) {
      continue;
    }
    std::string full = root + "/" + rel;
    if (FileMtimeMillis(full) >= cutoff) {
      continue;
    }
    report.bytes += FileSize(full);
    report.files.push_back(rel);
    if (!options.dry_run) {
      AQ_RETURN_IF_ERROR(RemovePath(full));
    }
  }
  // Staging directories of writers killed mid-way (data_files.cc) are hidden from readers.
  auto top = ListDirectory(root);
  if (top.ok()) {
    for (const auto& name : *top) {
      if (name.rfind("_aq_staging_", 0) != 0 || FileMtimeMillis(root + "/" + name) >= cutoff) {
        continue;
      }
      report.files.push_back(name + "/");
      if (!options.dry_run) {
        (void)RemoveTree(root + "/" + name);
      }
    }
  }
  return report;
}

}  // namespace aqueducts::delta

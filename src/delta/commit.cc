#include "delta/commit.h"

#include <cstdio>
#include <cstdlib>

#include "delta/scan.h"
#include "delta/table_create.h"
#include "delta/util.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

constexpr int kMaxAttempts = 100;

std::string Serialize(const CommitRequest& req) {
  json info = {{"timestamp", NowMillis()},
               {"operation", req.operation},
               {"operationParameters", req.operation_parameters},
               {"operationMetrics", req.operation_metrics},
               {"engineInfo", std::string("aqueducts-cpp/") + AQ_VERSION},
               {"clientVersion", std::string("aqueducts-cpp.") + AQ_VERSION},
               {"isBlindAppend", req.removes.empty() && !req.metadata},
               {"txnId", NewUuid()}};
  if (req.read_version >= 0) {
    info["readVersion"] = req.read_version;
  }
  std::string out = json{{"commitInfo", info}}.dump() + "\n";
  if (req.protocol) {
    out += json{{"protocol", *req.protocol}}.dump() + "\n";
  }
  if (req.metadata) {
    out += json{{"metaData", *req.metadata}}.dump() + "\n";
  }
  for (const json& r : req.removes) {
    out += json{{"remove", r}}.dump() + "\n";
  }
  for (const FileAction& a : req.adds) {
    out += json{{"add", AddActionJson(a)}}.dump() + "\n";
  }
  return out;
}

// Checks a commit that won the race against ours (docs/delta.md, "Writing": a
// concurrent commit conflicts when it touched the same files or changed metadata or protocol).
Status CheckConflict(const CommitRequest& req, int64_t winner, const std::vector<json>& actions) {
  std::set<std::string> our_removes;
  for (const json& r : req.removes) {
    our_removes.insert(PercentDecode(r.value("path", "")));
  }
  bool blind_append = req.removes.empty() && !req.metadata && !req.protocol;
  auto conflict = [&](const std::string& what) {
    return Status::Conflict("concurrent Delta commit " + std::to_string(winner) +
                                " conflicts with this " + req.operation + ": " + what +
                                "; re-run the pipeline",
                            "aqueducts::delta::conflict");
  };
  for (const json& a : actions) {
    if (a.contains("protocol")) {
      return conflict("it changed the protocol");
    }
    if (a.contains("metaData")) {
      return conflict("it changed the table metadata");
    }
    if (blind_append) {
      continue;
    }
    if (a.contains("remove") && a["remove"].is_object()) {
      auto rm = ParseFileAction(a["remove"]);
      if (!rm.ok()) {
        return rm.status();
      }
      if (our_removes.count(rm->path)) {
        return conflict("both removed '" + rm->path + "'");
      }
      if (rm->data_change && (req.read_whole_table || req.read_files.count(rm->path) ||
                              req.read_partitions.count(PartitionKey(rm->partition_values)))) {
        return conflict("it removed '" + rm->path + "' which this write read");
      }
    }
    if (a.contains("add") && a["add"].is_object()) {
      auto add = ParseFileAction(a["add"]);
      if (!add.ok()) {
        return add.status();
      }
      if (add->data_change && (req.read_whole_table ||
                               req.read_partitions.count(PartitionKey(add->partition_values)))) {
        return conflict("it added '" + add->path + "' to data this write read");
      }
    }
  }
  return Status::OK();
}

const char* kAddType =
    "STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime "
    "BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR), deletionVector "
    "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes INTEGER, "
    "cardinality BIGINT))";
const char* kRemoveType =
    "STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata "
    "BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, deletionVector "
    "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes INTEGER, "
    "cardinality BIGINT))";
const char* kMetaDataType =
    "STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options "
    "MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration "
    "MAP(VARCHAR, VARCHAR), createdTime BIGINT)";
const char* kProtocolType =
    "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], "
    "writerFeatures VARCHAR[])";
const char* kTxnType = "STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)";
const char* kDomainType = "STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)";

// read_json turns a whole struct into NULL when an object has a key the struct type lacks, so
// checkpoint rows keep exactly the fields of the column types above.
json Project(const json& action, std::initializer_list<const char*> keys) {
  json out = json::object();
  for (const char* k : keys) {
    auto it = action.find(k);
    if (it != action.end() && !it->is_null()) {
      out[k] = *it;
    }
  }
  auto dv = out.find("deletionVector");
  if (dv != out.end()) {
    *dv = Project(*dv, {"storageType", "pathOrInlineDv", "offset", "sizeInBytes", "cardinality"});
  }
  auto format = out.find("format");
  if (format != out.end() && format->is_object()) {
    *format = Project(*format, {"provider", "options"});
  }
  return out;
}

}  // namespace

std::string PartitionKey(const std::map<std::string, std::optional<std::string>>& values) {
  std::string key;
  for (const auto& [k, v] : values) {
    key += k + "=" + (v ? *v : std::string(1, '\0')) + "/";
  }
  return key;
}

Result<int64_t> CommitTransaction(engine::Connection& conn, const std::string& table_root,
                                  const CommitRequest& request) {
  std::string log = LogDir(table_root);
  AQ_RETURN_IF_ERROR(MakeDirs(log));
  int64_t version = request.read_version + 1;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::string target = log + "/" + ZeroPadVersion(version) + ".json";
    AQ_ASSIGN_OR_RETURN(bool created, WriteFileIfAbsent(target, Serialize(request)));
    if (created) {
      int64_t interval = request.checkpoint_interval;
      if (request.metadata && (*request.metadata)["configuration"].is_object()) {
        auto& cfg = (*request.metadata)["configuration"];
        if (cfg.contains("delta.checkpointInterval") &&
            cfg["delta.checkpointInterval"].is_string()) {
          interval = std::atoll(cfg["delta.checkpointInterval"].get<std::string>().c_str());
        }
      }
      if (interval > 0 && version > 0 && (version + 1) % interval == 0) {
        // A failed checkpoint never fails the write: the JSON commit is the source of truth.
        (void)WriteCheckpoint(conn, table_root, version);
      }
      return version;
    }
    if (request.read_version < 0) {
      return Status::Conflict("Delta table at '" + table_root + "' was created concurrently",
                              "aqueducts::delta::conflict");
    }
    // Lost the race: check every commit that got in before us, then retry after them.
    AQ_ASSIGN_OR_RETURN(LogListing listing, ListLog(table_root));
    int64_t latest = listing.LatestVersion();
    for (int64_t w = version; w <= latest; ++w) {
      auto it = listing.commits.find(w);
      if (it == listing.commits.end()) {
        continue;
      }
      AQ_ASSIGN_OR_RETURN(auto actions, ReadCommitFile(log + "/" + it->second));
      AQ_RETURN_IF_ERROR(CheckConflict(request, w, actions));
    }
    version = latest + 1;
  }
  return Status::Conflict("gave up committing to Delta table '" + table_root + "' after " +
                              std::to_string(kMaxAttempts) + " attempts",
                          "aqueducts::delta::conflict");
}

void WriteVersionChecksum(const std::string& table_root, int64_t version, const json& metadata,
                          const json& protocol, int64_t num_files, int64_t table_size_bytes) {
  json crc = {{"tableSizeBytes", table_size_bytes},
              {"numFiles", num_files},
              {"numMetadata", 1},
              {"numProtocol", 1},
              {"metadata", metadata},
              {"protocol", protocol}};
  (void)WriteFileIfAbsent(LogDir(table_root) + "/" + ZeroPadVersion(version) + ".crc", crc.dump());
}

Status WriteCheckpoint(engine::Connection& conn, const std::string& table_root, int64_t version) {
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LoadSnapshot(conn, table_root, version));
  std::string log = LogDir(table_root);
  std::string lines;
  lines += json{{"protocol", snap.protocol.ToJson()}}.dump() + "\n";
  json meta = Project(snap.metadata.raw, {"id", "name", "description", "format", "schemaString",
                                          "partitionColumns", "configuration", "createdTime"});
  lines += json{{"metaData", meta}}.dump() + "\n";
  for (const auto& [app, v] : snap.txns) {
    lines += json{{"txn", {{"appId", app}, {"version", v}}}}.dump() + "\n";
  }
  for (const auto& [d, action] : snap.domains) {
    lines += json{{"domainMetadata", action}}.dump() + "\n";
  }
  for (const FileAction& f : snap.files) {
    json add = Project(f.raw, {"path", "partitionValues", "size", "modificationTime", "stats",
                               "tags", "deletionVector"});
    if (f.stats) {
      add["stats"] = *f.stats;  // also when the source had only stats_parsed
    }
    add["dataChange"] = false;
    lines += json{{"add", add}}.dump() + "\n";
  }
  // Tombstones are kept for delta.deletedFileRetentionDuration (default one week), so a
  // concurrent reader of an older version still finds which files vacuum may not delete.
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  std::string retention = snap.metadata.Config("delta.deletedFileRetentionDuration");
  if (auto ms = ParseIntervalMillis(retention); !retention.empty() && ms) {
    retention_ms = *ms;
  }
  int64_t cutoff = NowMillis() - retention_ms;
  for (const FileAction& f : snap.tombstones) {
    if (f.deletion_timestamp < cutoff) {
      continue;
    }
    json rm = Project(f.raw, {"path", "deletionTimestamp", "extendedFileMetadata",
                              "partitionValues", "size", "deletionVector"});
    rm["dataChange"] = false;
    lines += json{{"remove", rm}}.dump() + "\n";
  }
  std::string tmp_json = log + "/." + NewUuid() + ".checkpoint.json.tmp";
  std::string tmp_parquet = log + "/." + NewUuid() + ".checkpoint.parquet.tmp";
  AQ_RETURN_IF_ERROR(WriteFileReplace(tmp_json, lines));
  std::string columns = std::string("{txn: '") + kTxnType + "', add: '" + kAddType +
                        "', remove: '" + kRemoveType + "', metaData: '" + kMetaDataType +
                        "', protocol: '" + kProtocolType + "', domainMetadata: '" + kDomainType +
                        "'}";
  // The types above contain no single quotes, so they embed in the literal as they are.
  Status st = conn.Execute(
      "COPY (SELECT txn, add, remove, metaData, protocol, domainMetadata FROM read_json(" +
      engine::QuoteLiteral(tmp_json) + ", format='newline_delimited', columns=" + columns +
      ")) TO " + engine::QuoteLiteral(tmp_parquet) + " (FORMAT parquet, COMPRESSION zstd)");
  (void)RemovePath(tmp_json);
  if (!st.ok()) {
    (void)RemovePath(tmp_parquet);
    return st.WithPrefix("cannot write Delta checkpoint " + std::to_string(version) + ": ");
  }
  // Install the checkpoint only if it holds every live file (a checkpoint that lost rows
  // would silently drop data for every later reader).
  auto check =
      conn.Query("SELECT count(add) FROM read_parquet(" + engine::QuoteLiteral(tmp_parquet) + ")");
  if (!check.ok() || check->rows.empty() || !check->rows[0][0] ||
      *check->rows[0][0] != std::to_string(snap.files.size())) {
    (void)RemovePath(tmp_parquet);
    return Status::Internal("Delta checkpoint " + std::to_string(version) +
                            " lost file actions; not written");
  }
  std::string target = log + "/" + ZeroPadVersion(version) + ".checkpoint.parquet";
  if (Status moved = RenamePath(tmp_parquet, target); !moved.ok()) {
    (void)RemovePath(tmp_parquet);
    return moved;
  }
  int64_t rows = std::count(lines.begin(), lines.end(), '\n');
  json last = {{"version", version},
               {"size", rows},
               {"sizeInBytes", FileSize(target)},
               {"numOfAddFiles", snap.files.size()}};
  return WriteFileReplace(log + "/_last_checkpoint", last.dump());
}

}  // namespace aqueducts::delta

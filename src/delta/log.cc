#include "delta/log.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <sstream>
#include <unordered_map>

#include "delta/util.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

std::optional<std::string> OptString(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

int64_t OptInt(const json& obj, const char* key, int64_t fallback = 0) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) {
    return fallback;
  }
  return it->get<int64_t>();
}

std::optional<std::vector<std::string>> OptStringList(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const json& v : *it) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

Protocol ParseProtocol(const json& p) {
  Protocol out;
  out.min_reader = int32_t(OptInt(p, "minReaderVersion", 1));
  out.min_writer = int32_t(OptInt(p, "minWriterVersion", 2));
  out.reader_features = OptStringList(p, "readerFeatures");
  out.writer_features = OptStringList(p, "writerFeatures");
  return out;
}

Metadata ParseMetadata(const json& m) {
  Metadata out;
  out.raw = m;
  out.id = OptString(m, "id").value_or("");
  out.schema_string = OptString(m, "schemaString").value_or("");
  out.partition_columns = OptStringList(m, "partitionColumns").value_or(std::vector<std::string>{});
  auto it = m.find("configuration");
  if (it != m.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      if (v.is_string()) {
        out.configuration[k] = v.get<std::string>();
      }
    }
  }
  return out;
}

// Replays actions oldest to newest (PROTOCOL.md "Action Reconciliation").
class Replayer {
 public:
  Status Apply(const json& obj) {
    if (!obj.is_object()) {
      return Status::OK();
    }
    for (auto& [kind, action] : obj.items()) {
      if (action.is_null()) {
        continue;
      }
      if (kind == "add") {
        AQ_ASSIGN_OR_RETURN(FileAction add, ParseFileAction(action));
        std::string key = add.Key();
        auto by_path = live_by_path_.find(add.path);
        if (by_path != live_by_path_.end()) {
          live_.erase(by_path->second);
        }
        tombstones_.erase(key);
        live_by_path_[add.path] = key;
        live_[key] = std::move(add);
      } else if (kind == "remove") {
        AQ_ASSIGN_OR_RETURN(FileAction remove, ParseFileAction(action));
        std::string key = remove.Key();
        if (live_.erase(key) > 0) {
          auto by_path = live_by_path_.find(remove.path);
          if (by_path != live_by_path_.end() && by_path->second == key) {
            live_by_path_.erase(by_path);
          }
        }
        tombstones_[key] = std::move(remove);
      } else if (kind == "metaData") {
        metadata_ = ParseMetadata(action);
      } else if (kind == "protocol") {
        protocol_ = ParseProtocol(action);
      } else if (kind == "txn") {
        auto app = OptString(action, "appId");
        if (app) {
          txns_[*app] = OptInt(action, "version", -1);
        }
      } else if (kind == "domainMetadata") {
        auto domain = OptString(action, "domain");
        if (!domain) {
          continue;
        }
        if (action.value("removed", false)) {
          domains_.erase(*domain);
        } else {
          domains_[*domain] = action;
        }
      }
      // commitInfo, cdc, checkpointMetadata, sidecar and unknown actions do not change state.
    }
    return Status::OK();
  }

  Result<Snapshot> Finish(const std::string& root, int64_t version) {
    if (!protocol_ || !metadata_) {
      return Status::ParseError("Delta table '" + root + "' at version " + std::to_string(version) +
                                " has no " + (protocol_ ? "metaData" : "protocol") + " action");
    }
    Snapshot snap;
    snap.root = root;
    snap.version = version;
    snap.protocol = *protocol_;
    snap.metadata = *metadata_;
    snap.column_mapping = snap.metadata.Config("delta.columnMapping.mode", "none");
    auto schema = ParseSchemaString(snap.metadata.schema_string, snap.column_mapping);
    if (!schema.ok()) {
      return schema.status().WithPrefix("Delta table '" + root + "': ");
    }
    snap.schema = std::move(*schema);
    for (auto& [key, add] : live_) {
      snap.files.push_back(std::move(add));
    }
    std::sort(snap.files.begin(), snap.files.end(),
              [](const FileAction& a, const FileAction& b) { return a.path < b.path; });
    for (auto& [key, rm] : tombstones_) {
      snap.tombstones.push_back(std::move(rm));
    }
    snap.txns = std::move(txns_);
    snap.domains = std::move(domains_);
    return snap;
  }

 private:
  std::unordered_map<std::string, FileAction> live_;
  std::unordered_map<std::string, std::string> live_by_path_;
  std::map<std::string, FileAction> tombstones_;
  std::optional<Protocol> protocol_;
  std::optional<Metadata> metadata_;
  std::map<std::string, int64_t> txns_;
  std::map<std::string, json> domains_;
};

}  // namespace

Result<Snapshot> SnapshotOfActions(const std::string& table_root, int64_t version,
                                   const std::vector<json>& actions) {
  Replayer replayer;
  for (const json& action : actions) {
    AQ_RETURN_IF_ERROR(replayer.Apply(action));
  }
  return replayer.Finish(table_root, version);
}

namespace {

// Rows of Parquet checkpoint/sidecar files, each rendered as one JSON object of actions.
Result<std::vector<json>> ReadParquetActions(engine::Connection& conn,
                                             const std::vector<std::string>& paths) {
  std::string list = "[";
  for (size_t i = 0; i < paths.size(); ++i) {
    list += (i ? ", " : "") + engine::QuoteLiteral(paths[i]);
  }
  list += "]";
  AQ_ASSIGN_OR_RETURN(auto rows,
                      conn.Query("SELECT CAST(to_json(t) AS VARCHAR) FROM read_parquet(" + list +
                                 ", union_by_name=true) t"));
  std::vector<json> out;
  out.reserve(rows.rows.size());
  for (const auto& row : rows.rows) {
    if (row.empty() || !row[0]) {
      continue;
    }
    try {
      out.push_back(json::parse(*row[0]));
    } catch (const std::exception& e) {
      return Status::ParseError("bad row in Delta checkpoint/sidecar file(s) " + list + ": " +
                                e.what());
    }
  }
  return out;
}

Status ReplayCheckpoint(engine::Connection& conn, const std::string& root, const CheckpointRef& cp,
                        Replayer& replayer) {
  std::string log = LogDir(root);
  std::vector<json> actions;
  if (cp.files.size() == 1 && cp.files[0].size() > 5 &&
      cp.files[0].compare(cp.files[0].size() - 5, 5, ".json") == 0) {
    AQ_ASSIGN_OR_RETURN(actions, ReadCommitFile(log + "/" + cp.files[0]));
  } else {
    std::vector<std::string> paths;
    for (const auto& f : cp.files) {
      paths.push_back(log + "/" + f);
    }
    AQ_ASSIGN_OR_RETURN(actions, ReadParquetActions(conn, paths));
  }
  std::vector<std::string> sidecars;
  for (const json& a : actions) {
    auto it = a.find("sidecar");
    if (it != a.end() && it->is_object()) {
      auto p = OptString(*it, "path");
      if (!p) {
        continue;
      }
      std::string decoded = PercentDecode(*p);
      sidecars.push_back(decoded.find('/') == std::string::npos ? log + "/_sidecars/" + decoded
                                                                : decoded);
    }
  }
  for (const auto& s : sidecars) {
    if (!PathExists(s)) {
      return Status::NotFound("checkpoint sidecar '" + s + "' is missing");
    }
  }
  for (const json& a : actions) {
    AQ_RETURN_IF_ERROR(replayer.Apply(a));
  }
  if (!sidecars.empty()) {
    AQ_ASSIGN_OR_RETURN(auto side_actions, ReadParquetActions(conn, sidecars));
    for (const json& a : side_actions) {
      AQ_RETURN_IF_ERROR(replayer.Apply(a));
    }
  }
  return Status::OK();
}

// Apply the actions of one JSON commit file of `_delta_log`.
Status ReplayCommit(const std::string& root, const std::string& name, Replayer& replayer) {
  AQ_ASSIGN_OR_RETURN(auto actions, ReadCommitFile(LogDir(root) + "/" + name));
  for (const json& a : actions) {
    AQ_RETURN_IF_ERROR(replayer.Apply(a));
  }
  return Status::OK();
}

// The replayed state as a snapshot, refused when we cannot read the table.
Result<Snapshot> FinishSnapshot(Replayer& replayer, const std::string& root, int64_t version) {
  AQ_ASSIGN_OR_RETURN(Snapshot snap, replayer.Finish(root, version));
  AQ_RETURN_IF_ERROR(CheckReadSupported(snap.protocol, snap.metadata));
  // Readers and writers look partition columns up in the schema: a log that names one the
  // schema lacks is broken, and is refused here once instead of at every lookup.
  for (const auto& column : snap.metadata.partition_columns) {
    if (snap.schema.Find(column) == nullptr) {
      return Status::ParseError("Delta table '" + root + "' at version " + std::to_string(version) +
                                ": partition column '" + column + "' is not in the table schema");
    }
  }
  return snap;
}

}  // namespace

json Protocol::ToJson() const {
  json p = {{"minReaderVersion", min_reader}, {"minWriterVersion", min_writer}};
  if (reader_features) {
    p["readerFeatures"] = *reader_features;
  }
  if (writer_features) {
    p["writerFeatures"] = *writer_features;
  }
  return p;
}

std::string Metadata::Config(const std::string& key, const std::string& fallback) const {
  auto it = configuration.find(key);
  return it == configuration.end() ? fallback : it->second;
}

std::string FileAction::Key() const {
  return deletion_vector ? path + "\n" + deletion_vector->UniqueId() : path;
}

std::string FileAction::FullPath(const std::string& table_root) const {
  if (!path.empty() && path[0] == '/') {
    return path;
  }
  return table_root + "/" + path;
}

namespace {

// Non-integer JSON numbers become strings of their exact text, so a decimal bound such as
// 1.123456789012345678 is not rounded through a double when the stats are parsed.
std::string QuoteNonIntegerNumbers(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = i;
      bool integer = true;
      while (end < text.size() && std::strchr("+-0123456789.eE", text[end]) != nullptr) {
        integer &= text[end] != '.' && text[end] != 'e' && text[end] != 'E';
        ++end;
      }
      std::string token = text.substr(i, end - i);
      out += integer ? token : "\"" + token + "\"";
      i = end - 1;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

json FileAction::ParsedStats() const {
  if (stats) {
    try {
      json s = json::parse(QuoteNonIntegerNumbers(*stats));
      if (s.is_object()) {
        return s;
      }
    } catch (const std::exception&) {
    }
  }
  return json::object();
}

int64_t FileAction::NumRecords() const {
  json s = ParsedStats();
  auto it = s.find("numRecords");
  if (it != s.end() && it->is_number()) {
    return it->get<int64_t>();
  }
  return -1;
}

json AddActionJson(const FileAction& f) {
  json pv = json::object();
  for (const auto& [k, v] : f.partition_values) {
    pv[k] = v ? json(*v) : json(nullptr);
  }
  json add = {{"path", PercentEncodePath(f.path)},
              {"partitionValues", pv},
              {"size", f.size},
              {"modificationTime", f.modification_time},
              {"dataChange", f.data_change}};
  if (f.stats) {
    add["stats"] = *f.stats;
  }
  return add;
}

Result<FileAction> ParseFileAction(const json& a) {
  FileAction f;
  auto path = OptString(a, "path");
  if (!path) {
    return Status::ParseError("Delta add/remove action without a path: " + a.dump());
  }
  std::string p = *path;
  // Canonicalize file: URIs to plain paths (file:/x, file:///x and /x are the same file).
  if (p.rfind("file://", 0) == 0) {
    p = p.substr(7);
  } else if (p.rfind("file:", 0) == 0) {
    p = p.substr(5);
  } else if (p.find("://") != std::string::npos) {
    return Status::Unsupported("Delta data file '" + p + "' is not on the local filesystem");
  }
  f.path = PercentDecode(p);
  auto pv = a.find("partitionValues");
  if (pv != a.end() && pv->is_object()) {
    for (auto& [k, v] : pv->items()) {
      if (v.is_string()) {
        f.partition_values[k] = v.get<std::string>();
      } else {
        f.partition_values[k] = std::nullopt;
      }
    }
  }
  f.size = OptInt(a, "size");
  f.modification_time = OptInt(a, "modificationTime");
  f.deletion_timestamp = OptInt(a, "deletionTimestamp");
  f.data_change = a.value("dataChange", true);
  f.stats = OptString(a, "stats");
  if (!f.stats) {
    auto sp = a.find("stats_parsed");
    if (sp != a.end() && sp->is_object()) {
      f.stats = sp->dump();
    }
  }
  auto dv = a.find("deletionVector");
  if (dv != a.end() && dv->is_object()) {
    DeletionVectorDescriptor d;
    d.storage_type = OptString(*dv, "storageType").value_or("");
    d.path_or_inline_dv = OptString(*dv, "pathOrInlineDv").value_or("");
    auto off = dv->find("offset");
    if (off != dv->end() && off->is_number()) {
      d.offset = off->get<int32_t>();
    }
    d.size_in_bytes = int32_t(OptInt(*dv, "sizeInBytes"));
    d.cardinality = OptInt(*dv, "cardinality");
    f.deletion_vector = d;
  }
  f.raw = a;
  return f;
}

Result<std::vector<json>> ReadCommitFile(const std::string& path) {
  AQ_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  std::vector<json> actions;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    try {
      actions.push_back(json::parse(line));
    } catch (const std::exception& e) {
      return Status::ParseError("invalid JSON in Delta log file '" + path + "' line " +
                                std::to_string(line_no) + ": " + e.what());
    }
  }
  return actions;
}

Result<Snapshot> LoadSnapshot(engine::Connection& conn, const std::string& table_root,
                              std::optional<int64_t> version, std::optional<int64_t> as_of_ms) {
  AQ_ASSIGN_OR_RETURN(LogListing listing, ListLog(table_root));
  int64_t latest = listing.LatestVersion();
  if (latest < 0) {
    return Status::NotFound("no Delta table at '" + table_root + "': the log is empty");
  }
  int64_t target = latest;
  if (version) {
    if (*version < 0 || *version > latest) {
      return Status::NotFound("Delta table '" + table_root + "' has no version " +
                              std::to_string(*version) + " (latest is " + std::to_string(latest) +
                              ")");
    }
    target = *version;
  } else if (as_of_ms) {
    AQ_ASSIGN_OR_RETURN(auto stamps, CommitTimestamps(table_root, listing));
    int64_t found = -1;
    for (const auto& [v, ts] : stamps) {
      if (ts <= *as_of_ms) {
        found = v;
      }
    }
    if (found < 0) {
      return Status::NotFound("Delta table '" + table_root +
                              "' has no version committed at or before the requested timestamp");
    }
    target = found;
  }
  // Newest complete checkpoint at or below the target; fall back to older ones when unreadable.
  Status last_error;
  for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
    if (it->version > target) {
      continue;
    }
    bool contiguous = true;
    for (int64_t v = it->version + 1; v <= target; ++v) {
      contiguous &= listing.commits.count(v) > 0;
    }
    if (!contiguous) {
      break;
    }
    Replayer replayer;
    Status st = ReplayCheckpoint(conn, table_root, *it, replayer);
    if (!st.ok()) {
      last_error = st;
      continue;
    }
    for (int64_t v = it->version + 1; v <= target; ++v) {
      AQ_RETURN_IF_ERROR(ReplayCommit(table_root, listing.commits.at(v), replayer));
    }
    return FinishSnapshot(replayer, table_root, target);
  }
  Replayer replayer;
  for (int64_t v = 0; v <= target; ++v) {
    auto it = listing.commits.find(v);
    if (it == listing.commits.end()) {
      if (v == 0) {
        return Status::NotFound(
            "Delta table '" + table_root + "': version " + std::to_string(target) +
            " cannot be rebuilt (commit 0 is gone and no checkpoint covers it)" +
            (last_error.ok() ? "" : "; " + last_error.message()));
      }
      return Status::ParseError("Delta table '" + table_root +
                                "': log versions are not contiguous (commit " + std::to_string(v) +
                                " is missing before version " + std::to_string(target) + ")");
    }
    AQ_RETURN_IF_ERROR(ReplayCommit(table_root, it->second, replayer));
  }
  return FinishSnapshot(replayer, table_root, target);
}

}  // namespace aqueducts::delta

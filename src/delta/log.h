#pragma once

// The Delta transaction log: actions, listing, replay into a snapshot, protocol checks.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "delta/deletion_vector.h"
#include "delta/schema.h"
#include "engine/session.h"

namespace aqueducts::delta {

struct Protocol {
  int32_t min_reader = 1;
  int32_t min_writer = 2;
  std::optional<std::vector<std::string>> reader_features;
  std::optional<std::vector<std::string>> writer_features;
  nlohmann::json ToJson() const;
};

struct Metadata {
  nlohmann::json raw;  ///< the whole action, re-emitted unchanged when needed
  std::string id;
  std::string schema_string;
  std::vector<std::string> partition_columns;
  std::map<std::string, std::string> configuration;
  std::string Config(const std::string& key, const std::string& fallback = {}) const;
};

/// \brief An add or remove action.
struct FileAction {
  std::string path;  ///< decoded, relative to the table root (or absolute when it had a scheme)
  std::map<std::string, std::optional<std::string>> partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;
  int64_t deletion_timestamp = 0;
  bool data_change = true;
  std::optional<std::string> stats;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  nlohmann::json raw;  ///< the action object as read

  /// Replay key: decoded path + DV unique id.
  std::string Key() const;
  /// Absolute filesystem path of the data file.
  std::string FullPath(const std::string& table_root) const;
  /// The stats as a JSON object; {} when absent or invalid. Non-integer numbers (min/max of
  /// decimals and floats) are strings of their exact text.
  nlohmann::json ParsedStats() const;
  /// numRecords from the stats, -1 when unknown.
  int64_t NumRecords() const;
};

/// \brief The reconciled state of a table at one version.
struct Snapshot {
  std::string root;
  int64_t version = -1;
  int64_t timestamp_ms = 0;
  Protocol protocol;
  Metadata metadata;
  DeltaSchema schema;
  std::string column_mapping = "none";
  std::vector<FileAction> files;        ///< live adds, sorted by path
  std::vector<FileAction> tombstones;   ///< removes still remembered
  std::map<std::string, int64_t> txns;  ///< appId -> version
  std::map<std::string, nlohmann::json> domains;
};

struct CheckpointRef {
  int64_t version = -1;
  std::vector<std::string> files;  ///< file names in _delta_log (all parts)
  bool v2 = false;                 ///< UUID-named (may hold sidecars)
};

/// \brief What `_delta_log/` holds.
struct LogListing {
  std::map<int64_t, std::string> commits;  ///< version -> file name
  std::vector<CheckpointRef> checkpoints;  ///< complete ones, ascending version
  int64_t LatestVersion() const;
};

/// The table root of a source/destination location: a local path, or an object-store URL
/// (served through a TableStoreScope, table_store.h); kUnsupported for other schemes.
Result<std::string> TableRoot(const Location& location);
std::string LogDir(const std::string& table_root);
Result<LogListing> ListLog(const std::string& table_root);
/// True when `_delta_log` holds at least one commit or checkpoint.
bool TableExists(const std::string& table_root);

/// The actions of one newline-delimited JSON commit file.
Result<std::vector<nlohmann::json>> ReadCommitFile(const std::string& path);
/// Parse an add/remove action object.
Result<FileAction> ParseFileAction(const nlohmann::json& action);

/// The body of the add action that publishes `file` (written by this writer): the path
/// percent-encoded, partitionValues (null for a NULL value), size, modificationTime, dataChange
/// and, when known, stats.
nlohmann::json AddActionJson(const FileAction& file);

/// Commit timestamps (ms) per version, made strictly increasing as Spark does.
Result<std::map<int64_t, int64_t>> CommitTimestamps(const std::string& table_root,
                                                    const LogListing& listing);

/// \brief Rebuild the snapshot at `version` (latest when nullopt). `conn` reads Parquet
/// checkpoints. `as_of_ms` picks the latest version committed at or before that time.
Result<Snapshot> LoadSnapshot(engine::Connection& conn, const std::string& table_root,
                              std::optional<int64_t> version = std::nullopt,
                              std::optional<int64_t> as_of_ms = std::nullopt);

/// The snapshot that `actions` (protocol, metaData, adds, ... as one commit's action objects)
/// make on their own, at `version`: for writing data files for a table that does not exist yet.
Result<Snapshot> SnapshotOfActions(const std::string& table_root, int64_t version,
                                   const std::vector<nlohmann::json>& actions);

/// Refuse tables we cannot read: "unsupported Delta reader feature 'X'".
Status CheckReadSupported(const Protocol& protocol, const Metadata& metadata);
/// Refuse tables we cannot write safely.
Status CheckWriteSupported(const Snapshot& snapshot);

}  // namespace aqueducts::delta

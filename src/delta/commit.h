#pragma once

// Committing a new table version: put-if-absent of the next log file, conflict checks and
// retries, and checkpoints.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aqueducts/status.h"

#include "delta/log.h"
#include "engine/session.h"

namespace aqueducts::delta {

/// \brief The actions of one transaction plus what it read (for conflict detection).
struct CommitRequest {
  std::string operation;  ///< "WRITE", "MERGE", "CREATE TABLE"
  nlohmann::json operation_parameters = nlohmann::json::object();
  nlohmann::json operation_metrics = nlohmann::json::object();
  std::optional<nlohmann::json> protocol;  ///< protocol action body, when changed
  std::optional<nlohmann::json> metadata;  ///< metaData action body, when changed
  std::vector<nlohmann::json> removes;     ///< remove action bodies
  std::vector<FileAction> adds;            ///< files to add (serialized by AddActionJson)
  int64_t read_version = -1;               ///< snapshot read; -1 when creating the table
  /// Conflict scope: paths of the files this transaction read, the partitions (serialized
  /// partition values) whose content it depended on, or the whole table.
  std::set<std::string> read_files;
  std::set<std::string> read_partitions;
  bool read_whole_table = false;
  /// delta.checkpointInterval of the snapshot read (a metaData in the request overrides it).
  int64_t checkpoint_interval = 100;
};

/// Commit at read_version + 1, retrying at later versions while no conflicting commit
/// intervened. Returns the committed version. A lost race with a real conflict is kConflict.
/// The log file is created by the storage seam's PutIfAbsent (util.h WriteFileIfAbsent).
Result<int64_t> CommitTransaction(engine::Connection& conn, const std::string& table_root,
                                  const CommitRequest& request);

/// Serialize partition values the same way for conflict checks: "col=value/..." (nulls: \0).
std::string PartitionKey(const std::map<std::string, std::optional<std::string>>& values);

/// Write the optional version checksum `<version>.crc` (tableSizeBytes, numFiles, numMetadata,
/// numProtocol, metadata, protocol) for the table state at `version`. Only call it with the
/// exact state at that version; it never replaces an existing file. Best effort.
void WriteVersionChecksum(const std::string& table_root, int64_t version,
                          const nlohmann::json& metadata, const nlohmann::json& protocol,
                          int64_t num_files, int64_t table_size_bytes);

/// Write `<version>.checkpoint.parquet` (classic V1) and `_last_checkpoint`.
Status WriteCheckpoint(engine::Connection& conn, const std::string& table_root, int64_t version);

}  // namespace aqueducts::delta

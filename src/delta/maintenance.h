#pragma once

// Table maintenance for `aqueducts delta history|vacuum`.

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

namespace aqueducts::delta {

/// \brief One commit as `delta history` shows it.
struct HistoryEntry {
  int64_t version = 0;
  int64_t timestamp_ms = 0;          ///< commitInfo.timestamp, else the log file's mtime
  std::string operation;             ///< "WRITE", "MERGE", "CREATE TABLE", ... ("" if unknown)
  std::string operation_parameters;  ///< JSON object text
  std::string
      engine_info;  ///< writer, e.g. "aqueducts-cpp/0.1.0", "Apache-Spark/3.5.0 Delta-Lake/3.1.0"
};

/// Commits of the table at `table_path` (a local path, or an object-store URL reached with
/// `storage_config` over the environment, as a pipeline's storage_config), newest first.
Result<std::vector<HistoryEntry>> History(const std::string& table_path,
                                          const StorageConfig& storage_config = {});

struct VacuumOptions {
  int64_t retain_hours = 168;    ///< keep unreferenced files younger than this (default 7 days)
  bool dry_run = false;          ///< list, do not delete
  StorageConfig storage_config;  ///< an object-store table's keys, over the environment
};

struct VacuumReport {
  std::vector<std::string> files;  ///< paths relative to the table root, deleted (or to delete)
  int64_t bytes = 0;
  bool dry_run = false;
};

/// Delete data files no longer referenced by the latest snapshot (nor by a tombstone younger
/// than the retention) and older than the retention.
Result<VacuumReport> Vacuum(const std::string& table_path, const VacuumOptions& options);

}  // namespace aqueducts::delta

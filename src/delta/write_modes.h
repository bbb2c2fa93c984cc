#pragma once

// The three write modes of the delta destination (docs/delta.md, "Writing").

#include <string>
#include <vector>

#include "aqueducts/model.h"

#include "connector/connector.h"
#include "delta/commit.h"
#include "delta/data_files.h"
#include "delta/delta.h"
#include "delta/log.h"
#include "engine/session.h"

namespace aqueducts::delta {

struct WriteJob {
  engine::Connection& conn;
  const Snapshot& snap;
  const DeltaDestination& dest;
  std::string input_table;                  ///< temp table holding the cast incoming rows
  std::vector<std::string> scratch_tables;  ///< dropped when the write ends
  /// The input is a view streamed straight into one file (unpartitioned append with no
  /// NOT NULL column): no temp copy, so appends cost about what a plain Parquet write does.
  bool streamed = false;
  /// Checked after the data files are written and before the commit (may be null).
  const CancelToken* cancel = nullptr;
  /// Told the phase the write is in (may be null): see EnterPhase.
  connector::StepProgress* progress = nullptr;
};

/// The phases of a write, as live progress reports them (docs/progress.md, "Delta writes"):
/// kScanning reads the incoming rows into a temporary table and, for replace and upsert, the
/// table's files the write touches; kWriting writes the new data files; kCommitting writes the
/// commit to the log.
enum class WritePhase { kScanning, kScanningTable, kWriting, kCommitting };

/// Tell job.progress that the write enters `phase`, with the share of the step's percent it
/// fills (a streamed append spends no time scanning, so writing fills it from 0).
void EnterPhase(const WriteJob& job, WritePhase phase);

/// Cast the incoming relation to the table schema into job.input_table. Missing columns and
/// NULLs in non-nullable columns are errors naming the column.
Status StageInput(WriteJob& job, const std::string& relation_sql);

/// Write per the destination's write mode and commit.
Result<WriteStats> RunWriteMode(WriteJob& job);

/// Write the rows of `data_sql` as new files, then commit them with removes of `removed`;
/// the new files are deleted when the commit fails.
Result<WriteStats> WriteAndCommit(WriteJob& job, const std::string& data_sql,
                                  const std::vector<const FileAction*>& removed,
                                  CommitRequest request, int64_t input_rows);

/// The commit half of WriteAndCommit: commit `files` (written for job.snap, already under the
/// table root) with removes of `removed`, as one transaction read at job.snap.version; the files
/// are deleted when the commit fails or job.cancel is set before it. No files and no removes:
/// no commit.
Result<WriteStats> CommitWrittenFiles(WriteJob& job, const WrittenFiles& files,
                                      const std::vector<const FileAction*>& removed,
                                      CommitRequest req, int64_t input_rows);

/// The remove action for a live file (extended metadata copied from the add).
nlohmann::json RemoveAction(const FileAction& file);

/// Copy-on-write merge on the destination's upsert keys.
Result<WriteStats> Upsert(WriteJob& job, int64_t input_rows);

/// Types whose Delta min/max stats are exact enough to skip files (integers, decimals, dates).
bool PrunableByStats(const nlohmann::json& delta_type);
/// The min or max (`which` = "minValues"/"maxValues") of `field` in a file's stats as a typed
/// SQL literal; NULL when absent.
Result<std::string> StatLiteral(const nlohmann::json& stats, const char* which,
                                const DeltaField& field);

/// `"col" = 'value' AND ...` for replace conditions; "true" when there are none.
std::string BuildReplacePredicate(const std::vector<ReplaceCondition>& conditions);

}  // namespace aqueducts::delta

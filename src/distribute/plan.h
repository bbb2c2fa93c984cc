#pragma once

// The plan of a distributed run (docs/scale-out.md): which source is split into partitions and
// how, which sources are broadcast, where each stage runs, the pipeline every partition runs and
// the pipeline the driver runs on the gathered result.

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

namespace aqueducts::distribute {

struct PlanOptions {
  /// Partitions wanted; fewer when the split source has fewer files. 0: kDefaultPartitions.
  int partitions = 0;
  /// A source that is not split is copied to (read by) every partition up to this size.
  uint64_t broadcast_limit_bytes = 256ull << 20;
};

inline constexpr int kDefaultPartitions = 8;

/// Where a stage runs.
enum class Placement {
  kPartition,  ///< per partition, row by row
  kPartial,    ///< a decomposable aggregate: partial per partition, final step on the driver
  kDriver,     ///< on the driver, after the partitions
  kBroadcast,  ///< reads no split relation: wherever it is needed (partitions and driver)
};
const char* PlacementName(Placement placement);

struct StagePlan {
  std::string name;
  Placement where = Placement::kPartition;
  std::string why;
};

/// What leaves the partitions and how it reaches the destination.
enum class OutputMode {
  /// Map-only into a Parquet directory: each partition writes destination files, the driver
  /// publishes them with the directory's manifest.
  kDirectory,
  /// The crossing relation's rows are gathered and the driver pipeline runs on them.
  kGather,
  /// The crossing stage's partial aggregates are gathered and its final step (and the rest)
  /// runs on the driver.
  kAggregate,
  /// Map-only append or unconditioned replace to a local Delta table, or its creation: each
  /// partition writes Delta data files (cast to the table schema, named after its attempt), the
  /// driver moves the accepted ones into the table and commits them in one Delta commit.
  kDelta,
};

struct Partition {
  /// Absolute paths; for a Delta split source, the live files' paths as the table's log names
  /// them (relative to the table root, decoded), which the task looks up in the pinned snapshot.
  std::vector<std::string> files;
  uint64_t bytes = 0;
};

/// What kind of source is split.
enum class SplitKind {
  kFile,       ///< a `file` source: one file, one partition
  kDirectory,  ///< a `directory` source: its files
  kDelta,      ///< a `delta` source: the live files of one snapshot, deletion vectors kept
};

struct Plan {
  std::string split_source;
  SplitKind split_kind = SplitKind::kFile;
  bool split_is_directory = false;  ///< split_kind == kDirectory
  /// The split directory (directory sources) or the table root (Delta sources).
  std::string split_root;
  /// Delta split source: the version every partition reads (pinned in the partition pipeline's
  /// source) and how many of its live files have a deletion vector.
  int64_t split_version = -1;
  size_t split_deletion_vectors = 0;
  std::vector<Partition> partitions;
  struct Broadcast {
    std::string name;
    uint64_t bytes = 0;
    int64_t delta_version = -1;  ///< a Delta source: the version pinned for every reader
  };
  std::vector<Broadcast> broadcasts;
  std::vector<StagePlan> stages;
  OutputMode output = OutputMode::kGather;
  /// The relation (stage, or the split source) that leaves the partitions.
  std::string crossing;
  /// kAggregate: the crossing stage's original query and its final query (sum types shown as
  /// placeholders until the partial rows are read).
  std::string aggregate_sql;
  std::string final_sql_preview;
  /// What every partition runs. The split source's location and the destination's location are
  /// placeholders set per task (distribute/task.h).
  Aqueduct partition_pipeline;
  /// kGather / kAggregate: what the driver runs; its source `gathered_source` is located at
  /// commit time.
  Aqueduct driver_pipeline;
  std::string gathered_source;
  /// The directory (beside the destination, or beside the split source) where partitions write.
  std::string staging_parent;
  std::string staging_name;  ///< the name the staging directory is made beside (its "target")
  /// kDelta: the destination table's version when planned; tasks cast to its schema and the
  /// commit is read at it (an append is blind, so later commits by others do not conflict; a
  /// replace removes the files live at it).
  int64_t delta_version = -1;
  /// kDelta: the table does not exist yet; the commit creates it (version 0 by put-if-absent,
  /// with the tasks' files), from the destination's `schema` or, without one, from the columns
  /// every task reports (they must agree).
  bool delta_create = false;
  std::vector<std::string> notes;
};

/// Plan `aqueduct` (loaded and validated) for a distributed run. Refusals are kUnsupported
/// errors naming the source or stage and why.
Result<Plan> BuildPlan(const Aqueduct& aqueduct, const PlanOptions& options);

/// The plan for a person (`--explain-distribution`).
std::string ExplainPlan(const Plan& plan);

/// The plan as JSON (`aqueducts distribute-plan`), with one task description per partition
/// (see TaskJson).
std::string PlanJson(const Plan& plan, const std::string& staging_dir);

/// The description of partition `index`'s task: what `aqueducts distribute-task` reads.
std::string TaskJson(const Plan& plan, size_t index, const std::string& staging_dir);

}  // namespace aqueducts::distribute

#pragma once

// Directory outputs on object stores (S3, GCS, Azure), where nothing can be renamed. A run
// writes its objects into the directory under names no earlier run used (part-<run>-<n>.<ext>),
// and a pending marker (.aqueducts-pending-<run>) records the run while it is under way. The
// manifest (.aqueducts-manifest, as for local directories) is the commit point: it is replaced
// in one put by the list of the new objects, and only then are the previous run's objects (the
// ones the previous manifest listed) deleted, then the marker. Objects the destination did not
// write are never deleted. A run that fails deletes what it wrote; a run that was killed leaves
// its marker, and the next run of the destination uses it to delete the dead run's objects (or,
// when it had committed, the objects its manifest replaced). docs/file-outputs.md describes it.
// Every operation goes through the storage seam (io/files.h).

#include <set>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::io {

/// The name prefix of a run's pending marker, directly in the output directory.
inline constexpr char kPendingMarkerPrefix[] = ".aqueducts-pending-";
/// The name prefix of a run's staging prefix (raw partitioned writes), directly in the output
/// directory. Hidden from Hive/Spark readers by its leading '.'; its files have no data-file
/// extension, so globs such as `dir/**/*.parquet` do not match them either.
inline constexpr char kStagingPrefix[] = ".aqueducts-staging-";

class ObjectDirRun {
 public:
  /// Start a run into the directory `target` (an object-store URL without a trailing '/'):
  /// clean up after runs that died (their markers), read the manifest, write this run's marker.
  /// Notes what it cleaned, and markers of runs that may still be alive, in `warnings`.
  static Result<ObjectDirRun> Begin(const std::string& target, std::vector<std::string>* warnings);

  /// The run's token: its objects are named part-<token>-<n>.<ext>.
  const std::string& token() const { return token_; }
  /// Where a raw partitioned write is staged (inside the target, removed by Commit/Abort).
  std::string StagingUrl() const;
  /// The objects of this run under the target (relative paths), sorted.
  Result<std::vector<std::string>> NewFiles() const;
  /// Publish `files` (relative paths, the whole new output): warn about objects this
  /// destination did not write, put the manifest (the commit point), then delete the previous
  /// run's objects, the staging prefix and the marker. A failure before the manifest is written
  /// publishes nothing; a failed deletion afterwards is a warning (the marker stays, and the
  /// next run finishes the deletion).
  Status Commit(const std::vector<std::string>& files, std::vector<std::string>* warnings);
  /// Delete this run's objects, its staging prefix and its marker (best effort: the marker is
  /// kept when something could not be deleted, so that the next run retries).
  void Abort();

 private:
  std::string target_;
  std::string token_;
  std::set<std::string> previous_;          // the files the manifest listed at Begin
  std::set<std::string> others_in_flight_;  // tokens of runs that may still be writing
};

}  // namespace aqueducts::io

#pragma once

// File destinations: COPY straight from the last stage into a temporary sibling of
// the location, check that every row arrived, then move it into place, so a failed run leaves
// the old output untouched. A destination only ever replaces what it wrote itself: a directory
// output keeps a manifest of its files (io/output_dir.h).

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/cancel_token.h"
#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "engine/session.h"

namespace aqueducts::io {

struct FileWriteStats {
  int64_t rows = 0;
  int64_t bytes = 0;                  ///< size on disk of everything written
  int64_t partitions = 0;             ///< directories written by a partitioned write (0 otherwise)
  std::vector<std::string> warnings;  ///< for the run's log (files left alone, leftovers removed)
};

/// Whether the destination writes a directory: single_file when given; otherwise a directory
/// when it has partition_columns, or when the location ends with '/' or its last component has
/// no extension.
bool WritesDirectory(const FileDestination& destination);

/// Before sources are read: the location must be local, must not exist as the other kind
/// (a directory where one file is written, or a file where a directory is written), and its
/// nearest existing ancestor must be a writable directory (missing parents are created when
/// writing). Errors are unprefixed (the runner names the destination).
Status PrepareFileDestination(const FileDestination& destination);

/// The COPY options for the destination's format, e.g. "(FORMAT parquet, COMPRESSION 'zstd')",
/// without the partitioning or per-thread options.
Result<std::string> CopyOptions(const FileDestination& destination);

/// Write the rows of `relation_sql` (a SELECT) to the destination atomically: one file at the
/// location (replacing a file there), or a directory of files (hive `col=value/` directories
/// with partition_columns, see io/hive_path.h) that replaces the files this destination wrote
/// there before and leaves every other file alone. Rows written are counted back from the files
/// and must equal the rows the query produced, or nothing is published. On failure nothing is
/// left behind and an existing output is unchanged. `cancel` (may be null) is checked once more
/// before publishing: a cancelled write publishes nothing (kCancelled).
Result<FileWriteStats> WriteFileDestination(engine::Connection& conn,
                                            const FileDestination& destination,
                                            const std::string& relation_sql,
                                            const CancelToken* cancel = nullptr);

}  // namespace aqueducts::io

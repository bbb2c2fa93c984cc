#pragma once

// File destinations (spec 1.7): COPY straight from the last stage into a temporary sibling of
// the location, then rename into place, so a failed run leaves the old output untouched.

#include <cstdint>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "engine/session.h"

namespace aqueducts::io {

struct FileWriteStats {
  int64_t rows = 0;
  int64_t bytes = 0;  ///< size on disk of everything written
};

/// Before sources are read: the location must be local and its parent directory must exist and
/// be writable. Errors are unprefixed (the runner names the destination).
Status PrepareFileDestination(const FileDestination& destination);

/// The COPY options for the destination's format, e.g. "(FORMAT parquet, COMPRESSION 'zstd')".
Result<std::string> CopyOptions(const FileDestination& destination);

/// Write the rows of `relation_sql` (a SELECT) to the destination atomically: single_file
/// writes one file at the location (replacing it), otherwise a directory of files (hive
/// `col=value/` directories with partition_columns) replaces the location. On failure nothing
/// is left behind and an existing output is unchanged.
Result<FileWriteStats> WriteFileDestination(engine::Connection& conn,
                                            const FileDestination& destination,
                                            const std::string& relation_sql);

}  // namespace aqueducts::io

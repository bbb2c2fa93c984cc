#pragma once

// SQL over the live files of a snapshot: the logical table DuckDB reads.

#include <string>
#include <vector>

#include "aqueducts/status.h"

#include "delta/log.h"
#include "engine/session.h"

namespace aqueducts::delta {

/// Column holding the data file's absolute path when BuildScanSql is asked for it.
inline constexpr const char* kFileColumn = "__aq_delta_file";

/// \brief A SELECT yielding the logical rows of `files` (a subset of snapshot.files) with
/// the snapshot's schema, in schema order.
///
/// Files are grouped by partition values into one read_parquet() each, joined with UNION ALL:
/// partition columns are constants per branch, so DuckDB drops branches a filter excludes, and
/// Parquet min/max statistics prune row groups inside each branch. Files with deletion vectors
/// get their own branch filtering on file_row_number. With `with_file_column` the path of each
/// row's data file is added as column kFileColumn.
Result<std::string> BuildScanSql(engine::Connection& conn, const Snapshot& snapshot,
                                 const std::vector<const FileAction*>& files,
                                 bool with_file_column);

/// The same for every live file.
Result<std::string> BuildSnapshotScanSql(engine::Connection& conn, const Snapshot& snapshot,
                                         bool with_file_column = false);

/// A SQL list literal of quoted strings: ['a', 'b'].
std::string SqlStringList(const std::vector<std::string>& values);

}  // namespace aqueducts::delta

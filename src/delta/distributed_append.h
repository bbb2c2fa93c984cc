#pragma once

// An append to a Delta table written by many writers and committed once (a distributed run,
// docs/scale-out.md): each writer casts its rows to the table schema and writes data files
// outside the table; the one committer moves the accepted writers' files into the table and
// commits their add actions in one transaction, by put-if-absent, as a local append would.

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "delta/delta.h"
#include "delta/log.h"
#include "engine/session.h"

namespace aqueducts::delta {

/// What one writer wrote: add actions whose paths are relative to `out_dir` of WriteAppendPart
/// (and, once moved, to the table root), and the rows they hold.
struct AppendPart {
  std::vector<FileAction> adds;
  int64_t rows = 0;
};

/// Writer side: the rows of `relation_sql`, cast to the schema of the table of `destination` as
/// of `version` (as a local append casts them), written as Delta data files under `out_dir`,
/// laid out as under the table root (partition directories), every file name starting with
/// `name_prefix` and '-'. Rows in must equal the rows in the files (else the files are deleted
/// and it fails). Nothing is committed. Local tables only.
Result<AppendPart> WriteAppendPart(engine::Connection& conn, const DeltaDestination& destination,
                                   int64_t version, const std::string& relation_sql,
                                   const std::string& out_dir, const std::string& name_prefix);

/// Committer side: move each part's files from its directory (`parts[i].first`, the out_dir
/// its writer used) into the table root, then commit all their adds as ONE append transaction
/// read at `version` (a blind append: later commits by others do not conflict; it retries at the
/// next version as a local append does). `rows` must equal the numRecords of the adds, checked
/// before anything moves. On a failed commit, or `cancel` set before it, the moved files are
/// deleted and the table is unchanged.
Result<WriteStats> CommitAppendParts(engine::Connection& conn, const DeltaDestination& destination,
                                     int64_t version,
                                     const std::vector<std::pair<std::string, AppendPart>>& parts,
                                     int64_t rows, const CancelToken* cancel);

}  // namespace aqueducts::delta

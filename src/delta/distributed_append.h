#pragma once

// A Delta write made by many writers and committed once (a distributed run, docs/scale-out.md):
// each writer casts its rows to the table schema and writes data files outside the table; the
// one committer moves the accepted writers' files into the table and commits their add actions
// in one transaction, by put-if-absent: an append, a replace of every live file, or the first
// commit of a new table.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

/// The table that `destination` creates when it does not exist, as JSON ({protocol, schema,
/// configuration}, as a local run would create it from `schema`, which must not be empty,
/// partition columns and table properties). Writers of a new table write for it; the committer
/// checks they all used the same one.
Result<nlohmann::json> NewTableJson(const DeltaDestination& destination);

/// Whether a distributed run can commit the writers' own files for `destination`: an append,
/// or a replace without replace conditions (an upsert, or a replace whose conditions keep
/// rows of rewritten files, needs the whole input in one place).
bool WritableByParts(const DeltaDestination& destination);

/// Writer side: the rows of `relation_sql`, cast to the schema of the table of `destination` as
/// of `version` (as a local write casts them), or, when `version` is -1, of the table
/// NewTableJson(destination) describes (not created: the committer does that), written as
/// Delta data files under `out_dir`, laid out as under the table root (partition directories),
/// every file name starting with `name_prefix` and '-'. Rows in must equal the rows in the
/// files (else the files are deleted and it fails). Nothing is committed. Local tables only;
/// WritableByParts(destination) must hold.
Result<AppendPart> WriteAppendPart(engine::Connection& conn, const DeltaDestination& destination,
                                   int64_t version, const std::string& relation_sql,
                                   const std::string& out_dir, const std::string& name_prefix);

/// Committer side: move each part's files from its directory (`parts[i].first`, the out_dir
/// its writer used) into the table root, then commit all their adds as ONE transaction:
/// - `version` >= 0, append: read at `version` (a blind append: later commits by others do not
///   conflict; it retries at the next version as a local append does);
/// - `version` >= 0, replace: removes every file live at `version`; a concurrent commit that
///   touched what it read is a conflict, as for a local replace;
/// - `version` -1: the first commit of the table (`new_table`, from NewTableJson: protocol,
///   metaData and the adds, by put-if-absent of version 0). When the table appeared meanwhile,
///   the write goes to its latest version as above if its schema and partition columns are
///   `new_table`'s, else it is a kConflict naming the table.
/// `rows` must equal the rows of the parts and the numRecords of their adds, checked before
/// anything moves. On a failed commit, or `cancel` set before it, the moved files are deleted
/// and the table is unchanged (a new table's directories made for them are removed too).
Result<WriteStats> CommitAppendParts(engine::Connection& conn, const DeltaDestination& destination,
                                     int64_t version,
                                     const std::vector<std::pair<std::string, AppendPart>>& parts,
                                     int64_t rows, const CancelToken* cancel,
                                     const nlohmann::json& new_table = nullptr);

}  // namespace aqueducts::delta

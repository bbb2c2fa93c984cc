#pragma once

// File and directory sources: SQL over DuckDB's readers, registered as views so the
// data streams into the stages that read it (nothing is loaded up front).

#include <string>
#include <vector>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "engine/session.h"

namespace aqueducts::io {

/// The local path of `location`, or kUnsupported ("object store scheme 's3' is not supported
/// yet") for other schemes.
Result<std::string> LocalPathOf(const Location& location);

/// The SELECT reading `source` (read_csv / read_parquet / read_json over the given file,
/// whatever its extension). May query `conn` to sniff a header-less CSV's column count.
Result<std::string> FileSourceSql(engine::Connection& conn, const FileSource& source);
/// The SELECT reading every file of the format's extension under the directory, recursively,
/// with hive partition columns typed as declared.
Result<std::string> DirSourceSql(engine::Connection& conn, const DirSource& source);

/// The same SELECT over exactly `files` (paths or object URLs under the directory, so Hive
/// path segments read the same): one partition's share of the directory in a distributed run.
Result<std::string> DirSourceSqlOver(engine::Connection& conn, const DirSource& source,
                                     const std::vector<std::string>& files);

/// Create (or replace) view `source.name`. Errors are the engine's, without a prefix: the
/// runner adds "Failed to register file source '<n>'. ".
Status RegisterFileSource(engine::Connection& conn, const FileSource& source);
Status RegisterDirSource(engine::Connection& conn, const DirSource& source);

}  // namespace aqueducts::io

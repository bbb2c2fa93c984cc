#pragma once

// The io module's file operations. Every one goes through the storage seam
// (storage/object_store.h), resolved by path (storage/mounts.h): the local file system, or
// whatever store an embedder or a test has mounted over the directory (tests inject faults that
// way). DuckDB's COPY writes and reads the files themselves; these helpers do everything around
// it: checks, directories, listing, the manifest, the renames that publish an output.

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::io::files {

enum class Kind { kMissing, kFile, kDirectory };

/// What is at `path` (following links); errors other than "missing" are returned.
Result<Kind> KindOf(const std::string& path);
/// mkdir -p.
Status MakeDirs(const std::string& dir);
/// rename(2): `to` is replaced (a file, or an empty directory); `from` and `to` must be in the
/// same store. On an object store (no rename) one object is copied, then deleted: `to` appears
/// whole, but not in the same step as `from` goes.
Status Rename(const std::string& from, const std::string& to);
/// Delete one file; a missing one is not an error.
Status Remove(const std::string& path);
/// Delete a file or a directory with everything below it; a missing one is not an error.
Status RemoveTree(const std::string& path);
/// The size of a file in bytes; -1 when it cannot be read.
int64_t SizeOf(const std::string& path);
/// Every file below `dir` (recursively), as '/'-separated paths relative to `dir`; empty when
/// `dir` is missing.
Result<std::vector<std::string>> ListTree(const std::string& dir);
/// The names of the entries (files and directories) directly in `dir` that start with
/// `name_prefix`.
Result<std::vector<std::string>> ListNames(const std::string& dir, const std::string& name_prefix);
/// The whole content of a file.
Result<std::string> Read(const std::string& path);
/// Replace the file `path` with `data` atomically (readers see the old or the new content).
Status Write(const std::string& path, const std::string& data);

}  // namespace aqueducts::io::files

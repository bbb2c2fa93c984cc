#pragma once

// The local file system as an ObjectStore: the first implementation of the storage seam.
//
// Keys are paths: relative to the store's root, or, for the store of LocalFileSystem() (empty
// root), exactly the paths the caller has (absolute or relative to the working directory).
// Semantics match the object stores where they overlap, so that callers need no special case:
// - Put and PutIfAbsent write a hidden temporary beside the target (".<uuid>.tmp"), fsync it and
//   then rename(2) it over the target (Put) or link(2) it to the target (PutIfAbsent: fails with
//   kConflict when the target exists, atomically, even between processes). Readers never see a
//   partial file. Missing parent directories are created, as object stores have none to create.
// - List(prefix) walks the directory part of the prefix; with delimiter "/" only one level, with
//   sub-directories as `prefixes`. Hidden temporaries of Put are listed like any other file.
// - Rename is rename(2) (files and directories); DeleteAll removes a whole tree.
// - A multipart upload appends the parts to a hidden temporary and renames it on Complete.

#include <memory>
#include <string>

#include "storage/object_store.h"

namespace aqueducts::storage {

/// A store over the directory `root` ("" = paths as given).
std::shared_ptr<ObjectStore> MakeLocalStore(std::string root = {});

/// The process's local file system (root ""), shared.
const std::shared_ptr<ObjectStore>& LocalFileSystem();

}  // namespace aqueducts::storage

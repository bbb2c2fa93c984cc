#pragma once

// Small engine-free helpers for the Delta module: paths, encodings, files, ids. The file
// helpers are the module's only file operations; they go through the storage seam
// (storage/object_store.h), resolved by path (storage/mounts.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aqueducts/status.h"

#include "common/uuid.h"  // NewUuid, used throughout the module

namespace aqueducts::delta {

/// Decode %XX sequences once (RFC 2396 URI path); other characters are kept as they are.
std::string PercentDecode(std::string_view text);
/// URI-encode a relative path for the log: every byte outside [A-Za-z0-9-._~/=] becomes %XX.
std::string PercentEncodePath(std::string_view path);
/// Hive-escape one partition value for a directory name (delta-kernel-java rules).
std::string HiveEscape(std::string_view value);

/// `path` without trailing slashes ("/" stays "/").
std::string StripTrailingSlashes(std::string path);

/// "00000000000000000012" for 12.
std::string ZeroPadVersion(int64_t version);
/// Milliseconds since the Unix epoch, now.
int64_t NowMillis();

/// The whole content of a file.
Result<std::string> ReadWholeFile(const std::string& path);
/// File names (not paths) in a directory; NotFound when it does not exist.
Result<std::vector<std::string>> ListDirectory(const std::string& dir);
bool PathExists(const std::string& path);
/// Modification time in ms; -1 when the file does not exist.
int64_t FileMtimeMillis(const std::string& path);
int64_t FileSize(const std::string& path);
/// mkdir -p.
Status MakeDirs(const std::string& dir);
/// Create `target` with `data` only if it does not exist yet, atomically (the store's
/// PutIfAbsent: on a local file system a fsynced temporary linked to the name). Returns false
/// (and no error) when `target` already exists.
Result<bool> WriteFileIfAbsent(const std::string& target, const std::string& data);
/// Replace `target` with `data` atomically (readers see the old or the new content).
Status WriteFileReplace(const std::string& target, const std::string& data);
/// Publish `from` as `to` atomically (rename), replacing `to`. On an object store, which has no
/// rename, the object is copied (the copy appears at once) and `from` deleted.
Status RenamePath(const std::string& from, const std::string& to);
/// Delete one file; a missing file is not an error.
Status RemovePath(const std::string& path);
/// Delete a file or a directory with everything below it; a missing one is not an error.
Status RemoveTree(const std::string& path);

/// Parse an RFC 3339 / ISO-8601 date-time (or "YYYY-MM-DD HH:MM:SS[.f]", read as UTC) into
/// microseconds since the epoch.
std::optional<int64_t> ParseTimestampMicros(std::string_view text);

}  // namespace aqueducts::delta

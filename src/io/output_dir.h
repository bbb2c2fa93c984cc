#pragma once

// The bookkeeping that lets a file destination replace its own earlier output and nothing else:
// temporary siblings named after the run's process, a manifest of the files a directory output
// wrote, and the publication of a finished temporary output at its location. Every file
// operation goes through the storage seam (io/files.h).

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::io {

/// The manifest a directory output keeps of the files it wrote (relative paths, one a line).
inline constexpr char kManifestName[] = ".aqueducts-manifest";

/// A sibling of `target` that a crash would leave visibly ours:
/// ".<name>.aq-<tag>-<pid>-<random>" (tag "tmp" for an output being written, "old" for an output
/// being replaced).
std::string TemporarySibling(const std::string& target, const std::string& tag);

/// Remove the temporaries of `target` left by runs whose process is gone (killed or crashed):
/// ".<name>.aq-tmp-*" are removed; an ".<name>.aq-old-*" directory is moved back to `target` when
/// the target is missing (the run died between the two renames of a replacement), else removed.
/// Temporaries of a live process (another run in progress) are left alone. Notes what it did in
/// `notes`.
void CleanStaleTemporaries(const std::string& target, std::vector<std::string>* notes);

/// The regular files (and other non-directories) under `dir`, as '/'-separated paths relative to
/// it, sorted, without the manifest.
std::vector<std::string> ListOutputFiles(const std::string& dir);

/// The files the manifest in `dir` lists; empty when there is none or it is not ours.
std::set<std::string> ReadManifest(const std::string& dir);
/// As ReadManifest, telling the cases apart: nullopt when `dir` has no manifest or the file of
/// that name is not ours (another header); an error when the store could not be read (a 403).
Result<std::optional<std::set<std::string>>> ReadManifestIfAny(const std::string& dir);
/// Write the manifest of `dir` (atomically: a temporary then a rename).
Status WriteManifest(const std::string& dir, const std::set<std::string>& files);

/// Publish the finished directory output `tmp` (already holding its manifest) at `target`:
/// - target missing: one rename;
/// - target holds only files its manifest lists: the old directory is renamed aside, `tmp` renamed
///   into place, the old one removed (a reader sees the old or the new output);
/// - target holds files this destination did not write: they are left alone (with a warning in
///   `warnings`); the new files are moved in, the manifest (the record of what is ours) is updated
///   and the files of the previous run are removed.
/// A file of `tmp` whose name is taken in `target` by a file not ours fails before anything moves.
Status PublishDirectory(const std::string& tmp, const std::string& target,
                        std::vector<std::string>* warnings);

}  // namespace aqueducts::io

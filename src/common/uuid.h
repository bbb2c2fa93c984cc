#pragma once

// Random identifiers: execution ids, Delta data-file names, commit txn ids, temporary names.

#include <string>

namespace aqueducts {

/// A random (version 4) UUID, lower-case and hyphenated. Each call draws fresh kernel
/// randomness, so processes made by fork() never repeat each other's ids (Delta writers in two
/// processes must not pick the same data-file names). Thread-safe.
std::string NewUuid();

/// True for a hyphenated UUID of any version (case-insensitive).
bool IsUuid(const std::string& text);

}  // namespace aqueducts

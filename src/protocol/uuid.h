#pragma once

// Execution and executor ids: UUIDs, made by the executor and checked by both ends.

#include <string>

namespace aqueducts::protocol {

/// A random (version 4) UUID, lower-case and hyphenated.
std::string NewUuid();
/// True for a hyphenated UUID of any version (case-insensitive).
bool IsUuid(const std::string& text);

}  // namespace aqueducts::protocol

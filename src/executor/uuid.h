#pragma once

#include <string>

namespace aqueducts::executor {

/// A random (version 4) UUID, lower-case and hyphenated.
std::string NewUuid();
/// True for a hyphenated UUID of any version (case-insensitive).
bool IsUuid(const std::string& text);

}  // namespace aqueducts::executor

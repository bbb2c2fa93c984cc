#pragma once

// The file and directory sources and the file destination as connectors (connector/connector.h).

#include "connector/connector.h"

namespace aqueducts::io {

/// Register the kinds "file" (source and destination) and "directory" (source) in `registry`.
void AddConnectors(connector::Registry& registry);

}  // namespace aqueducts::io

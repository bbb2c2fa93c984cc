#pragma once

// The Delta connectors' steps on a connection, and the labels the runner names them with.

#include "connector/connector.h"
#include "engine/session.h"

namespace aqueducts::delta {

inline const connector::ErrorLabel kSourceLabel{"Failed to register Delta source '", "'. ",
                                                "aqueducts::source::delta_error"};
inline const connector::ErrorLabel kDestinationLabel{"Delta destination '",
                                                     "': ", "aqueducts::destination::delta_error"};

/// Register `source` as a view on `conn` (unprefixed errors).
Status RegisterSourceOn(engine::Connection& conn, const DeltaSource& source);
/// Create the destination's table when it does not exist (unprefixed errors).
Status PrepareDestinationOn(engine::Connection& conn, const DeltaDestination& destination);

}  // namespace aqueducts::delta

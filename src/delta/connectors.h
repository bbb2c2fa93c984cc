#pragma once

// The Delta connectors' steps on a connection, and the labels the runner names them with.

#include "connector/connector.h"
#include "delta/log.h"
#include "engine/session.h"

namespace aqueducts::delta {

inline const connector::ErrorLabel kSourceLabel{"Failed to register Delta source '", "'. ",
                                                "aqueducts::source::delta_error"};
inline const connector::ErrorLabel kDestinationLabel{"Delta destination '",
                                                     "': ", "aqueducts::destination::delta_error"};

/// Register `source` as a view on `conn` (unprefixed errors).
Status RegisterSourceOn(engine::Connection& conn, const DeltaSource& source);
/// The snapshot `source` reads from the table at `root` (TableRoot of its location): at its
/// `version`, else the latest committed at or before its `timestamp`, else the latest
/// (unprefixed errors). A distributed run pins the version it read here for every partition.
Result<Snapshot> LoadSourceSnapshot(engine::Connection& conn, const DeltaSource& source,
                                    const std::string& root);
/// Create the destination's table when it does not exist (unprefixed errors).
Status PrepareDestinationOn(engine::Connection& conn, const DeltaDestination& destination);

}  // namespace aqueducts::delta

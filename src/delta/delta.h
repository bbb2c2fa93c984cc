#pragma once

// Delta Lake sources and destinations: the connectors the runner calls (connector/connector.h),
// and direct entry points for tools and tests.

#include <string>

#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/status.h"

#include "connector/connector.h"
#include "engine/session.h"

namespace aqueducts::delta {

/// Register the kind "delta" (source and destination) in `registry`. The source registers a
/// view over the chosen snapshot's files; the destination creates a missing table in Prepare
/// and writes per write_mode with one commit, everything on the runner's connection, checking
/// the cancel token once more before it commits.
void AddConnectors(connector::Registry& registry);

/// What a Delta write did.
struct WriteStats {
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t files_added = 0;
  int64_t files_removed = 0;
  int64_t version = -1;
};

/// Write the rows of `relation_sql` to the table of `destination` on `conn` (unprefixed errors;
/// kCancelled when `cancel` is set before the commit, and then nothing is committed). `progress`
/// (may be null) is told the write's phases: scanning, writing files, committing.
Result<WriteStats> WriteDelta(engine::Connection& conn, const DeltaDestination& destination,
                              const std::string& relation_sql, const CancelToken* cancel,
                              connector::StepProgress* progress = nullptr);

// Direct calls, outside a pipeline run (tests, benchmarks): each runs on a new connection of
// `session`, and errors carry the prefix the runner would add.

/// Register `source` as a view named source.name (time travel per version/timestamp).
/// Errors: "Failed to register Delta source '<n>'. <e>".
Status RegisterDeltaSource(engine::Session& session, const DeltaSource& source);

/// Prepare the destination before sources are read: create the table if it is missing.
Status PrepareDeltaDestination(engine::Session& session, const DeltaDestination& destination);

/// Write the result of `relation_sql` (a SELECT) to the table per write_mode and commit.
/// `sink` may be nullptr. Errors: "Delta destination '<n>': <e>".
Result<WriteStats> WriteDeltaDestination(engine::Session& session,
                                         const DeltaDestination& destination,
                                         const std::string& relation_sql, ProgressSink* sink);

}  // namespace aqueducts::delta

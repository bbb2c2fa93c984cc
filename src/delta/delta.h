#pragma once

// Delta Lake: the hooks the runner calls. Implemented natively in this module (issue #3).

#include <string>

#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/status.h"

#include "engine/session.h"

namespace aqueducts::delta {

/// Register `source` as a table/view named source.name on `session` (time travel per
/// version/timestamp). Errors: "Failed to register Delta source '<n>'. <e>".
Status RegisterDeltaSource(engine::Session& session, const DeltaSource& source);

/// Prepare the destination before sources are read: create the table if it is missing.
Status PrepareDeltaDestination(engine::Session& session, const DeltaDestination& destination);

/// Write the result of `relation_sql` (a SELECT) to the table per write_mode and commit.
/// `sink` may be nullptr. Fills rows/bytes written.
struct WriteStats {
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t files_added = 0;
  int64_t files_removed = 0;
  int64_t version = -1;
};
Result<WriteStats> WriteDeltaDestination(engine::Session& session,
                                         const DeltaDestination& destination,
                                         const std::string& relation_sql, ProgressSink* sink);

}  // namespace aqueducts::delta

#pragma once

// Sources and destinations of a run, by kind: file/dir through io, delta and odbc through their
// hooks, in_memory against the session's catalog. Errors carry the original's prefixes and ids.

#include <cstdint>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/status.h"

#include "engine/session.h"

namespace aqueducts::runner {

/// Register `source` under its name. file/dir sources become views on `conn`.
/// `cancel` (may be null) reaches sources that run outside DuckDB (ODBC).
Status RegisterSource(engine::Session& session, engine::Connection& conn, const Source& source,
                      const CancelToken* cancel = nullptr);

/// Check (or create, for Delta) the destination before any source is read.
Status PrepareDestination(engine::Session& session, engine::Connection& conn,
                          const Destination& destination);

struct WriteStats {
  int64_t rows = -1;
  int64_t bytes = -1;
};

/// Write the relation `relation_sql` (a SELECT) to `destination`.
Result<WriteStats> WriteDestination(engine::Session& session, engine::Connection& conn,
                                    const Destination& destination, const std::string& relation_sql,
                                    ProgressSink* sink, const CancelToken* cancel = nullptr);

}  // namespace aqueducts::runner

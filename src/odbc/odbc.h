#pragma once

// ODBC sources and destinations through unixODBC: the connectors the runner calls
// (connector/connector.h), and direct entry points for tests.

#include <string>

#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/run.h"
#include "aqueducts/status.h"

#include "connector/connector.h"
#include "engine/session.h"

namespace aqueducts::odbc {

/// Register the kind "odbc" (source and destination) in `registry`.
void AddConnectors(connector::Registry& registry);

// Direct calls, outside a pipeline run (tests): each runs on a new connection of `session`, and
// errors carry the prefix the runner would add.

/// Run source.load_query and load its rows into a table named source.name (streamed in batches).
/// Errors: "Failed to register ODBC source '<n>'. <e>" (never containing the password).
/// `cancel` (may be null) is checked between fetched blocks: kCancelled, nothing left behind.
Status RegisterOdbcSource(engine::Session& session, const OdbcSource& source,
                          const CancelToken* cancel = nullptr);

/// Before sources are read: connect and check that the target table exists.
Status PrepareOdbcDestination(const OdbcDestination& destination);

/// Write the rows of `relation_sql` (a SELECT) per write_mode. Returns the number of rows written.
/// `cancel` (may be null) is checked between batches; a cancelled write is rolled back.
Result<int64_t> WriteOdbcDestination(engine::Session& session, const OdbcDestination& destination,
                                     const std::string& relation_sql, ProgressSink* sink,
                                     const CancelToken* cancel = nullptr);

}  // namespace aqueducts::odbc

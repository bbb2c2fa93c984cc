#pragma once

// ODBC sources and destinations through unixODBC (issue #5): the hooks the runner calls.

#include <string>

#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/run.h"
#include "aqueducts/status.h"

#include "engine/session.h"

namespace aqueducts::odbc {

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

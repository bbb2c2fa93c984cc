#pragma once

// Sources and destinations of a run, whatever their kind: each is looked up by its `type` tag in
// the connector registry (connector/connector.h), run with the step's RunContext, and its
// errors are named here, once, with the label its kind registered.

#include <string>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "connector/connector.h"

namespace aqueducts::runner {

/// Every kind this build supports: file, directory, delta, odbc, in_memory.
const connector::Registry& Connectors();

/// Register `source` under its name on ctx.conn().
Status RegisterSource(const connector::RunContext& ctx, const Source& source);

/// Check (or create, for Delta) the destination before any source is read.
Status PrepareDestination(const connector::RunContext& ctx, const Destination& destination);

/// Write the relation `relation_sql` (a SELECT) to `destination` on ctx.conn().
Result<connector::WriteStats> WriteDestination(const connector::RunContext& ctx,
                                               const Destination& destination,
                                               const std::string& relation_sql);

}  // namespace aqueducts::runner

#pragma once

// Planning a new Delta table: everything is validated before anything is written, so a failed
// create leaves no trace.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "delta/schema.h"

namespace aqueducts::delta {

/// \brief The protocol, schemaString object and configuration of a table to create.
struct NewTable {
  nlohmann::json protocol;
  nlohmann::json schema;
  nlohmann::json configuration;
};

/// Validate `dest` for creating a table: schema types, column names unique ignoring case
/// (nested fields too), partition columns (in the schema, once each, primitive, not all
/// columns), and table properties (docs/delta.md lists the supported ones; a property that
/// would switch on a protocol feature this writer does not implement is refused). Returns what
/// to commit; the protocol is 1/2, or 3/7 with the features in use (timestampNtz,
/// deletionVectors, plus appendOnly when set).
Result<NewTable> PlanNewTable(const DeltaDestination& dest);

/// The metaData action body of a table created from `plan` for `dest`: a new id, the schema,
/// `dest`'s partition columns and the configuration, created now.
nlohmann::json NewMetadataAction(const NewTable& plan, const DeltaDestination& dest);

/// Milliseconds of an "interval <n> <unit>" property value (millisecond ... week); nullopt
/// when it cannot be read.
std::optional<int64_t> ParseIntervalMillis(const std::string& text);

}  // namespace aqueducts::delta

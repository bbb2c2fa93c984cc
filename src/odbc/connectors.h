#pragma once

// The ODBC connectors' steps, and the labels the runner names them with.

#include <cstdint>
#include <string>

#include "connector/connector.h"

namespace aqueducts::odbc {

inline const connector::ErrorLabel kSourceLabel{"Failed to register ODBC source '", "'. ",
                                                "aqueducts::source::register_odbc"};
inline const connector::ErrorLabel kPrepareLabel{"Failed to register ODBC destination '", "'. ",
                                                 "aqueducts::destination::register_odbc_error"};
inline const connector::ErrorLabel kWriteLabel{"Failed to write to ODBC destination '", "'. ",
                                               "aqueducts::destination::write_odbc_error"};

/// Run source.load_query and stream its rows into table source.name on ctx.conn(); the cancel
/// token is checked between fetched blocks (unprefixed errors; nothing left behind on error).
Status LoadOdbcSource(const OdbcSource& source, const connector::RunContext& ctx);
/// Connect and check that the destination's table exists (unprefixed errors).
Status CheckOdbcDestination(const OdbcDestination& destination);
/// Stream the rows of `relation_sql` from ctx.conn() into the destination in one transaction;
/// cancelled between batches and once more before the commit; rolled back on any error.
Result<int64_t> WriteOdbc(const OdbcDestination& destination, const std::string& relation_sql,
                          const connector::RunContext& ctx);

}  // namespace aqueducts::odbc

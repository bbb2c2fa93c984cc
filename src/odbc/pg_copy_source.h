#pragma once

// The PostgreSQL fast path of the ODBC source (docs/odbc.md, "PostgreSQL COPY reads"): when the
// connection string names the PostgreSQL driver with the server spelled out, load_query runs as
// `COPY (load_query) TO STDOUT (FORMAT binary)` through libpq and its binary rows are decoded
// into the same DuckDB types and values the ODBC path produces.

#include <optional>
#include <string>

#include "aqueducts/status.h"

#include "connector/connector.h"

namespace aqueducts::odbc {

/// The connection-string attribute that turns the fast path off (`AqueductsPgCopy=0`).
inline constexpr const char* kPgCopySwitch = "AqueductsPgCopy";

/// libpq connection parameters taken from an ODBC connection string.
struct PgCopyTarget {
  std::string host, port, dbname, user, password, sslmode;
};

/// The libpq parameters of `connection_string` when the fast path may be used: a Driver= naming
/// PostgreSQL or psqlodbc, a Server=, no DSN=, no `AqueductsPgCopy=0`, and no attribute other
/// than those that cannot change how psqlODBC maps values (Driver, Server/Servername, Port,
/// Database, UID/Username, PWD/Password, SSLmode, UseDeclareFetch, Fetch, BatchSize,
/// BoolsAsChar=0, NumericAs=-1). nullopt otherwise.
std::optional<PgCopyTarget> PgCopyTargetOf(const std::string& connection_string);

/// `connection_string` without the `AqueductsPgCopy` attribute (what the driver is given).
std::string WithoutPgCopySwitch(const std::string& connection_string);

/// Load the rows of `load_query` into a new DuckDB table `table` through COPY. kCancelled when
/// `ctx` is cancelled. Any other error (a column type it does not decode, a query COPY does not
/// take, a value it cannot map exactly, a server error) leaves no table behind and means: use
/// the ODBC path, which reproduces the result or the error of the ODBC source exactly.
Status LoadByPgCopy(const PgCopyTarget& target, const std::string& load_query,
                    const std::string& table, const connector::RunContext& ctx);

/// Loads completed by LoadByPgCopy in this process (tests check which path ran).
int64_t PgCopyLoads();

}  // namespace aqueducts::odbc

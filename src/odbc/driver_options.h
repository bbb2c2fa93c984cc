#pragma once

// Driver-specific connection attributes that make reads stream and types map faithfully.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace aqueducts::odbc {

/// For the PostgreSQL driver (a Driver= attribute naming PostgreSQL or psqlodbc), add
/// UseDeclareFetch=1;Fetch=4096 (psqlODBC otherwise buffers the whole result in client
/// memory), BoolsAsChar=0 (booleans as SQL_BIT rather than text) and NumericAs=-1 (a `numeric`
/// without precision described as SQL_LONGVARCHAR instead of numeric(28,6), so it can be told
/// apart and read without losing digits), unless the connection string sets them itself.
/// Other connection strings are returned unchanged.
std::string TuneForStreaming(const std::string& connection_string);

/// For the PostgreSQL driver, add BatchSize=<batch_size> (psqlODBC sends a parameter array in
/// round trips of BatchSize rows, default 100) unless set, so `batch_size` really is the number
/// of rows per round trip. Other connection strings are returned unchanged.
std::string TuneForWriting(const std::string& connection_string, uint64_t batch_size);

/// Whether a Driver= attribute names PostgreSQL or psqlodbc (case-insensitive).
bool IsPostgresDriver(const std::string& connection_string);

/// One `name=value` piece of a connection string: [begin, end) of the string without its ';',
/// `eq` the position of its '=' (npos for a trailing piece without one), `name` trimmed and
/// lower-cased. A value in braces may hold ';' and '='.
struct AttributeSpan {
  size_t begin = 0;
  size_t end = 0;
  size_t eq = std::string::npos;
  std::string name;
};

/// The pieces of `connection_string`, in order.
std::vector<AttributeSpan> SplitConnectionString(const std::string& connection_string);

/// The value of attribute `key` (case-insensitive), braces kept; empty if absent.
std::string ConnectionAttribute(const std::string& connection_string, const std::string& key);

}  // namespace aqueducts::odbc

#pragma once

// DataFusion functions bridged onto DuckDB (docs/sql-functions.md).

#include <string>
#include <vector>

namespace aqueducts::engine {

/// The SQL (CREATE OR REPLACE MACRO statements, one per line) that defines, under DataFusion's
/// names and with DataFusion's semantics, the DataFusion functions DuckDB lacks or defines
/// differently: to_timestamp*, to_date, to_unixtime, from_unixtime, date_bin, to_char, nvl,
/// make_array, array_* / list_* extras, encode/decode, arrow_typeof, ... Some shadow a DuckDB
/// built-in of the same name (to_timestamp, to_hex, encode/decode with one argument delegate to
/// DuckDB's own). Helper macros are named __aq_*.
std::string DataFusionFunctionsSql();

/// Only the statements of DataFusionFunctionsSql() that `queries` need: the functions they name
/// (whole words, any case) and what those use in turn. Empty when they name none. Creating every
/// macro costs a noticeable part of a second per database, so a run creates only what it uses.
std::string DataFusionFunctionsSqlFor(const std::vector<std::string>& queries);

/// Whether `queries` or the `macros` made for them name a C++ function of datafusion_native.h;
/// those must exist before a macro that calls them is created.
bool NeedsNativeFunctions(const std::vector<std::string>& queries, const std::string& macros);

}  // namespace aqueducts::engine

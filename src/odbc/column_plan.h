#pragma once

// How each column of an ODBC result is fetched (C type, buffer size) and stored in a
// ColumnBatch: the type mapping of the ODBC source (docs/odbc.md).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sql.h>
#include <sqlext.h>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

#include "engine/column_batch.h"
#include "odbc/odbc_connection.h"
#include "odbc/odbc_values.h"

namespace aqueducts::odbc {

/// Columns whose values may be longer than this (or of unknown length) are "long": not given a
/// full-size block buffer (see odbc_source.cc).
constexpr SQLULEN kMaxBoundChars = 4000;

/// \brief How one result column is fetched and stored.
struct ColumnPlan {
  Field field;
  SQLSMALLINT c_type = SQL_C_WCHAR;
  SQLLEN element_bytes = 0;  // bound buffer bytes per row
  bool long_data = false;    // fetched with SQLGetData instead of a bound buffer
  bool overflow = false;     // bound to a short buffer; longer values re-read with SQLGetData
  /// Dates, times and timestamps arrive as ISO text (SQL_C_CHAR) and are parsed (ParseTemporal):
  /// the ODBC date/time structs cannot hold infinities, years outside 0-9999 or fractional times.
  std::optional<TemporalKind> temporal;
  bool lower_case = false;  // SQL_GUID: stored in lower case, as PostgreSQL prints UUIDs
  std::vector<char> buffer;
  std::vector<SQLLEN> indicators;
};

/// The plan of a column described as (sql_type, size, digits) by SQLDescribeCol, whose
/// data source type name (SQL_DESC_TYPE_NAME) is `type_name` ("timestamptz", "numeric", ...).
ColumnPlan PlanColumn(std::string name, SQLSMALLINT sql_type, SQLULEN size, SQLSMALLINT digits,
                      std::string_view type_name = {});

/// Append one fetched value (`ind` bytes at `data`, or SQL_NULL_DATA) of result row `row`
/// (1-based) to `out`. kExecutionError naming the column and row for a value the column's
/// DuckDB type cannot hold exactly (never a rounded, clamped or made-up value).
Status AppendValue(const ColumnPlan& plan, const char* data, SQLLEN ind, int64_t row,
                   engine::ColumnVector* out);

/// Make column names unique, case-insensitively as DuckDB compares them: a repeated `a`
/// becomes `a_1`, then `a_2`, ...; an empty name becomes `column`.
void DeduplicateNames(std::vector<ColumnPlan>* plans);

/// Describe the result columns of the executed or prepared `stmt` (names made unique,
/// case-insensitively as DuckDB compares them: a repeated `a` becomes `a_1`, then `a_2`, ...).
/// kInvalidArgument when the statement returns no result set.
Result<std::vector<ColumnPlan>> DescribeColumns(OdbcConnection& conn, SQLHSTMT stmt);

}  // namespace aqueducts::odbc

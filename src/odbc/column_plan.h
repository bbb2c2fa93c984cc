#pragma once

// How each column of an ODBC result is fetched (C type, buffer size) and stored in a
// ColumnBatch: the type mapping of the ODBC source (docs/odbc.md).

#include <string>
#include <vector>

#include <sql.h>
#include <sqlext.h>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

#include "engine/column_batch.h"
#include "odbc/odbc_connection.h"

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
  std::vector<char> buffer;
  std::vector<SQLLEN> indicators;
};

/// The plan of a column described as (sql_type, size, digits) by SQLDescribeCol.
ColumnPlan PlanColumn(std::string name, SQLSMALLINT sql_type, SQLULEN size, SQLSMALLINT digits);

/// Append one fetched value (`ind` bytes at `data`, or SQL_NULL_DATA) to `out`.
/// kExecutionError for decimal text that does not fit the column's type.
Status AppendValue(const ColumnPlan& plan, const char* data, SQLLEN ind, engine::ColumnVector* out);

/// Describe the result columns of the executed `stmt` (names made unique).
/// kInvalidArgument when the statement returned no result set.
Result<std::vector<ColumnPlan>> DescribeColumns(OdbcConnection& conn, SQLHSTMT stmt);

}  // namespace aqueducts::odbc

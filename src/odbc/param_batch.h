#pragma once

// ODBC parameter arrays built from a slice of a ColumnBatch (row-wise binding), so a whole
// batch of rows goes to the driver in one SQLExecute.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <sql.h>
#include <sqlext.h>

#include "aqueducts/status.h"

#include "engine/column_batch.h"
#include "odbc/odbc_connection.h"

namespace aqueducts::odbc {

/// \brief Buffers for the parameter arrays of one execution. Reused across batches.
class ParamBatch {
 public:
  /// Fill the arrays from rows [offset, offset + count) of `batch` and bind them as the
  /// parameters of `stmt`, whose statement holds `rows_per_set` rows of markers (a multi-row
  /// VALUES; 1 for a plain INSERT): count / rows_per_set parameter sets (count must be a
  /// multiple of rows_per_set). `first_row` (1-based) is the number of row `offset` in the
  /// whole write, for errors: text containing a NUL character is refused (kInvalidArgument
  /// naming the column and row), since ODBC drivers cut such text at the NUL.
  /// Dates, times and timestamps are sent as ISO text (FormatTemporal, SQL_VARCHAR), which
  /// carries BC years, years above 9999, infinities, microseconds and an explicit UTC offset
  /// for TIMESTAMPTZ; the ODBC structs carry none of these.
  Status Bind(OdbcConnection& conn, SQLHSTMT stmt, const engine::ColumnBatch& batch, size_t offset,
              size_t count, int64_t first_row, size_t rows_per_set = 1);

 private:
  std::vector<int64_t> buffer_;  // 8-aligned rows of (indicator, value) per column
};

}  // namespace aqueducts::odbc

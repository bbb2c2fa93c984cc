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
  /// multiple of rows_per_set).
  Status Bind(OdbcConnection& conn, SQLHSTMT stmt, const engine::ColumnBatch& batch, size_t offset,
              size_t count, size_t rows_per_set = 1);

 private:
  std::vector<int64_t> buffer_;  // 8-aligned rows of (indicator, value) per column
};

}  // namespace aqueducts::odbc

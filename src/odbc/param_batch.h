#pragma once

// Column-wise ODBC parameter arrays built from a slice of a ColumnBatch: one bound array per
// column, so a whole batch of rows goes to the driver in one SQLExecute.

#include <cstddef>
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
  /// parameters of `stmt` (SQL_ATTR_PARAMSET_SIZE = count).
  Status Bind(OdbcConnection& conn, SQLHSTMT stmt, const engine::ColumnBatch& batch, size_t offset,
              size_t count);

 private:
  struct Column {
    std::vector<char> data;
    std::vector<SQLLEN> indicators;
  };
  std::vector<Column> columns_;
};

}  // namespace aqueducts::odbc

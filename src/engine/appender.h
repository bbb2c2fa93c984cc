#pragma once

// Bulk loading of plain C++ column vectors into a DuckDB table (e.g. rows fetched from ODBC).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

#include "engine/column_batch.h"
#include "engine/session.h"

namespace aqueducts::engine {

/// \brief Appends ColumnBatches to a table it creates. Not thread-safe; the connection must
/// outlive it and must not run other statements while it is open.
///
/// Rows become visible to other connections as the appender flushes; a loader that fails
/// half-way calls Abort() so no partial table stays behind.
class TableAppender {
 public:
  /// Create table `table` (replacing any table of that name) with `columns` (name + type,
  /// nullable) on `connection`. kUnsupported for a column type without a flat form.
  static Result<std::unique_ptr<TableAppender>> Create(Connection& connection,
                                                       const std::string& table,
                                                       const std::vector<Field>& columns);
  ~TableAppender();
  TableAppender(const TableAppender&) = delete;
  TableAppender& operator=(const TableAppender&) = delete;

  /// Append every row of `batch`, whose columns match the table's in order, type and storage.
  Status Append(const ColumnBatch& batch);
  /// Flush buffered rows and close. Call once; the table keeps all rows appended.
  Status Close();
  /// Discard the appender and drop the table.
  Status Abort();
  /// Rows appended so far.
  int64_t rows() const { return rows_; }

  struct Impl;

 private:
  explicit TableAppender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int64_t rows_ = 0;
};

}  // namespace aqueducts::engine

#pragma once

// Streaming a query's result out of DuckDB as plain C++ column vectors (e.g. to write it
// through ODBC) without materialising the whole result.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

#include "engine/column_batch.h"
#include "engine/session.h"

namespace aqueducts::engine {

/// \brief A running query whose rows are fetched chunk by chunk (DuckDB's streaming result).
/// Not thread-safe; the connection must outlive it and runs nothing else until it is destroyed.
class ResultStream {
 public:
  /// Start `sql` on `connection`. Errors: the query's (kSqlError, kExecutionError, ...).
  static Result<std::unique_ptr<ResultStream>> Open(Connection& connection, const std::string& sql);
  ~ResultStream();
  ResultStream(const ResultStream&) = delete;
  ResultStream& operator=(const ResultStream&) = delete;

  /// Column names and types (column_types.h FromLogicalType).
  const std::vector<Field>& schema() const { return schema_; }
  /// A batch with one empty column per schema field, ready for Next().
  ColumnBatch MakeBatch() const;
  /// Append the next chunk (at most 2048 rows) to `batch` (made by MakeBatch; it is not
  /// cleared). Returns false, appending nothing, once the result is exhausted.
  Result<bool> Next(ColumnBatch* batch);

  struct Impl;

 private:
  ResultStream(std::unique_ptr<Impl> impl, std::vector<Field> schema);
  std::unique_ptr<Impl> impl_;
  std::vector<Field> schema_;
};

}  // namespace aqueducts::engine

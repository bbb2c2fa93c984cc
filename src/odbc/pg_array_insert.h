#pragma once

// The PostgreSQL fast path of the ODBC `append` destination (docs/odbc.md, "Destination"): one
// prepared `INSERT INTO t (cols) SELECT * FROM unnest(?::type1[], ?::type2[], ...)` per batch,
// each parameter one PostgreSQL array literal holding a whole column of the batch. The server
// parses one statement per batch instead of one multi-row VALUES list, and the values reach the
// target types through their input functions, as the generic path's literals do.

#include <memory>
#include <string>
#include <vector>

#include <sql.h>
#include <sqlext.h>

#include "aqueducts/status.h"

#include "engine/column_batch.h"
#include "odbc/odbc_connection.h"
#include "odbc/wide_text.h"

namespace aqueducts::odbc {

/// Append the PostgreSQL array element text of row `row` of `column` to `out`: NULL for a NULL,
/// every other value double-quoted with `"` and `\` backslash-escaped (so the string 'NULL',
/// '' and text with braces, commas or leading/trailing spaces stay exactly what they are),
/// numbers in their exact shortest form (NaN, Infinity, -Infinity for doubles), dates and
/// timestamps as FormatTemporal, binary as bytea hex (`\x...`). kInvalidArgument naming the
/// column and row (`row_number`, 1-based) for text containing a NUL character.
Status AppendArrayElement(const engine::ColumnVector& column, size_t row, int64_t row_number,
                          std::string* out);

/// \brief A prepared unnest INSERT on one connection; see the file comment.
class PgArrayInsert {
 public:
  /// The statement for `columns` (column names already quoted as SQL) of `table`, or nullptr
  /// when the fast path does not apply and the generic path must be used: a target column whose
  /// type is an array, or a source/target type pair whose text form could differ from what the
  /// generic path stores (for example a DOUBLE into an integer column, which PostgreSQL's
  /// assignment cast rounds but integer input refuses). The target types come from PostgreSQL
  /// itself (`pg_typeof` of each target column).
  static Result<std::unique_ptr<PgArrayInsert>> Prepare(OdbcConnection& conn,
                                                        const std::string& table,
                                                        const std::vector<std::string>& columns,
                                                        const std::vector<Field>& schema);

  /// Insert rows [offset, offset + count) of `batch` (count >= 1) in one execution; the
  /// server's row count must equal `count`. Errors name `what` and `first_row` (the 1-based
  /// number of row `offset` in the whole write).
  Status Execute(const engine::ColumnBatch& batch, size_t offset, size_t count, int64_t first_row,
                 const std::string& what);

 private:
  PgArrayInsert(OdbcConnection& conn, std::unique_ptr<OdbcStatement> stmt)
      : conn_(conn), stmt_(std::move(stmt)) {}
  OdbcConnection& conn_;
  std::unique_ptr<OdbcStatement> stmt_;
  std::string text_;                 // one column's array literal (UTF-8), reused
  std::vector<WideString> columns_;  // the array literals of one batch, as bound (UTF-16)
  std::vector<SQLLEN> indicators_;
};

}  // namespace aqueducts::odbc

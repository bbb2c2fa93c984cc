#pragma once

// The PostgreSQL fast path of the ODBC `append` destination (docs/odbc.md, "Destination"): one
// prepared `INSERT INTO t (cols) SELECT unnest(CAST(? AS type1[])), unnest(...), ...` per batch,
// each parameter one PostgreSQL array literal holding a whole column of the batch. The server
// parses one statement per batch instead of one multi-row VALUES list, and the values reach the
// target types through their input functions, as the generic path's literals do. The unnests
// are in the select list (they advance in lockstep): unlike `FROM unnest(...)`, which stores its
// rows in a tuplestore first, they stream straight into the INSERT (half the server time).

#include <future>
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

  ~PgArrayInsert();  // waits for a batch still being sent
  PgArrayInsert(const PgArrayInsert&) = delete;
  PgArrayInsert& operator=(const PgArrayInsert&) = delete;

  /// Insert rows [offset, offset + count) of `batch` (count >= 1) in one execution. The rows are
  /// encoded before Add returns (the caller may then reuse `batch`) and sent on a helper thread
  /// while the caller prepares the next batch; at most one batch is in flight. The server's row
  /// count of every batch must equal its rows. Errors name `what` and the batch's first row
  /// (`first_row`, the 1-based number of row `offset` in the whole write); an error of a batch
  /// in flight is returned by the next Add or by Finish.
  Status Add(const engine::ColumnBatch& batch, size_t offset, size_t count, int64_t first_row,
             const std::string& what);
  /// Wait for the batch in flight: OK once every added row is inserted.
  Status Finish();

 private:
  // One batch as bound: a UTF-16 array literal per column.
  struct Encoded {
    std::vector<std::string> names;
    std::vector<WideString> columns;
    std::vector<SQLLEN> indicators;
    size_t count = 0;
    int64_t first_row = 0;
  };
  PgArrayInsert(OdbcConnection& conn, std::unique_ptr<OdbcStatement> stmt)
      : conn_(conn), stmt_(std::move(stmt)) {}
  Status Encode(const engine::ColumnBatch& batch, size_t offset, size_t count, int64_t first_row,
                Encoded* out);
  Status Send(Encoded& encoded, const std::string& what);

  OdbcConnection& conn_;
  std::unique_ptr<OdbcStatement> stmt_;
  std::string text_;               // one column's array literal (UTF-8), reused
  Encoded sets_[2];                // the batch in flight and the one being encoded
  int next_ = 0;                   // the set the next Add encodes into
  std::future<Status> in_flight_;  // last member: destroyed (waited for) first
};

}  // namespace aqueducts::odbc

#pragma once

// Counting the rows a query reads from a relation while the query runs: the "rows" of a
// progress line. DuckDB's own progress counts rows summed over every operator of the plan (a
// scan feeding a sort counts each row twice), and estimates them at that, so it cannot say how
// many rows were written.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace duckdb {
class DatabaseInstance;
}  // namespace duckdb

namespace aqueducts::engine {

/// \brief A live count of the rows that pass through a wrapped relation. Thread-safe: rows() may
/// be read from any thread while a query reads the relation on another.
class RowTap {
 public:
  RowTap();
  ~RowTap();
  RowTap(const RowTap&) = delete;
  RowTap& operator=(const RowTap&) = delete;

  /// A query with the same columns (names, types) and rows, in the same order, as
  /// `SELECT * FROM (relation_sql)`, that counts each row it hands on. Every query that reads
  /// it adds to the same count. Usable while this tap lives, on a database of a Session. Column
  /// names that repeat (case-insensitively) are renamed as DuckDB renames them in a subquery
  /// (`a`, `A` become `a`, `A_1`). The wrapper adds no work to binding: `relation_sql` is bound
  /// once, by the query that reads it.
  std::string Wrap(const std::string& relation_sql) const;
  /// Rows handed on so far.
  int64_t rows() const { return count_->load(std::memory_order_relaxed); }

 private:
  int64_t id_;
  std::shared_ptr<std::atomic<int64_t>> count_;
};

/// Register the table function behind Wrap on a database (once per database; Session does it).
void RegisterRowTap(duckdb::DatabaseInstance& db);

}  // namespace aqueducts::engine

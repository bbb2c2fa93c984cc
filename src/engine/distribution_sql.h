#pragma once

// What a stage's SQL means for a distributed run (docs/scale-out.md): its shape as DuckDB's own
// parser sees it, and the rewrite of a decomposable aggregate into a per-partition partial query
// and a driver-side final query. DuckDB-free header.

#include <map>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::engine {

/// How a query can be run over a relation split into partitions.
enum class QueryShape {
  /// Row by row: projection, filter, scalar functions, unnest, joins. Run per partition, the
  /// union of the partitions' results is the whole result (provided the split table is not on
  /// the preserved side of an outer join: see `not_splittable`).
  kPerRow,
  /// One aggregation whose aggregates are all decomposable (SplitAggregate can rewrite it).
  kAggregate,
  /// Anything else; `reason` says what (a window function, ORDER BY, LIMIT, DISTINCT, ...).
  kWhole,
};

struct QueryAnalysis {
  QueryShape shape = QueryShape::kWhole;
  std::string reason;  ///< kWhole: why the query needs the whole relation
  /// Every table name the query reads (lower case), WITH names excluded.
  std::vector<std::string> tables;
  /// Tables that must not be the split one: the side of an outer, semi or anti join whose rows
  /// are kept or tested as a whole (a split relation there would repeat or lose rows), and
  /// tables read inside subqueries.
  std::vector<std::string> not_splittable;
};

/// Parse `sql` (one SELECT) with DuckDB's parser and classify it. Error: kSqlError when it does
/// not parse.
Result<QueryAnalysis> AnalyzeQuery(const std::string& sql);

/// A decomposable aggregate rewritten for a split input.
struct AggregateSplit {
  /// Run per partition: the grouping expressions as __aq_g<i> and partial aggregates as
  /// __aq_a<j> (a sum travels as text with its DuckDB type name in __aq_t<j>, so no value is
  /// rounded by the file format between the partitions and the driver).
  std::string partial_sql;
  /// Run on the driver over `partial_relation` (the gathered partial rows): the same columns,
  /// names and order as the original query. Sums are cast back to the type named in their
  /// __aq_t<j> column (`sum_types`), or to the placeholder "sum_type_j" when not given.
  std::string final_sql;
  /// The __aq_t<j> columns whose value the final query needs (see `sum_types`).
  std::vector<std::string> type_columns;
};

/// Rewrite a kAggregate query. `sum_types`: type column -> DuckDB type name (read from the
/// partial rows). Error: kInvalidArgument when the query is not a decomposable aggregate.
Result<AggregateSplit> SplitAggregate(const std::string& sql, const std::string& partial_relation,
                                      const std::map<std::string, std::string>& sum_types = {});

}  // namespace aqueducts::engine

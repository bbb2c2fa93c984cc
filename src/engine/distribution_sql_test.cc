// AnalyzeQuery and SplitAggregate: shapes as DuckDB's parser sees them, and partial + final
// aggregates run on real DuckDB tables equal the original query (EXCEPT ALL both ways).

#include "engine/distribution_sql.h"

#include <gtest/gtest.h>

#include "aqueducts/run.h"

namespace aqueducts::engine {
namespace {

QueryShape ShapeOf(const std::string& sql) {
  auto analysis = AnalyzeQuery(sql);
  EXPECT_TRUE(analysis.ok()) << analysis.status().message();
  return analysis.ok() ? analysis->shape : QueryShape::kWhole;
}

TEST(DistributionSql, ClassifiesStages) {
  EXPECT_EQ(ShapeOf("SELECT a, upper(b) FROM t WHERE a > 1"), QueryShape::kPerRow);
  EXPECT_EQ(ShapeOf("SELECT unnest(l) AS x FROM t"), QueryShape::kPerRow);
  EXPECT_EQ(ShapeOf("SELECT t.a, d.b FROM t JOIN d ON t.k = d.k"), QueryShape::kPerRow);
  EXPECT_EQ(ShapeOf("SELECT k, count(*), sum(v), avg(v) FROM t GROUP BY k"),
            QueryShape::kAggregate);
  EXPECT_EQ(ShapeOf("SELECT count(*) FILTER (WHERE v > 0) FROM t"), QueryShape::kAggregate);
  EXPECT_EQ(ShapeOf("SELECT k, count(DISTINCT v) FROM t GROUP BY k"), QueryShape::kWhole);
  EXPECT_EQ(ShapeOf("SELECT median(v) FROM t"), QueryShape::kWhole);
  EXPECT_EQ(ShapeOf("SELECT a, row_number() OVER () FROM t"), QueryShape::kWhole);
  EXPECT_EQ(ShapeOf("SELECT a FROM t ORDER BY a"), QueryShape::kWhole);
  EXPECT_EQ(ShapeOf("SELECT a FROM t LIMIT 3"), QueryShape::kWhole);
  EXPECT_EQ(ShapeOf("SELECT DISTINCT a FROM t"), QueryShape::kWhole);
  EXPECT_EQ(ShapeOf("SELECT a FROM t UNION ALL SELECT a FROM u"), QueryShape::kWhole);
  EXPECT_EQ(ShapeOf("SELECT a FROM t WHERE a IN (SELECT a FROM u)"), QueryShape::kWhole);
  auto analysis = AnalyzeQuery("SELECT * FROM t LEFT JOIN d USING (k) FULL JOIN e USING (k)");
  ASSERT_TRUE(analysis.ok());
  EXPECT_EQ(analysis->tables, (std::vector<std::string>{"d", "e", "t"}));
  EXPECT_EQ(analysis->not_splittable.size(), 3u);
  analysis = AnalyzeQuery("SELECT * FROM T LEFT JOIN d USING (k)");
  ASSERT_TRUE(analysis.ok());
  EXPECT_EQ(analysis->not_splittable, (std::vector<std::string>{"d"}));
  EXPECT_FALSE(AnalyzeQuery("SELEC 1").ok());
}

// The original query on all of `t` against partials on three parts of it and the final step.
void ExpectSplitEqualsWhole(const std::string& sql) {
  SCOPED_TRACE(sql);
  auto db = Database::Open();
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)
                  ->Execute("CREATE TABLE everything AS SELECT range::INTEGER AS id, "
                            "['a', 'b', NULL][range % 3 + 1] AS k, "
                            "CASE WHEN range % 7 = 0 THEN NULL ELSE (range * 1.25)::DECIMAL(38,18) "
                            "END AS v, range % 2 = 0 AS flag, "
                            "(range / 3.0)::DOUBLE AS x FROM range(1000)")
                  .ok());
  ASSERT_TRUE((*db)
                  ->Execute("CREATE TABLE d AS SELECT 'a' AS k, 'first' AS label UNION ALL "
                            "SELECT 'b', 'second'")
                  .ok());
  auto split = SplitAggregate(sql, "__aq_gathered");
  ASSERT_TRUE(split.ok()) << split.status().message();
  for (int part = 0; part < 3; part++) {
    ASSERT_TRUE(
        (*db)
            ->Execute("CREATE OR REPLACE VIEW t AS SELECT * FROM everything WHERE id % 3 = " +
                      std::to_string(part))
            .ok());
    std::string into = part == 0 ? "CREATE TABLE __aq_gathered AS " : "INSERT INTO __aq_gathered ";
    Status status = (*db)->Execute(into + split->partial_sql);
    ASSERT_TRUE(status.ok()) << status.message() << "\n" << split->partial_sql;
  }
  std::map<std::string, std::string> types;
  for (const auto& column : split->type_columns) {
    auto rows = (*db)->Query("SELECT max(" + column + ") FROM __aq_gathered");
    ASSERT_TRUE(rows.ok());
    types[column] = *rows->rows[0][0];
  }
  auto final_split = SplitAggregate(sql, "__aq_gathered", types);
  ASSERT_TRUE(final_split.ok());
  ASSERT_TRUE((*db)->Execute("CREATE OR REPLACE VIEW t AS SELECT * FROM everything").ok());
  Status made = (*db)->Execute("CREATE TABLE split AS " + final_split->final_sql);
  ASSERT_TRUE(made.ok()) << made.message() << "\n" << final_split->final_sql;
  ASSERT_TRUE((*db)->Execute("CREATE TABLE whole AS " + sql).ok());
  auto diff = (*db)->Query(
      "SELECT (SELECT count(*) FROM ((FROM split EXCEPT ALL FROM whole) UNION ALL (FROM whole "
      "EXCEPT ALL FROM split))), (SELECT count(*) FROM whole)");
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff->rows[0][0], "0") << final_split->final_sql;
  auto names = (*db)->Query(
      "SELECT (SELECT string_agg(column_name || ':' || column_type, ',') FROM (DESCRIBE split)), "
      "(SELECT string_agg(column_name || ':' || column_type, ',') FROM (DESCRIBE whole))");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->rows[0][0], names->rows[0][1]);
}

TEST(DistributionSql, SplitAggregatesEqualTheWholeQuery) {
  ExpectSplitEqualsWhole(
      "SELECT k, count(*), count(v) AS n, sum(v), min(v), max(id), avg(id) "
      "FROM t GROUP BY k");
  ExpectSplitEqualsWhole(
      "SELECT count(*) AS n, sum(v) AS total, bool_and(flag), bool_or(flag) "
      "FROM t WHERE id > 10");
  ExpectSplitEqualsWhole(
      "SELECT upper(k) AS big, flag, sum(v) / count(*) AS ratio FROM t "
      "GROUP BY 1, flag HAVING count(*) > 5 ORDER BY big NULLS FIRST, flag "
      "LIMIT 4");
  ExpectSplitEqualsWhole(
      "SELECT d.label, count(*) FILTER (WHERE t.flag) AS flagged, "
      "sum(t.id) AS ids FROM t JOIN d ON d.k = t.k GROUP BY ALL");
  ExpectSplitEqualsWhole("SELECT k, sum(id) AS s FROM t GROUP BY k HAVING sum(id) > 1000");
  EXPECT_FALSE(SplitAggregate("SELECT k, median(v) FROM t GROUP BY k", "g").ok());
}

}  // namespace
}  // namespace aqueducts::engine

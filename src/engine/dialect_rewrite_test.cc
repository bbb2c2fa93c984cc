#include "engine/dialect_rewrite.h"

#include <gtest/gtest.h>

namespace aqueducts::engine {
namespace {

TEST(DialectRewriteTest, JsonArrowCastToTextBecomesJsonExtractString) {
  std::string out = RewriteDataFusionSql("SELECT (j -> 'k')::VARCHAR AS v FROM t");
  EXPECT_NE(out.find("json_extract_string(j, 'k')"), std::string::npos) << out;
  EXPECT_NE(out.find("AS v"), std::string::npos) << out;
  // In subqueries, CTEs, joins and set operations too.
  out = RewriteDataFusionSql(
      "WITH c AS (SELECT CAST(j->'a' AS TEXT) x FROM t) SELECT * FROM c JOIN (SELECT "
      "TRY_CAST(j -> 'b' AS STRING) y FROM t) s ON true UNION ALL SELECT (SELECT "
      "(j->'c')::VARCHAR), 1 FROM t");
  EXPECT_NE(out.find("json_extract_string(j, 'a')"), std::string::npos) << out;
  EXPECT_NE(out.find("json_extract_string(j, 'b')"), std::string::npos) << out;
  EXPECT_NE(out.find("json_extract_string(j, 'c')"), std::string::npos) << out;
}

TEST(DialectRewriteTest, PositionalAggregatesBecomeDuckDbAggregates) {
  std::string out = RewriteDataFusionSql(
      "SELECT k, first_value(v ORDER BY t) AS f, LAST_VALUE(v ORDER BY t DESC) l, "
      "nth_value(v, 2 ORDER BY t) AS n FROM x GROUP BY k");
  // DuckDB prints the names of first and last quoted.
  EXPECT_NE(out.find("first\"(v ORDER BY t)"), std::string::npos) << out;
  EXPECT_NE(out.find("last\"(v ORDER BY t DESC)"), std::string::npos) << out;
  EXPECT_NE(out.find("array_extract(list(v ORDER BY t"), std::string::npos) << out;
  EXPECT_NE(out.find("AS n"), std::string::npos) << out;
  // As window functions they are DuckDB's own, with the same meaning.
  const char* window = "SELECT first_value(v) OVER (ORDER BY t) FROM x";
  EXPECT_EQ(RewriteDataFusionSql(window), window);
}

TEST(DialectRewriteTest, EverythingElseIsLeftAsWritten) {
  for (const char* sql : {"SELECT j -> 'k' FROM t", "SELECT (j -> 'k')::INTEGER FROM t",
                          "SELECT list_transform([1, 2], x -> x + 1)", "SELECT j ->> 'k' FROM t",
                          "SELECT 1 -- a -> comment", "not sql at all ->"}) {
    EXPECT_EQ(RewriteDataFusionSql(sql), sql);
  }
}

}  // namespace
}  // namespace aqueducts::engine

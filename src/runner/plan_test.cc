#include <gtest/gtest.h>

#include "runner/stage_plan.h"
#include "runner/table_refs.h"

namespace aqueducts::runner {
namespace {

int Count(const std::string& sql, const std::string& name) {
  auto counts = IdentifierCounts(sql);
  auto it = counts.find(name);
  return it == counts.end() ? 0 : it->second;
}

TEST(TableRefsTest, FindsReferencesTheRegexMissed) {
  EXPECT_EQ(Count("SELECT * FROM(x)", "x"), 1);
  EXPECT_EQ(Count("SELECT * FROM a,x", "x"), 1);
  EXPECT_EQ(Count("SELECT * FROM \"x\"", "x"), 1);
  EXPECT_EQ(Count("SELECT * FROM \"My Table\"", "my table"), 1);
  EXPECT_EQ(Count("SELECT * FROM X JOIN x ON X.id = x.id", "x"), 4);
  EXPECT_EQ(Count("SELECT x.a FROM y", "x"), 1);
}

TEST(TableRefsTest, IgnoresStringsAndComments) {
  EXPECT_EQ(Count("SELECT 'x' FROM y -- from x\n", "x"), 0);
  EXPECT_EQ(Count("SELECT /* x /* nested */ x */ 1", "x"), 0);
  EXPECT_EQ(Count("SELECT 'it''s x' AS a", "x"), 0);
  EXPECT_EQ(Count("SELECT $$ x $$, $tag$ x $tag$", "x"), 0);
  EXPECT_EQ(Count("SELECT E'x' FROM t", "x"), 0);
  EXPECT_EQ(Count("SELECT 1x FROM t", "x"), 0);
  EXPECT_EQ(Count("SELECT xx, x_1 FROM t", "x"), 0);
}

Stage S(std::string name, std::string query) {
  return Stage{.name = name, .query = query};
}

TEST(StagePlanTest, ViewsForSingleReadsTablesForSeveral) {
  Aqueduct aq;
  aq.stages = {{S("a", "SELECT 1"), S("b", "SELECT 2")},
               {S("c", "SELECT * FROM a JOIN b USING (x)")},
               {S("d", "SELECT * FROM c, a")},
               {S("e", "SELECT * FROM d")}};
  aq.destination = InMemoryDestination{"out"};
  auto plan = PlanStages(aq);
  EXPECT_TRUE(plan[0][0].materialise);  // a: read by c and d
  EXPECT_EQ(plan[0][0].reads, 2);
  // Read through the chain of views c -> d -> e that the destination streams.
  EXPECT_EQ(plan[0][0].drop_after, 4);
  EXPECT_FALSE(plan[0][1].materialise);  // b: read once, by c
  EXPECT_FALSE(plan[1][0].materialise);  // c: read once, by d
  EXPECT_FALSE(plan[2][0].materialise);  // d: read once, by e
  EXPECT_FALSE(plan[3][0].materialise);  // e: only the destination reads it
  EXPECT_EQ(plan[3][0].drop_after, 4);
  // d is a view read by e (a view that lives until the destination): d, and c under it, too.
  EXPECT_EQ(plan[2][0].drop_after, 4);
  EXPECT_EQ(plan[1][0].drop_after, 4);
  EXPECT_EQ(plan[0][1].drop_after, 4);
}

TEST(StagePlanTest, SelfJoinAndShowMaterialise) {
  Aqueduct aq;
  Stage shown = S("shown", "SELECT 1");
  shown.show = 10;
  aq.stages = {{S("a", "SELECT 1"), shown, S("unused", "SELECT 3")},
               {S("b", "SELECT * FROM a x JOIN a y USING (k) JOIN shown USING (k)")}};
  auto plan = PlanStages(aq);
  EXPECT_TRUE(plan[0][0].materialise);
  EXPECT_TRUE(plan[0][1].materialise);
  EXPECT_FALSE(plan[0][2].materialise);
  EXPECT_EQ(plan[0][2].drop_after, 1);  // unreferenced -> after the next group
  EXPECT_TRUE(plan[1][0].materialise);  // no destination: the last group is kept as tables
  EXPECT_EQ(plan[1][0].drop_after, -1);
}

}  // namespace
}  // namespace aqueducts::runner

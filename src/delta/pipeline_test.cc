// The original's delta-tests pipelines through the real loader and runner, each run twice
// (the original's Delta example), and the example pipeline with a delta destination end to end.
#include <filesystem>

#include <gtest/gtest.h>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "delta/delta.h"
#include "delta/test_util.h"

namespace aqueducts::delta {
namespace {

namespace fs = std::filesystem;
using testing::LocalLocation;
using testing::OpenTestSession;
using testing::QueryOne;
using testing::SortedRows;
using testing::TempDir;

std::string Examples() {
  return ::aqueducts::testing::FixturesDir() + "/aqueducts-examples";
}

void RunTwice(const std::string& pipeline, const TempDir& dir, const std::string& date) {
  fs::create_directories(dir.str() + "/tests/data");
  for (const char* csv : {"example_1.csv", "example_2.csv"}) {
    fs::copy_file(Examples() + "/delta-tests/" + csv, dir.str() + "/tests/data/" + csv,
                  fs::copy_options::overwrite_existing);
  }
  Params params = {{"local_path", dir.str()}, {"run_id", "run"}, {"date", date}};
  for (int i = 0; i < 2; ++i) {
    AQ_ASSERT_OK_AND_ASSIGN(Aqueduct aq,
                            LoadAqueductFromFile(Examples() + "/delta-tests/" + pipeline, params));
    AQ_ASSERT_OK(RunPipeline(aq, RunOptions{}, nullptr));
  }
}

std::string Top(engine::Session& s) {
  return QueryOne(s.main(), "SELECT country || ' ' || sum_1 FROM t ORDER BY sum_1 DESC LIMIT 1");
}

void Register(engine::Session& s, const std::string& root) {
  DeltaSource src{"t", LocalLocation(root), {}, {}, {}};
  AQ_ASSERT_OK(RegisterDeltaSource(s, src));
}

TEST(DeltaPipelineTest, AppendTwiceGives52Rows) {
  TempDir dir;
  RunTwice("aqueduct_pipeline_delta_append.yml", dir, "2023-05-01");
  auto s = OpenTestSession();
  Register(*s, dir.str() + "/tests/output/test_delta_append/run");
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t WHERE date = DATE '2023-05-01'"), "52");
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "52");
  EXPECT_TRUE(fs::exists(dir.str() + "/tests/output/test_delta_append/run/date=2023-05-01"));
}

TEST(DeltaPipelineTest, ReplaceTwiceGives19RowsWithCnOnTop) {
  TempDir dir;
  RunTwice("aqueduct_pipeline_delta_replace.yml", dir, "2023-05-02");
  auto s = OpenTestSession();
  Register(*s, dir.str() + "/tests/output/test_delta_replace/run");
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "19");
  EXPECT_EQ(Top(*s), "CN 1070");
  EXPECT_EQ(SortedRows(s->main(), "SELECT country, sum_1 FROM t ORDER BY sum_1 DESC LIMIT 3"),
            (std::vector<std::string>{"CN|1070", "PH|558", "RU|395"}));
}

TEST(DeltaPipelineTest, UpsertTwiceGives20RowsWithCnOnTop) {
  TempDir dir;
  RunTwice("aqueduct_pipeline_delta_upsert.yml", dir, "2023-05-03");
  auto s = OpenTestSession();
  Register(*s, dir.str() + "/tests/output/test_delta_upsert/run");
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "20");
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(DISTINCT (date, country)) FROM t"), "20");
  EXPECT_EQ(Top(*s), "CN 1260");
}

TEST(DeltaPipelineTest, ExamplePipelineRunsEndToEnd) {
  TempDir dir;
  fs::create_directories(dir.str() + "/examples");
  for (const auto& e : fs::directory_iterator(Examples() + "/examples")) {
    if (e.path().extension() == ".csv") {
      fs::copy_file(e.path(), dir.str() + "/examples/" + e.path().filename().string());
    }
  }
  Params params = {{"local_path", dir.str()}, {"run_id", "r1"}, {"month", "jan"}, {"year", "2024"}};
  AQ_ASSERT_OK_AND_ASSIGN(
      Aqueduct aq,
      LoadAqueductFromFile(Examples() + "/examples/aqueduct_pipeline_example.yml", params));
  AQ_ASSERT_OK(RunPipeline(aq, RunOptions{}, nullptr));
  auto s = OpenTestSession();
  Register(*s, dir.str() + "/examples/output_delta_example/r1");
  EXPECT_NE(QueryOne(s->main(), "SELECT count(*) FROM t"), "0");
}

// Re-running the original's example with the same run_id upserts on `date` alone, while the data
// holds one row per (date, location): each target row matches several incoming rows. The write is
// refused with the keys, the count, examples and the way out, and the table is left as it was.
TEST(DeltaPipelineTest, ExamplePipelineRerunExplainsAmbiguousUpsertKeys) {
  TempDir dir;
  fs::create_directories(dir.str() + "/examples");
  for (const auto& e : fs::directory_iterator(Examples() + "/examples")) {
    if (e.path().extension() == ".csv") {
      fs::copy_file(e.path(), dir.str() + "/examples/" + e.path().filename().string());
    }
  }
  Params params = {{"local_path", dir.str()}, {"run_id", "same"}};
  std::string pipeline = Examples() + "/examples/aqueduct_pipeline_example.yml";
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct aq, LoadAqueductFromFile(pipeline, params));
  AQ_ASSERT_OK(RunPipeline(aq, RunOptions{}, nullptr));
  std::string root = dir.str() + "/examples/output_delta_example/same";
  auto before = OpenTestSession();
  Register(*before, root);
  std::string rows = QueryOne(before->main(), "SELECT count(*) FROM t");
  // Independent figures: the second run's input equals the table, so every target row of a
  // date with c rows matches c incoming rows.
  std::string dates = QueryOne(
      before->main(), "SELECT sum(c) FROM (SELECT count(*) c FROM t GROUP BY date HAVING c > 1)");
  std::string widest =
      QueryOne(before->main(), "SELECT max(c) FROM (SELECT count(*) c FROM t GROUP BY date)");

  auto log_entries = [&] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root + "/_delta_log")) {
      ++n;
    }
    return n;
  };
  size_t entries_before = log_entries();
  Status again = RunPipeline(aq, RunOptions{}, nullptr);
  ASSERT_FALSE(again.ok());
  const std::string& m = again.message();
  EXPECT_NE(m.find("upsert keys (date) do not identify one incoming row: " + dates +
                   " target row(s) each match several incoming rows (date="),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("matches " + widest + " incoming rows"), std::string::npos) << m;
  EXPECT_NE(m.find("Nothing was written. De-duplicate the input on the keys (e.g. GROUP BY date"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("or choose upsert keys that identify one row"), std::string::npos) << m;
  auto after = OpenTestSession();
  Register(*after, root);
  EXPECT_EQ(QueryOne(after->main(), "SELECT count(*) FROM t"), rows);
  EXPECT_EQ(log_entries(), entries_before) << "no commit was written";
}

}  // namespace
}  // namespace aqueducts::delta

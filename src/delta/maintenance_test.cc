#include "delta/maintenance.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "delta/delta.h"
#include "delta/test_util.h"

namespace aqueducts::delta {
namespace {

using testing::LocalLocation;
using testing::OpenTestSession;
using testing::TempDir;

TEST(DeltaMaintenanceTest, HistoryListsOperationsNewestFirst) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination d;
  d.name = "t";
  d.location = LocalLocation(dir.str());
  d.schema = {Field{"k", MakeType(TypeId::kInt64), true, {}}};
  AQ_ASSERT_OK(WriteDeltaDestination(*s, d, "SELECT 1 AS k", nullptr).status());
  d.write_mode.operation = DeltaWriteMode::Operation::kUpsert;
  d.write_mode.upsert_keys = {"k"};
  AQ_ASSERT_OK(WriteDeltaDestination(*s, d, "SELECT 2 AS k", nullptr).status());
  AQ_ASSERT_OK_AND_ASSIGN(auto history, History(dir.str()));
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].version, 2);
  EXPECT_EQ(history[0].operation, "MERGE");
  EXPECT_EQ(history[1].operation, "WRITE");
  EXPECT_EQ(history[2].operation, "CREATE TABLE");
  EXPECT_GT(history[0].timestamp_ms, 0);
}

TEST(DeltaMaintenanceTest, VacuumDeletesOnlyOldUnreferencedFiles) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination d;
  d.name = "t";
  d.location = LocalLocation(dir.str());
  d.schema = {Field{"k", MakeType(TypeId::kInt64), true, {}}};
  AQ_ASSERT_OK(WriteDeltaDestination(*s, d, "SELECT 1 AS k", nullptr).status());
  d.write_mode.operation = DeltaWriteMode::Operation::kReplace;
  AQ_ASSERT_OK(WriteDeltaDestination(*s, d, "SELECT 2 AS k", nullptr).status());
  // An orphan from a crashed writer.
  std::string orphan = dir.str() + "/part-00000-orphan-c000.zstd.parquet";
  FILE* f = std::fopen(orphan.c_str(), "w");
  std::fputs("x", f);
  std::fclose(f);
  ASSERT_TRUE(MakeDirs(dir.str() + "/_aq_staging_dead/__aq_pid=0").ok());  // killed writer
  AQ_ASSERT_OK_AND_ASSIGN(auto young, Vacuum(dir.str(), VacuumOptions{168, true}));
  EXPECT_TRUE(young.files.empty());  // everything is younger than 7 days
  AQ_ASSERT_OK_AND_ASSIGN(auto dry, Vacuum(dir.str(), VacuumOptions{0, true}));
  // The orphan, the replaced file (its tombstone expired) and the staging directory.
  EXPECT_EQ(dry.files.size(), 3u);
  EXPECT_TRUE(PathExists(orphan));
  AQ_ASSERT_OK_AND_ASSIGN(auto done, Vacuum(dir.str(), VacuumOptions{0, false}));
  EXPECT_EQ(done.files, dry.files);
  EXPECT_FALSE(PathExists(orphan));
  EXPECT_FALSE(PathExists(dir.str() + "/_aq_staging_dead"));
  DeltaSource src{"r", LocalLocation(dir.str()), {}, {}, {}};
  AQ_ASSERT_OK(RegisterDeltaSource(*s, src));
  EXPECT_EQ(testing::QueryOne(s->main(), "SELECT k FROM r"), "2");
}

}  // namespace
}  // namespace aqueducts::delta

// Processes racing on one table, writers killed at random moments, time travel by timestamp,
// refused features, and the physical types we write.
#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delta/delta.h"
#include "delta/log.h"
#include "delta/test_util.h"
#include "delta/util.h"

namespace aqueducts::delta {
namespace {

using testing::LocalLocation;
using testing::OpenTestSession;
using testing::QueryOne;
using testing::TempDir;

DeltaDestination Dest(const std::string& root) {
  DeltaDestination d;
  d.name = "out";
  d.location = LocalLocation(root);
  d.schema = {Field{"who", MakeType(TypeId::kUtf8), true, {}},
              Field{"n", MakeType(TypeId::kInt64), true, {}}};
  return d;
}

// Child process body: append `count` rows one commit each (count < 0: forever).
[[noreturn]] void AppendLoop(const std::string& root, const std::string& who, int count) {
  auto s = engine::Session::Open(Database::Options{});
  if (!s.ok()) {
    _exit(2);
  }
  for (int i = 0; count < 0 || i < count; ++i) {
    auto r = WriteDeltaDestination(
        **s, Dest(root), "SELECT '" + who + "' AS who, " + std::to_string(i) + " AS n", nullptr);
    if (!r.ok()) {
      _exit(3);
    }
  }
  _exit(0);
}

Status Register(engine::Session& s, const std::string& root,
                std::optional<std::string> ts = std::nullopt) {
  DeltaSource src{"t", LocalLocation(root), {}, std::nullopt, ts};
  return RegisterDeltaSource(s, src);
}

TEST(DeltaRobustnessTest, TwoProcessesAppendingAtOnceBothLand) {
  TempDir dir;
  {
    auto s = OpenTestSession();
    AQ_ASSERT_OK(PrepareDeltaDestination(*s, Dest(dir.str())));
  }
  pid_t a = fork();
  if (a == 0) {
    AppendLoop(dir.str(), "a", 5);
  }
  pid_t b = fork();
  if (b == 0) {
    AppendLoop(dir.str(), "b", 5);
  }
  int sa = 0, sb = 0;
  waitpid(a, &sa, 0);
  waitpid(b, &sb, 0);
  ASSERT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
  ASSERT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
  auto s = OpenTestSession();
  AQ_ASSERT_OK(Register(*s, dir.str()));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) || '/' || count(DISTINCT who || n) FROM t"),
            "10/10");
  AQ_ASSERT_OK_AND_ASSIGN(LogListing listing, ListLog(dir.str()));
  EXPECT_EQ(listing.commits.size(), 11u);
  EXPECT_EQ(listing.LatestVersion(), 10);
}

TEST(DeltaRobustnessTest, WriterKilledAtAnyMomentLeavesAReadableTable) {
  TempDir dir;
  {
    auto s = OpenTestSession();
    AQ_ASSERT_OK(PrepareDeltaDestination(*s, Dest(dir.str())));
  }
  for (int delay_ms : {150, 260, 370}) {
    pid_t pid = fork();
    if (pid == 0) {
      AppendLoop(dir.str(), "k" + std::to_string(delay_ms), -1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFSIGNALED(st));
    // Every committed version reads, and holds exactly one row per append commit.
    auto s = OpenTestSession();
    AQ_ASSERT_OK(Register(*s, dir.str()));
    AQ_ASSERT_OK_AND_ASSIGN(LogListing listing, ListLog(dir.str()));
    EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"),
              std::to_string(listing.LatestVersion()));
  }
}

TEST(DeltaRobustnessTest, TimeTravelByTimestampUsesCommitTimes) {
  TempDir dir;
  auto s = OpenTestSession();
  for (int i = 0; i < 3; ++i) {
    AQ_ASSERT_OK(WriteDeltaDestination(*s, Dest(dir.str()),
                                       "SELECT 'x' AS who, " + std::to_string(i) + " AS n", nullptr)
                     .status());
  }
  // Versions 0..3 committed at 2024-01-01 00:00, 01:00, 02:00, 03:00 UTC.
  for (int v = 0; v <= 3; ++v) {
    std::string f = dir.str() + "/_delta_log/" + ZeroPadVersion(v) + ".json";
    struct timeval times[2];
    times[0].tv_sec = times[1].tv_sec = 1704067200 + v * 3600;
    times[0].tv_usec = times[1].tv_usec = 0;
    ASSERT_EQ(utimes(f.c_str(), times), 0);
  }
  AQ_ASSERT_OK(Register(*s, dir.str(), "2024-01-01T02:30:00Z"));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "2");
  AQ_ASSERT_OK(Register(*s, dir.str(), "2024-01-01T03:00:00+00:00"));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "3");
  Status early = Register(*s, dir.str(), "2023-12-31T23:00:00Z");
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.message().find("no version committed at or before"), std::string::npos)
      << early.ToString();
  Status bad = Register(*s, dir.str(), "yesterday");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("not an RFC 3339"), std::string::npos);
}

TEST(DeltaRobustnessTest, UnknownReaderFeatureIsRefusedByName) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.str() + "/_delta_log").ok());
  std::ofstream(dir.str() + "/_delta_log/00000000000000000000.json")
      << R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["variantType-preview"],"writerFeatures":["variantType-preview"]}})"
      << "\n"
      << R"({"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{}}})"
      << "\n";
  auto s = OpenTestSession();
  Status st = Register(*s, dir.str());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("unsupported Delta reader feature 'variantType-preview'"),
            std::string::npos)
      << st.ToString();
}

TEST(DeltaRobustnessTest, PartitionColumnMissingFromTheSchemaIsRefused) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.str() + "/_delta_log").ok());
  std::ofstream(dir.str() + "/_delta_log/00000000000000000000.json")
      << R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"
      << "\n"
      << R"({"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":["nope"],"configuration":{}}})"
      << "\n";
  auto s = OpenTestSession();
  Status st = Register(*s, dir.str());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("partition column 'nope' is not in the table schema"),
            std::string::npos)
      << st.ToString();
}

TEST(DeltaRobustnessTest, TimestampColumnsAreWrittenAsInstants) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination d;
  d.name = "ts";
  d.location = LocalLocation(dir.str());
  DataType tz = MakeType(TypeId::kTimestamp);
  tz.timezone = "UTC";
  d.schema = {Field{"at", tz, true, {}}, Field{"k", MakeType(TypeId::kInt32), true, {}}};
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, d, "SELECT TIMESTAMPTZ '2021-01-01 10:00:00.123456+00' AS at, 1 AS k", nullptr)
          .status());
  AQ_ASSERT_OK_AND_ASSIGN(Snapshot snap, LoadSnapshot(s->main(), dir.str()));
  EXPECT_EQ(snap.schema.fields[0].type, "timestamp");
  EXPECT_EQ(snap.protocol.min_reader, 1);
  ASSERT_EQ(snap.files.size(), 1u);
  auto stats = nlohmann::json::parse(*snap.files[0].stats);
  EXPECT_EQ(stats["minValues"]["at"], "2021-01-01T10:00:00.123Z");
  EXPECT_EQ(QueryOne(s->main(), "SELECT duckdb_type FROM parquet_schema(" +
                                    engine::QuoteLiteral(snap.files[0].FullPath(dir.str())) +
                                    ") WHERE name = 'at'"),
            "TIMESTAMP WITH TIME ZONE");
  AQ_ASSERT_OK(Register(*s, dir.str()));
  EXPECT_EQ(QueryOne(s->main(), "SELECT CAST(\"at\" AS VARCHAR) FROM t"),
            "2021-01-01 10:00:00.123456+00");
  // Zone-less input for an instant column is read as UTC whatever the session time zone.
  AQ_ASSERT_OK(s->main().Execute("SET TimeZone='America/New_York'"));
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, d, "SELECT TIMESTAMP '2022-06-01 08:00:00' AS at, 2 AS k", nullptr)
          .status());
  AQ_ASSERT_OK(s->main().Execute("SET TimeZone='UTC'"));
  AQ_ASSERT_OK(Register(*s, dir.str()));
  EXPECT_EQ(QueryOne(s->main(), "SELECT CAST(\"at\" AS VARCHAR) FROM t WHERE k = 2"),
            "2022-06-01 08:00:00+00");
  // A zone-less timestamp is timestamp_ntz and needs the timestampNtz feature (3/7).
  TempDir dir2;
  d.location = LocalLocation(dir2.str());
  d.schema[0].data_type.timezone.reset();
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, d, "SELECT TIMESTAMP '2021-01-01 10:00:00' AS at, 1 AS k", nullptr)
          .status());
  AQ_ASSERT_OK_AND_ASSIGN(Snapshot snap2, LoadSnapshot(s->main(), dir2.str()));
  EXPECT_EQ(snap2.schema.fields[0].type, "timestamp_ntz");
  EXPECT_EQ(snap2.protocol.min_reader, 3);
  EXPECT_EQ(snap2.protocol.reader_features, std::vector<std::string>{"timestampNtz"});
}

}  // namespace
}  // namespace aqueducts::delta

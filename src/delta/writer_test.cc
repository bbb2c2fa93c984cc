// The delta destination end to end: create, append, replace, upsert, read back, layout,
// concurrency, crashes and checkpoints, on real files with real DuckDB.
#include <algorithm>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delta/commit.h"
#include "delta/delta.h"
#include "delta/distributed_append.h"
#include "delta/log.h"
#include "delta/test_util.h"
#include "delta/util.h"
#include "delta/write_modes.h"
#include "fault_store.h"
#include "storage/local_store.h"
#include "storage/mounts.h"

namespace aqueducts::delta {
namespace {

using testing::LocalLocation;
using testing::OpenTestSession;
using testing::QueryOne;
using testing::SortedRows;
using testing::TempDir;

DeltaDestination Dest(const std::string& root,
                      DeltaWriteMode::Operation op = DeltaWriteMode::Operation::kAppend) {
  DeltaDestination d;
  d.name = "out";
  d.location = LocalLocation(root);
  d.write_mode.operation = op;
  d.schema = {Field{"col_1", MakeType(TypeId::kUtf8), false, {}},
              Field{"col_2", MakeType(TypeId::kInt32), false, {}}};
  return d;
}

std::vector<std::string> ReadBack(engine::Session& s, const std::string& root,
                                  std::optional<int64_t> version = std::nullopt) {
  DeltaSource src;
  src.name = "readback";
  src.location = LocalLocation(root);
  src.version = version;
  Status st = RegisterDeltaSource(s, src);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return SortedRows(s.main(), "SELECT * FROM readback");
}

TEST(DeltaWriterTest, CreateAppendAndReadBack) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str());
  AQ_ASSERT_OK(PrepareDeltaDestination(*s, dest));
  AQ_ASSERT_OK(PrepareDeltaDestination(*s, dest));  // idempotent
  EXPECT_EQ(ReadBack(*s, dir.str()), std::vector<std::string>{});
  AQ_ASSERT_OK_AND_ASSIGN(
      auto stats,
      WriteDeltaDestination(*s, dest,
                            "SELECT * FROM (VALUES ('a', 1), ('b', 2), ('c', 3)) t(col_1, col_2)",
                            nullptr));
  EXPECT_EQ(stats.rows, 3);
  EXPECT_EQ(stats.version, 1);
  EXPECT_EQ(stats.files_added, 1);
  AQ_ASSERT_OK(WriteDeltaDestination(
                   *s, dest, "SELECT 'x' AS col_1, 10 AS col_2, 'ignored' AS extra", nullptr)
                   .status());
  EXPECT_EQ(ReadBack(*s, dir.str()), (std::vector<std::string>{"a|1", "b|2", "c|3", "x|10"}));
  EXPECT_EQ(ReadBack(*s, dir.str(), 1), (std::vector<std::string>{"a|1", "b|2", "c|3"}));
  // Every add carries stats.
  AQ_ASSERT_OK_AND_ASSIGN(Snapshot snap, LoadSnapshot(s->main(), dir.str()));
  ASSERT_EQ(snap.files.size(), 2u);
  for (const auto& f : snap.files) {
    ASSERT_TRUE(f.stats.has_value());
    auto st = nlohmann::json::parse(*f.stats);
    EXPECT_TRUE(st.contains("minValues") && st.contains("maxValues") && st.contains("nullCount"));
  }
  EXPECT_EQ(snap.files[0].NumRecords() + snap.files[1].NumRecords(), 4);
  // The created table has exactly the requested schema, protocol 1/2 and no partitions.
  EXPECT_EQ(nlohmann::json::parse(snap.metadata.schema_string),
            nlohmann::json::parse(R"({"type":"struct","fields":[
              {"name":"col_1","type":"string","nullable":false,"metadata":{}},
              {"name":"col_2","type":"integer","nullable":false,"metadata":{}}]})"));
  EXPECT_EQ(snap.protocol.min_reader, 1);
  EXPECT_EQ(snap.protocol.min_writer, 2);
  EXPECT_TRUE(snap.metadata.partition_columns.empty());
}

TEST(DeltaWriterTest, SchemaErrorsNameTheColumn) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str());
  auto r = WriteDeltaDestination(*s, dest, "SELECT 'a' AS col_1", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column 'col_2' of the table schema is missing"),
            std::string::npos)
      << r.status().ToString();
  r = WriteDeltaDestination(*s, dest, "SELECT 'a' AS col_1, 'notanint' AS col_2", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot cast the data to the table schema"),
            std::string::npos)
      << r.status().ToString();
  r = WriteDeltaDestination(*s, dest, "SELECT 'a' AS col_1, NULL::INT AS col_2", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'col_2' is not nullable"), std::string::npos)
      << r.status().ToString();
}

TEST(DeltaWriterTest, ReplaceRewritesOnlyMatchingRows) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str());
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, dest, "SELECT * FROM (VALUES ('a', 1), ('b', 2), ('c', 3)) t(col_1, col_2)", nullptr)
          .status());
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, dest, "SELECT 'q' AS col_1, 7 AS col_2", nullptr).status());
  dest.write_mode.operation = DeltaWriteMode::Operation::kReplace;
  dest.write_mode.replace_conditions = {ReplaceCondition{"col_1", "a"}};
  AQ_ASSERT_OK_AND_ASSIGN(
      auto st,
      WriteDeltaDestination(
          *s, dest, "SELECT * FROM (VALUES ('a', 999), ('a', 888)) t(col_1, col_2)", nullptr));
  EXPECT_EQ(st.files_removed, 1);  // the file holding 'q' has no matching row: left alone
  EXPECT_EQ(ReadBack(*s, dir.str()),
            (std::vector<std::string>{"a|888", "a|999", "b|2", "c|3", "q|7"}));
  EXPECT_EQ(BuildReplacePredicate({{"col1", "value1"}, {"col2", "value2"}}),
            "\"col1\" = 'value1' AND \"col2\" = 'value2'");
  // Incoming rows must satisfy the condition.
  auto r = WriteDeltaDestination(*s, dest, "SELECT 'z' AS col_1, 1 AS col_2", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("do not satisfy the replace condition"), std::string::npos);
}

TEST(DeltaWriterTest, PartitionedReplaceRemovesWholeFilesAndLayoutMatchesSpark) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination dest = Dest(dir.str());
  dest.schema = {Field{"x", MakeType(TypeId::kUtf8), true, {}},
                 Field{"y", MakeType(TypeId::kInt64), true, {}}};
  dest.partition_columns = {"x"};
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, dest,
          "SELECT * FROM (VALUES ('A/A', 1), ('B B', 2), (NULL, 3), ('t 08:45', 4)) t(x, y)",
          nullptr)
          .status());
  EXPECT_TRUE(PathExists(dir.str() + "/x=A%2FA"));
  EXPECT_TRUE(PathExists(dir.str() + "/x=B B"));
  EXPECT_TRUE(PathExists(dir.str() + "/x=__HIVE_DEFAULT_PARTITION__"));
  EXPECT_TRUE(PathExists(dir.str() + "/x=t 08%3A45"));
  AQ_ASSERT_OK_AND_ASSIGN(auto log,
                          ReadWholeFile(dir.str() + "/_delta_log/00000000000000000001.json"));
  EXPECT_NE(log.find("\"x=A%252FA/part-00000-"), std::string::npos) << log;
  EXPECT_NE(log.find("\"x=t%2008%253A45/part-"), std::string::npos) << log;
  dest.write_mode.operation = DeltaWriteMode::Operation::kReplace;
  dest.write_mode.replace_conditions = {ReplaceCondition{"x", "B B"}};
  AQ_ASSERT_OK_AND_ASSIGN(auto st,
                          WriteDeltaDestination(*s, dest, "SELECT 'B B' AS x, 20 AS y", nullptr));
  EXPECT_EQ(st.files_removed, 1);
  EXPECT_EQ(ReadBack(*s, dir.str()),
            (std::vector<std::string>{"A/A|1", "B B|20", "NULL|3", "t 08:45|4"}));
}

TEST(DeltaWriterTest, UpsertUpdatesMatchedAndInsertsNew) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str());
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, dest, "SELECT * FROM (VALUES ('a', 1), ('b', 2), ('c', 3)) t(col_1, col_2)", nullptr)
          .status());
  dest.write_mode.operation = DeltaWriteMode::Operation::kUpsert;
  dest.write_mode.upsert_keys = {"col_1"};
  AQ_ASSERT_OK(WriteDeltaDestination(
                   *s, dest, "SELECT * FROM (VALUES ('a', 100), ('d', 4)) t(col_1, col_2)", nullptr)
                   .status());
  EXPECT_EQ(ReadBack(*s, dir.str()), (std::vector<std::string>{"a|100", "b|2", "c|3", "d|4"}));
  auto r = WriteDeltaDestination(
      *s, dest, "SELECT * FROM (VALUES ('a', 5), ('a', 6)) t(col_1, col_2)", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("matches 2 incoming rows"), std::string::npos)
      << r.status().ToString();
}

TEST(DeltaWriterTest, UpsertOnListKeysComparesAsSetsAndNullsMatch) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination dest = Dest(dir.str());
  DataType list = MakeType(TypeId::kList);
  list.children = {Field{"item", MakeType(TypeId::kInt32), true, {}}};
  dest.schema = {Field{"k", list, true, {}}, Field{"n", MakeType(TypeId::kUtf8), true, {}},
                 Field{"v", MakeType(TypeId::kInt32), true, {}}};
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, dest, "SELECT * FROM (VALUES ([1, 2], NULL, 1), ([3], 'x', 2)) t(k, n, v)", nullptr)
          .status());
  dest.write_mode.operation = DeltaWriteMode::Operation::kUpsert;
  dest.write_mode.upsert_keys = {"k", "n"};
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, dest, "SELECT * FROM (VALUES ([2, 1], NULL, 10), ([3], 'y', 20)) t(k, n, v)", nullptr)
          .status());
  EXPECT_EQ(ReadBack(*s, dir.str()),
            (std::vector<std::string>{"[2, 1]|NULL|10", "[3]|x|2", "[3]|y|20"}));
}

TEST(DeltaWriterTest, PartitionedUpsertRewritesOnlyTouchedFiles) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination dest = Dest(dir.str());
  dest.schema = {Field{"d", MakeType(TypeId::kDate32), true, {}},
                 Field{"id", MakeType(TypeId::kInt64), true, {}},
                 Field{"v", MakeType(TypeId::kFloat64), true, {}}};
  dest.partition_columns = {"d"};
  AQ_ASSERT_OK(
      WriteDeltaDestination(
          *s, dest,
          "SELECT DATE '2023-01-01' + (i % 10)::INT AS d, i AS id, 1.0 AS v FROM range(1000) t(i)",
          nullptr)
          .status());
  dest.write_mode.operation = DeltaWriteMode::Operation::kUpsert;
  dest.write_mode.upsert_keys = {"d", "id"};
  AQ_ASSERT_OK_AND_ASSIGN(
      auto st,
      WriteDeltaDestination(*s, dest,
                            "SELECT DATE '2023-01-03' AS d, i AS id, 2.0 AS v FROM range(2, 1000, "
                            "10) t(i) UNION ALL SELECT DATE '2023-01-03', 5000, 3.0",
                            nullptr));
  EXPECT_EQ(st.files_removed, 1);
  EXPECT_EQ(st.files_added, 1);
  auto rows = ReadBack(*s, dir.str());
  EXPECT_EQ(rows.size(), 1001u);
  DeltaSource src{"t", LocalLocation(dir.str()), {}, {}, {}};
  AQ_ASSERT_OK(RegisterDeltaSource(*s, src));
  EXPECT_EQ(QueryOne(s->main(), "SELECT sum(v) FROM t"), "1103.0");
}

TEST(DeltaWriterTest, ConcurrentAppendsAllLand) {
  TempDir dir;
  {
    auto s = OpenTestSession();
    AQ_ASSERT_OK(PrepareDeltaDestination(*s, Dest(dir.str())));
  }
  constexpr int kWriters = 4, kEach = 3;
  std::vector<std::thread> threads;
  std::vector<Status> results(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto s = engine::Session::Open(Database::Options{});
      if (!s.ok()) {
        results[w] = s.status();
        return;
      }
      for (int i = 0; i < kEach && results[w].ok(); ++i) {
        results[w] = WriteDeltaDestination(**s, Dest(dir.str()),
                                           "SELECT 'w" + std::to_string(w) + "' AS col_1, " +
                                               std::to_string(i) + " AS col_2",
                                           nullptr)
                         .status();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& st : results) {
    AQ_EXPECT_OK(st);
  }
  auto s = OpenTestSession();
  EXPECT_EQ(ReadBack(*s, dir.str()).size(), size_t(kWriters * kEach));
  AQ_ASSERT_OK_AND_ASSIGN(LogListing listing, ListLog(dir.str()));
  EXPECT_EQ(listing.LatestVersion(), kWriters * kEach);
}

TEST(DeltaWriterTest, RewritesOfTheSameFilesConflict) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str());
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, dest, "SELECT 'a' AS col_1, 1 AS col_2", nullptr).status());
  AQ_ASSERT_OK_AND_ASSIGN(Snapshot snap, LoadSnapshot(s->main(), dir.str()));
  // Two transactions read version 1 and both remove its file; the second must fail.
  CommitRequest req;
  req.operation = "WRITE";
  req.read_version = snap.version;
  req.read_whole_table = true;
  req.removes = {RemoveAction(snap.files[0])};
  AQ_ASSERT_OK(CommitTransaction(s->main(), dir.str(), req).status());
  auto second = CommitTransaction(s->main(), dir.str(), req);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kConflict);
  EXPECT_NE(second.status().message().find("both removed"), std::string::npos)
      << second.status().ToString();
}

TEST(DeltaWriterTest, WriterKilledBeforeCommitLeavesPreviousVersion) {
  TempDir dir;
  {
    auto s = OpenTestSession();
    AQ_ASSERT_OK(
        WriteDeltaDestination(*s, Dest(dir.str()), "SELECT 'a' AS col_1, 1 AS col_2", nullptr)
            .status());
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child dies exactly where it would create the commit file (the data files are written).
    auto crash_at_commit = [](::aqueducts::testing::StoreOp op, const std::string& key) {
      if (op == ::aqueducts::testing::StoreOp::kPutIfAbsent &&
          key.find("/_delta_log/") != std::string::npos && key.size() > 5 &&
          key.compare(key.size() - 5, 5, ".json") == 0) {
        std::_Exit(86);
      }
      return Status::OK();
    };
    storage::ScopedMount mount(dir.str(), std::make_shared<::aqueducts::testing::FaultStore>(
                                              storage::LocalFileSystem(), crash_at_commit));
    auto s = engine::Session::Open(Database::Options{});
    if (s.ok()) {
      (void)WriteDeltaDestination(**s, Dest(dir.str()), "SELECT 'b' AS col_1, 2 AS col_2", nullptr);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 86);  // died right before the commit, data files written
  auto s = OpenTestSession();
  EXPECT_EQ(ReadBack(*s, dir.str()), std::vector<std::string>{"a|1"});
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, Dest(dir.str()), "SELECT 'c' AS col_1, 3 AS col_2", nullptr)
          .status());
  EXPECT_EQ(ReadBack(*s, dir.str()), (std::vector<std::string>{"a|1", "c|3"}));
}

TEST(DeltaWriterTest, CheckpointsEveryInterval) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str());
  dest.table_properties["delta.checkpointInterval"] = "2";
  for (int i = 0; i < 4; ++i) {
    AQ_ASSERT_OK(WriteDeltaDestination(
                     *s, dest, "SELECT 'r' AS col_1, " + std::to_string(i) + " AS col_2", nullptr)
                     .status());
  }
  EXPECT_TRUE(PathExists(dir.str() + "/_delta_log/00000000000000000001.checkpoint.parquet"));
  EXPECT_TRUE(PathExists(dir.str() + "/_delta_log/00000000000000000003.checkpoint.parquet"));
  AQ_ASSERT_OK_AND_ASSIGN(auto last, ReadWholeFile(dir.str() + "/_delta_log/_last_checkpoint"));
  EXPECT_EQ(nlohmann::json::parse(last)["version"], 3);
  // Reading from the checkpoint alone gives the same table.
  std::remove((dir.str() + "/_delta_log/00000000000000000000.json").c_str());
  EXPECT_EQ(ReadBack(*s, dir.str()), (std::vector<std::string>{"r|0", "r|1", "r|2", "r|3"}));
}

TEST(DeltaWriterTest, DistributedAppendRefusalsNameTheDestination) {
  TempDir dir;
  auto s = OpenTestSession();
  auto dest = Dest(dir.str());
  AQ_ASSERT_OK(PrepareDeltaDestination(*s, dest));
  auto upsert = Dest(dir.str(), DeltaWriteMode::Operation::kUpsert);
  upsert.write_mode.upsert_keys = {"col_1"};
  auto part = WriteAppendPart(s->main(), upsert, 0, "SELECT 'a' AS col_1, 1 AS col_2",
                              dir.str() + "/parts", "attempt");
  ASSERT_FALSE(part.ok());
  EXPECT_EQ(part.status().message(),
            "Delta destination 'out' at '" + dest.location.url +
                "': a distributed Delta write is an append or a replace without conditions, not "
                "an upsert");
  auto replace_where = Dest(dir.str(), DeltaWriteMode::Operation::kReplace);
  replace_where.write_mode.replace_conditions = {ReplaceCondition{"col_1", "a"}};
  part = WriteAppendPart(s->main(), replace_where, 0, "SELECT 'a' AS col_1, 1 AS col_2",
                         dir.str() + "/parts", "attempt");
  ASSERT_FALSE(part.ok());
  EXPECT_NE(part.status().message().find("not a replace with conditions"), std::string::npos)
      << part.status().message();
  auto remote = Dest(dir.str());
  remote.location = ParseLocation("s3://bucket/table");
  part = WriteAppendPart(s->main(), remote, 0, "SELECT 'a' AS col_1, 1 AS col_2",
                         dir.str() + "/parts", "attempt");
  ASSERT_FALSE(part.ok());
  EXPECT_EQ(part.status().message(),
            "Delta destination 'out' at 's3://bucket/table': a distributed write commits to "
            "local Delta tables only");
  auto commit = CommitAppendParts(s->main(), remote, 0, {}, 0, nullptr);
  ASSERT_FALSE(commit.ok());
  EXPECT_NE(commit.status().message().find("Delta destination 'out' at 's3://bucket/table'"),
            std::string::npos)
      << commit.status().message();
}

// Two writers' parts of `dest` (for `version`; -1: a new table) in dir/parts/{a,b}.
std::vector<std::pair<std::string, AppendPart>> WriteTwoParts(engine::Connection& conn,
                                                              const DeltaDestination& dest,
                                                              int64_t version,
                                                              const std::string& dir) {
  std::vector<std::pair<std::string, AppendPart>> parts;
  for (const char* writer : {"a", "b"}) {
    std::string out = dir + "/parts/" + writer;
    auto part = WriteAppendPart(conn, dest, version,
                                std::string("SELECT * FROM (VALUES ('") + writer + "1', 1), ('" +
                                    writer + "2', 2)) t(col_1, col_2)",
                                out, std::string("attempt") + writer);
    EXPECT_TRUE(part.ok()) << part.status().ToString();
    if (part.ok()) {
      parts.push_back({out, *part});
    }
  }
  return parts;
}

// Files under `root` outside _delta_log.
std::vector<std::string> DataFilesUnder(const std::string& root) {
  std::vector<std::string> out;
  if (!PathExists(root)) {
    return out;
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string rel = std::filesystem::relative(e.path(), root).generic_string();
    if (e.is_regular_file() && rel.rfind("_delta_log", 0) != 0) {
      out.push_back(rel);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DeltaWriterTest, PartsOfANewTableAreItsFirstCommit) {
  TempDir dir;
  auto s = OpenTestSession();
  std::string root = dir.str() + "/table";
  auto dest = Dest(root);
  AQ_ASSERT_OK_AND_ASSIGN(auto new_table, NewTableJson(dest));
  auto parts = WriteTwoParts(s->main(), dest, -1, dir.str());
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_FALSE(PathExists(root)) << "a writer touched the table";
  AQ_ASSERT_OK_AND_ASSIGN(auto stats,
                          CommitAppendParts(s->main(), dest, -1, parts, 4, nullptr, new_table));
  EXPECT_EQ(stats.version, 0);
  EXPECT_EQ(stats.rows, 4);
  // One commit: protocol, metaData and the writers' adds.
  AQ_ASSERT_OK_AND_ASSIGN(auto listing, ListLog(root));
  EXPECT_EQ(listing.LatestVersion(), 0);
  AQ_ASSERT_OK_AND_ASSIGN(auto actions,
                          ReadCommitFile(LogDir(root) + "/00000000000000000000.json"));
  int protocols = 0, metadata = 0, adds = 0;
  for (const auto& a : actions) {
    protocols += a.contains("protocol");
    metadata += a.contains("metaData");
    adds += a.contains("add");
  }
  EXPECT_EQ(protocols, 1);
  EXPECT_EQ(metadata, 1);
  EXPECT_EQ(adds, 2);
  EXPECT_EQ(ReadBack(*s, root), (std::vector<std::string>{"a1|1", "a2|2", "b1|1", "b2|2"}));
  EXPECT_EQ(DataFilesUnder(root).size(), 2u);
  // The same table as a local create writes.
  std::string local = dir.str() + "/local";
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, Dest(local), "SELECT 'x' AS col_1, 1 AS col_2", nullptr).status());
  AQ_ASSERT_OK_AND_ASSIGN(auto a, LoadSnapshot(s->main(), root));
  AQ_ASSERT_OK_AND_ASSIGN(auto b, LoadSnapshot(s->main(), local));
  EXPECT_EQ(a.metadata.schema_string, b.metadata.schema_string);
  EXPECT_EQ(a.protocol.ToJson(), b.protocol.ToJson());
}

TEST(DeltaWriterTest, PartsOfANewTableAppendWhenTheTableAppearedWithTheSameSchema) {
  TempDir dir;
  auto s = OpenTestSession();
  std::string root = dir.str() + "/table";
  auto dest = Dest(root);
  AQ_ASSERT_OK_AND_ASSIGN(auto new_table, NewTableJson(dest));
  auto parts = WriteTwoParts(s->main(), dest, -1, dir.str());
  // Someone else creates the table and writes a row before the commit.
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, dest, "SELECT 'x' AS col_1, 9 AS col_2", nullptr).status());
  AQ_ASSERT_OK_AND_ASSIGN(auto stats,
                          CommitAppendParts(s->main(), dest, -1, parts, 4, nullptr, new_table));
  EXPECT_EQ(stats.version, 2);
  EXPECT_EQ(ReadBack(*s, root), (std::vector<std::string>{"a1|1", "a2|2", "b1|1", "b2|2", "x|9"}));
}

TEST(DeltaWriterTest, PartsOfANewTableConflictWhenTheTableAppearedWithAnotherSchema) {
  TempDir dir;
  auto s = OpenTestSession();
  std::string root = dir.str() + "/table";
  auto dest = Dest(root);
  AQ_ASSERT_OK_AND_ASSIGN(auto new_table, NewTableJson(dest));
  auto parts = WriteTwoParts(s->main(), dest, -1, dir.str());
  auto other = Dest(root);
  other.schema[1].data_type = MakeType(TypeId::kInt64);
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, other, "SELECT 'x' AS col_1, 9 AS col_2", nullptr).status());
  auto before = DataFilesUnder(root);
  auto commit = CommitAppendParts(s->main(), dest, -1, parts, 4, nullptr, new_table);
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), StatusCode::kConflict);
  EXPECT_NE(commit.status().message().find("the Delta table at '" + root +
                                           "' was created by another writer during this run"),
            std::string::npos)
      << commit.status().message();
  EXPECT_EQ(ReadBack(*s, root), std::vector<std::string>{"x|9"});
  EXPECT_EQ(DataFilesUnder(root), before) << "a moved file was left in the table";
}

TEST(DeltaWriterTest, PartsReplaceEveryLiveFileInOneCommitOrConflict) {
  TempDir dir;
  auto s = OpenTestSession();
  std::string root = dir.str() + "/table";
  auto dest = Dest(root);
  AQ_ASSERT_OK(WriteDeltaDestination(*s, dest, "SELECT 'old' AS col_1, 0 AS col_2", nullptr)
                   .status());  // versions 0 (create) and 1
  auto replace = Dest(root, DeltaWriteMode::Operation::kReplace);
  auto parts = WriteTwoParts(s->main(), replace, 1, dir.str() + "/one");
  AQ_ASSERT_OK_AND_ASSIGN(auto stats, CommitAppendParts(s->main(), replace, 1, parts, 4, nullptr));
  EXPECT_EQ(stats.version, 2);
  EXPECT_EQ(stats.files_removed, 1);
  EXPECT_EQ(ReadBack(*s, root), (std::vector<std::string>{"a1|1", "a2|2", "b1|1", "b2|2"}));
  // Pinned at version 2, but an append lands first: a replace of the whole table conflicts,
  // as a local replace does, and the table keeps the append and nothing of the parts.
  parts = WriteTwoParts(s->main(), replace, 2, dir.str() + "/two");
  AQ_ASSERT_OK(
      WriteDeltaDestination(*s, dest, "SELECT 'new' AS col_1, 5 AS col_2", nullptr).status());
  auto before = DataFilesUnder(root);
  auto commit = CommitAppendParts(s->main(), replace, 2, parts, 4, nullptr);
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), StatusCode::kConflict) << commit.status().ToString();
  EXPECT_EQ(ReadBack(*s, root),
            (std::vector<std::string>{"a1|1", "a2|2", "b1|1", "b2|2", "new|5"}));
  EXPECT_EQ(DataFilesUnder(root), before);
}

TEST(DeltaWriterTest, PartsWhoseRowsDisagreeAreNotCommittedAndTheErrorNamesTheTable) {
  TempDir dir;
  auto s = OpenTestSession();
  std::string root = dir.str() + "/table";
  auto dest = Dest(root);
  AQ_ASSERT_OK_AND_ASSIGN(auto new_table, NewTableJson(dest));
  auto parts = WriteTwoParts(s->main(), dest, -1, dir.str());
  ASSERT_EQ(parts.size(), 2u);
  // A writer that says it wrote 3 rows while its adds' stats hold 2 (the total still agrees).
  parts[0].second.rows = 3;
  parts[1].second.rows = 2;
  auto commit = CommitAppendParts(s->main(), dest, -1, parts, 4, nullptr, new_table);
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().message(),
            "Delta destination 'out' at '" + dest.location.url +
                "': the writers reported 4 rows but their parts hold 5; nothing was committed");
  EXPECT_FALSE(PathExists(root));
}

}  // namespace
}  // namespace aqueducts::delta

namespace aqueducts::delta {
namespace {

// Stats prove the other files cannot match, so they are never opened: deleting one of them
// does not disturb the replace.
TEST(DeltaWriterStatsTest, ReplaceSkipsFilesByMinMaxStats) {
  testing::TempDir dir;
  auto s = testing::OpenTestSession();
  DeltaDestination dest;
  dest.name = "out";
  dest.location = testing::LocalLocation(dir.str());
  dest.schema = {Field{"k", MakeType(TypeId::kInt64), true, {}},
                 Field{"v", MakeType(TypeId::kUtf8), true, {}}};
  for (int i = 0; i < 3; ++i) {
    AQ_ASSERT_OK(WriteDeltaDestination(*s, dest,
                                       "SELECT i AS k, 'old' AS v FROM range(" +
                                           std::to_string(i * 100) + ", " +
                                           std::to_string(i * 100 + 100) + ") t(i)",
                                       nullptr)
                     .status());
  }
  AQ_ASSERT_OK_AND_ASSIGN(Snapshot snap, LoadSnapshot(s->main(), dir.str()));
  for (const auto& f : snap.files) {
    if (f.stats->find("\"minValues\":{\"k\":200") != std::string::npos) {
      std::remove(f.FullPath(dir.str()).c_str());
    }
  }
  dest.write_mode.operation = DeltaWriteMode::Operation::kReplace;
  dest.write_mode.replace_conditions = {ReplaceCondition{"k", "150"}};
  AQ_ASSERT_OK_AND_ASSIGN(auto st,
                          WriteDeltaDestination(*s, dest, "SELECT 150 AS k, 'new' AS v", nullptr));
  EXPECT_EQ(st.files_removed, 1);
}

}  // namespace
}  // namespace aqueducts::delta

// Every fixture table reads to its expected content (sorted, column by column).
#include <filesystem>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "delta/commit.h"
#include "delta/delta.h"
#include "delta/log.h"
#include "delta/test_util.h"

namespace aqueducts::delta {
namespace {

using testing::DeltaFixture;
using testing::LocalLocation;
using testing::OpenTestSession;
using testing::QueryOne;
using testing::SortedRows;

Status Register(engine::Session& s, const std::string& name, const std::string& table,
                std::optional<int64_t> version = std::nullopt) {
  DeltaSource src;
  src.name = name;
  src.location = LocalLocation(DeltaFixture(table) + "/delta");
  src.version = version;
  return RegisterDeltaSource(s, src);
}

// Compare the view with the expected Parquet files, casting expected columns to the view's types.
void ExpectContent(engine::Connection& conn, const std::string& view, const std::string& glob,
                   const std::set<std::string>& skip = {}) {
  auto desc = conn.Query("DESCRIBE " + engine::QuoteIdent(view));
  ASSERT_TRUE(desc.ok()) << desc.status().ToString();
  std::string mine, theirs;
  for (const auto& r : desc->rows) {
    std::string col = *r[0], type = *r[1];
    if (skip.count(col)) {
      continue;
    }
    std::string q = engine::QuoteIdent(col);
    mine += (mine.empty() ? "" : ", ") + ("CAST(" + q + " AS VARCHAR)");
    theirs += (theirs.empty() ? "" : ", ") + ("CAST(CAST(" + q + " AS " + type + ") AS VARCHAR)");
  }
  auto actual = SortedRows(conn, "SELECT " + mine + " FROM " + engine::QuoteIdent(view));
  auto expected = SortedRows(conn, "SELECT " + theirs + " FROM read_parquet(" +
                                       engine::QuoteLiteral(glob) + ", union_by_name=true)");
  EXPECT_FALSE(expected.empty()) << glob;
  EXPECT_EQ(actual, expected) << "view " << view << " vs " << glob;
}

struct DatCase {
  std::string table;
  std::optional<int64_t> version;
  std::string expected;  // subdirectory of expected/
  int64_t rows;
};

class DatTablesTest : public ::testing::TestWithParam<DatCase> {};

TEST_P(DatTablesTest, ReadsExpectedContent) {
  const DatCase& c = GetParam();
  auto s = OpenTestSession();
  AQ_ASSERT_OK(Register(*s, "t", c.table, c.version));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), std::to_string(c.rows));
  ExpectContent(s->main(), "t",
                DeltaFixture(c.table) + "/expected/" + c.expected + "/table_content/*.parquet");
}

INSTANTIATE_TEST_SUITE_P(
    Dat, DatTablesTest,
    ::testing::Values(
        DatCase{"dat_all_primitive_types", std::nullopt, "latest", 5},
        DatCase{"dat_basic_append", 0, "v0", 3}, DatCase{"dat_basic_append", 1, "v1", 5},
        DatCase{"dat_basic_append", std::nullopt, "latest", 5},
        DatCase{"dat_basic_partitioned", 0, "v0", 3}, DatCase{"dat_basic_partitioned", 1, "v1", 6},
        DatCase{"dat_basic_partitioned", std::nullopt, "latest", 6},
        DatCase{"dat_multi_partitioned", 0, "v0", 3}, DatCase{"dat_multi_partitioned", 1, "v1", 5},
        DatCase{"dat_multi_partitioned", 2, "v2", 2},
        DatCase{"dat_nested_types", std::nullopt, "latest", 5},
        DatCase{"dat_no_replay", std::nullopt, "latest", 5},
        DatCase{"dat_with_checkpoint", std::nullopt, "latest", 5}),
    [](const auto& param_info) {
      std::string n = param_info.param.table + "_" + param_info.param.expected;
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
          ch = '_';
        }
      }
      return n;
    });

struct GoldenCase {
  std::string table;
  int64_t rows;
  std::set<std::string> skip;
};

class GoldenTablesTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTablesTest, ReadsExpectedContent) {
  const GoldenCase& c = GetParam();
  auto s = OpenTestSession();
  AQ_ASSERT_OK(Register(*s, "t", c.table));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), std::to_string(c.rows));
  ExpectContent(s->main(), "t", DeltaFixture(c.table) + "/expected/*.parquet", c.skip);
}

INSTANTIATE_TEST_SUITE_P(
    Golden, GoldenTablesTest,
    ::testing::Values(GoldenCase{"golden_basic-with-inserts-deletes-checkpoint", 41, {}},
                      GoldenCase{"golden_corrupted-last-checkpoint-kernel", 100, {}},
                      // The timestamp partition was written in the writer's local time (PST) with
                      // no zone; we read zone-less values as UTC (docs/delta.md), so skip it.
                      GoldenCase{"golden_data-reader-partition-values", 3, {"as_timestamp"}},
                      GoldenCase{"golden_dv-partitioned-with-checkpoint", 35, {}},
                      GoldenCase{"golden_multi-part-checkpoint", 31, {}},
                      GoldenCase{"golden_table-with-columnmapping-mode-name", 6, {}},
                      GoldenCase{"golden_time-travel-start-start20-start40", 30, {}},
                      GoldenCase{"golden_v2-checkpoint-parquet", 10, {}}),
    [](const auto& param_info) {
      std::string n = param_info.param.table;
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
          ch = '_';
        }
      }
      return n;
    });

TEST(DeltaReaderTest, TimeTravelByVersionOnGoldenTable) {
  auto s = OpenTestSession();
  for (int v = 0; v < 3; ++v) {
    AQ_ASSERT_OK(Register(*s, "t", "golden_time-travel-start-start20-start40", v));
    EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), std::to_string(10 * (v + 1)));
  }
}

TEST(DeltaReaderTest, NoReplayVersionsFailClearly) {
  auto s = OpenTestSession();
  for (int v = 0; v < 2; ++v) {
    Status st = Register(*s, "t", "dat_no_replay", v);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("cannot be rebuilt"), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find("Failed to register Delta source 't'"), std::string::npos);
  }
}

TEST(DeltaReaderTest, InvalidProtocolVersionIsRefused) {
  auto s = OpenTestSession();
  Status st = Register(*s, "t", "golden_deltalog-invalid-protocol-version");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("unsupported Delta reader version 99"), std::string::npos)
      << st.ToString();
}

TEST(DeltaReaderTest, AddThenRemoveWithDifferentEncodingsCancel) {
  auto s = OpenTestSession();
  AQ_ASSERT_OK(Register(*s, "t", "golden_log-replay-special-characters"));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "0");
}

TEST(DeltaReaderTest, SpecialPartitionValuesAreDecodedOnce) {
  auto s = OpenTestSession();
  AQ_ASSERT_OK(Register(*s, "t", "drs_delta-0.8.0-special-partition"));
  EXPECT_EQ(SortedRows(s->main(), "SELECT x, y FROM t"),
            (std::vector<std::string>{"A/A|1", "B B|2"}));
}

TEST(DeltaReaderTest, DeletionVectorRemovesRows) {
  auto s = OpenTestSession();
  AQ_ASSERT_OK(Register(*s, "t", "drs_table-with-dv-small", 0));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) || ':' || sum(value) FROM t"), "10:45");
  AQ_ASSERT_OK(Register(*s, "t", "drs_table-with-dv-small", 1));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) || ':' || min(value) || ':' || max(value) FROM t"),
            "8:1:8");
}

TEST(DeltaReaderTest, AppTransactionsReplayFromCommitsAndCheckpoint) {
  auto s = OpenTestSession();
  std::string root = DeltaFixture("kdata_app-txn-checkpoint") + "/delta";
  AQ_ASSERT_OK_AND_ASSIGN(Snapshot v0, LoadSnapshot(s->main(), root, 0));
  EXPECT_EQ(v0.txns, (std::map<std::string, int64_t>{{"my-app", 1}}));
  AQ_ASSERT_OK_AND_ASSIGN(Snapshot v1, LoadSnapshot(s->main(), root, 1));
  EXPECT_EQ(v1.txns, (std::map<std::string, int64_t>{{"my-app", 3}, {"my-app2", 2}}));
  AQ_ASSERT_OK(Register(*s, "t", "kdata_app-txn-checkpoint", 0));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "11");
  AQ_ASSERT_OK(Register(*s, "t", "kdata_app-txn-checkpoint", 1));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), "22");
}

TEST(DeltaReaderTest, VersionBeyondLatestFails) {
  auto s = OpenTestSession();
  Status st = Register(*s, "t", "dat_basic_append", 7);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("has no version 7 (latest is 1)"), std::string::npos)
      << st.ToString();
}

TEST(DeltaReaderTest, MissingTableFailsWithPath) {
  auto s = OpenTestSession();
  Status st = Register(*s, "t", "does_not_exist");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("_delta_log is missing"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace aqueducts::delta

namespace aqueducts::delta {
namespace {

// Our checkpoint writer on tables written by Spark/delta-rs (extra fields, DVs, column
// mapping, v2 checkpoints): the table must read the same from our checkpoint.
class CheckpointRoundTripTest : public ::testing::TestWithParam<std::pair<std::string, int64_t>> {};

TEST_P(CheckpointRoundTripTest, OurCheckpointReadsTheSame) {
  const auto& [table, rows] = GetParam();
  testing::TempDir dir;
  std::filesystem::copy(DeltaFixture(table) + "/delta", dir.str(),
                        std::filesystem::copy_options::recursive);
  auto s = OpenTestSession();
  AQ_ASSERT_OK_AND_ASSIGN(LogListing listing, ListLog(dir.str()));
  int64_t latest = listing.LatestVersion();
  AQ_ASSERT_OK(WriteCheckpoint(s->main(), dir.str(), latest));
  // Only our checkpoint remains, so the snapshot must come from it.
  for (const auto& cp : listing.checkpoints) {
    for (const auto& f : cp.files) {
      if (cp.version != latest || f.find(".checkpoint.parquet") == std::string::npos ||
          f.size() > 40) {
        std::filesystem::remove(dir.str() + "/_delta_log/" + f);
      }
    }
  }
  for (const auto& [v, name] : listing.commits) {
    std::filesystem::remove(dir.str() + "/_delta_log/" + name);
  }
  DeltaSource src{"t", LocalLocation(dir.str()), {}, {}, {}};
  AQ_ASSERT_OK(RegisterDeltaSource(*s, src));
  EXPECT_EQ(QueryOne(s->main(), "SELECT count(*) FROM t"), std::to_string(rows));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, CheckpointRoundTripTest,
    ::testing::Values(
        std::pair<std::string, int64_t>{"golden_dv-partitioned-with-checkpoint", 35},
        std::pair<std::string, int64_t>{"golden_table-with-columnmapping-mode-name", 6},
        std::pair<std::string, int64_t>{"golden_v2-checkpoint-parquet", 10},
        std::pair<std::string, int64_t>{"dat_multi_partitioned", 2},
        std::pair<std::string, int64_t>{"golden_basic-with-inserts-deletes-checkpoint", 41},
        std::pair<std::string, int64_t>{"drs_table-with-dv-small", 8}),
    [](const auto& param_info) {
      std::string n = param_info.param.first;
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
          ch = '_';
        }
      }
      return n;
    });

}  // namespace
}  // namespace aqueducts::delta

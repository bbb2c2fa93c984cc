// DuckDB reading and writing object-store URLs through our file system, against the S3 and
// Azure emulators. DuckDB's own results on local files are the oracle.

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "emulator.h"
#include "engine/session.h"
#include "storage/azure_store.h"
#include "storage/store_options.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

using testing::Emulator;

std::string One(Connection& conn, const std::string& sql) {
  auto rows = conn.Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  if (!rows.ok() || rows->rows.empty() || !rows->rows[0][0]) {
    return "<null>";
  }
  return *rows->rows[0][0];
}

class ObjectFileSystemTest : public ::testing::TestWithParam<Emulator::Kind> {
 protected:
  void SetUp() override {
    emulator_ = Emulator::Start(GetParam());
    ASSERT_NE(emulator_, nullptr);
    root_ = std::string(Emulator::Scheme(GetParam())) + "://bucket";
    if (GetParam() == Emulator::Kind::kAzure) {
      auto options = storage::ResolveAzureOptions(emulator_->Config(), "", storage::ProcessEnv());
      ASSERT_TRUE(options.ok()) << options.status().ToString();
      AQ_ASSERT_OK(storage::CreateAzureContainer(*storage::ParseObjectUrl(root_ + "/"), *options));
    }
    auto session = Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
    AQ_ASSERT_OK(session_->RegisterObjectStore(root_ + "/", emulator_->Config()));
  }

  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<Session> session_;
  std::string root_;
};

TEST_P(ObjectFileSystemTest, CopyToAndReadBackEveryFormat) {
  Connection& conn = session_->main();
  AQ_ASSERT_OK(conn.Execute(
      "CREATE TABLE t AS SELECT i AS id, 'v' || i AS s, i * 0.5 AS d FROM range(200000) r(i)"));
  std::string expected = One(conn, "SELECT sum(id) || '|' || count(*) || '|' || sum(d) FROM t");
  for (std::string format : {"parquet", "csv", "json"}) {
    std::string url = root_ + "/out/t." + format;
    AQ_ASSERT_OK(conn.Execute("COPY t TO '" + url + "' (FORMAT " + format + ")"));
    std::string reader = format == "parquet" ? "read_parquet"
                         : format == "csv"   ? "read_csv"
                                             : "read_json";
    EXPECT_EQ(One(conn, "SELECT sum(id) || '|' || count(*) || '|' || sum(d) FROM " + reader + "('" +
                            url + "')"),
              expected)
        << format;
  }
}

TEST_P(ObjectFileSystemTest, GlobsAndHivePartitions) {
  Connection& conn = session_->main();
  for (int p = 0; p < 3; ++p) {
    AQ_ASSERT_OK(conn.Execute("COPY (SELECT i AS id FROM range(" + std::to_string(p * 10) + ", " +
                              std::to_string(p * 10 + 10) + ") r(i)) TO '" + root_ +
                              "/hive/p=" + std::to_string(p) + "/data.parquet' (FORMAT parquet)"));
  }
  AQ_ASSERT_OK(
      conn.Execute("COPY (SELECT 1 AS id) TO '" + root_ + "/hive/p=9/ignored.csv' (FORMAT csv)"));
  EXPECT_EQ(One(conn, "SELECT count(*) || '|' || sum(p) FROM read_parquet('" + root_ +
                          "/hive/**/*.parquet', hive_partitioning = true)"),
            "30|30");
  EXPECT_EQ(One(conn, "SELECT count(*) FROM read_parquet('" + root_ + "/hive/p=1/*.parquet')"),
            "10");
}

TEST_P(ObjectFileSystemTest, AFailedCopyLeavesThePreviousObjectIntact) {
  Connection& conn = session_->main();
  std::string url = root_ + "/keep/data.parquet";
  AQ_ASSERT_OK(conn.Execute("COPY (SELECT 42 AS answer) TO '" + url + "' (FORMAT parquet)"));
  // Fails after many rows were written (a cast error on the last one); bigger than one part.
  Status failed = conn.Execute(
      "COPY (SELECT CASE WHEN i < 3000000 THEN i::VARCHAR ELSE 'x' END::BIGINT AS v, "
      "md5(i::VARCHAR) AS h FROM range(3000001) r(i)) TO '" +
      url + "' (FORMAT parquet)");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(One(conn, "SELECT answer FROM read_parquet('" + url + "')"), "42");
}

TEST_P(ObjectFileSystemTest, MissingObjectsAreClearErrors) {
  Status status = session_->main().Execute("SELECT * FROM read_csv('" + root_ + "/nope.csv')");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("nope.csv"), std::string::npos) << status.message();
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectFileSystemTest,
                         ::testing::Values(Emulator::Kind::kS3, Emulator::Kind::kAzure,
                                           Emulator::Kind::kGcs),
                         [](const ::testing::TestParamInfo<Emulator::Kind>& param_info) {
                           return std::string(Emulator::Name(param_info.param));
                         });

}  // namespace
}  // namespace aqueducts::engine

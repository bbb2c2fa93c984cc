#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "engine/session.h"
#include "io/duckdb_types.h"
#include "io/file_destination.h"
#include "io/file_source.h"
#include "io/parquet_options.h"
#include "testing.h"

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("aq_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    fs::create_directories(dir_);
    auto session = engine::Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  Location Loc(const std::string& path) { return ParseLocation(path); }
  engine::Connection& conn() { return session_->main(); }
  std::vector<std::vector<std::string>> Rows(const std::string& sql) {
    auto rows = conn().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    std::vector<std::vector<std::string>> out;
    if (rows.ok()) {
      for (auto& row : rows->rows) {
        std::vector<std::string> r;
        for (auto& v : row) {
          r.push_back(v ? *v : "NULL");
        }
        out.push_back(r);
      }
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<engine::Session> session_;
};

TEST(DuckDbTypesTest, MapsTypes) {
  EXPECT_EQ(*DuckDbTypeName(MakeType(TypeId::kInt32)), "INTEGER");
  EXPECT_EQ(*DuckDbTypeName(MakeType(TypeId::kUtf8)), "VARCHAR");
  DataType ts = MakeType(TypeId::kTimestamp);
  ts.unit = TimeUnit::kMillisecond;
  EXPECT_EQ(*DuckDbTypeName(ts), "TIMESTAMP_MS");
  ts.timezone = "UTC";
  EXPECT_EQ(*DuckDbTypeName(ts), "TIMESTAMPTZ");
  DataType list = MakeType(TypeId::kList);
  list.children.push_back({.name = "item", .data_type = MakeType(TypeId::kFloat64)});
  EXPECT_EQ(*DuckDbTypeName(list), "DOUBLE[]");
  DataType st = MakeType(TypeId::kStruct);
  st.children.push_back({.name = "a", .data_type = MakeType(TypeId::kInt64)});
  st.children.push_back({.name = "b", .data_type = list});
  EXPECT_EQ(*DuckDbTypeName(st), "STRUCT(\"a\" BIGINT, \"b\" DOUBLE[])");
  DataType dec = MakeType(TypeId::kDecimal128);
  dec.precision = 10;
  dec.scale = 2;
  EXPECT_EQ(*DuckDbTypeName(dec), "DECIMAL(10, 2)");
  dec.precision = 50;
  EXPECT_EQ(DuckDbTypeName(dec).status().code(), StatusCode::kUnsupported);
}

TEST(ParquetOptionsTest, DefaultsAndValidation) {
  EXPECT_EQ(*ParquetCopyOptions({}), ", COMPRESSION 'zstd'");
  EXPECT_EQ(*ParquetCopyOptions({{"compression", "zstd(3)"}, {"max_row_group_size", "1000"}}),
            ", COMPRESSION 'zstd', COMPRESSION_LEVEL 3, ROW_GROUP_SIZE 1000");
  EXPECT_EQ(*ParquetCopyOptions({{"compression", "SNAPPY"}}), ", COMPRESSION 'snappy'");
  auto unknown = ParquetCopyOptions({{"bogus_option", "1"}});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("bogus_option"), std::string::npos);
  EXPECT_FALSE(ParquetCopyOptions({{"compression", "rar"}}).ok());
  EXPECT_FALSE(ParquetCopyOptions({{"dictionary_enabled::col", "false"}}).ok());
}

TEST_F(IoTest, CsvSourceWithHeaderSchemaAndWithoutHeader) {
  std::string with_header = Write("a.csv", "id;name\n1;x\n2;y\n");
  FileSource source{.name = "a",
                    .format = {.format = FileFormat::kCsv, .delimiter = ';'},
                    .location = Loc(with_header)};
  AQ_ASSERT_OK(RegisterFileSource(conn(), source));
  EXPECT_EQ(Rows("SELECT id, name FROM a ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"1", "x"}, {"2", "y"}}));

  source.format.schema = {{.name = "id", .data_type = MakeType(TypeId::kInt16)},
                          {.name = "name", .data_type = MakeType(TypeId::kUtf8)}};
  AQ_ASSERT_OK(RegisterFileSource(conn(), source));
  EXPECT_EQ(Rows("SELECT typeof(id) FROM a LIMIT 1")[0][0], "SMALLINT");

  // Any extension: the file is read as the declared format.
  std::string no_header = Write("b.data", "1,x,true\n2,y,false\n");
  FileSource headerless{.name = "b",
                        .format = {.format = FileFormat::kCsv, .has_header = false},
                        .location = Loc(no_header)};
  AQ_ASSERT_OK(RegisterFileSource(conn(), headerless));
  EXPECT_EQ(Rows("SELECT column_1, column_3 FROM b ORDER BY 1"),
            (std::vector<std::vector<std::string>>{{"1", "true"}, {"2", "false"}}));
}

TEST_F(IoTest, CsvQuotedEmptyStringIsNotNullUnlessAsked) {
  std::string path = Write("q.csv", "id,s\n1,\"\"\n2,\n3,x\n");
  FileSource source{.name = "q", .format = {.format = FileFormat::kCsv}, .location = Loc(path)};
  AQ_ASSERT_OK(RegisterFileSource(conn(), source));
  EXPECT_EQ(Rows("SELECT id, coalesce('<' || s || '>', 'NULL') FROM q ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"1", "<>"}, {"2", "NULL"}, {"3", "<x>"}}));
  source.format.quoted_empty_as_null = true;
  AQ_ASSERT_OK(RegisterFileSource(conn(), source));
  EXPECT_EQ(Rows("SELECT id, coalesce('<' || s || '>', 'NULL') FROM q ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"1", "NULL"}, {"2", "NULL"}, {"3", "<x>"}}));
}

TEST_F(IoTest, MissingFileAndObjectStoreAreErrors) {
  FileSource missing{.name = "m", .format = {}, .location = Loc((dir_ / "nope.csv").string())};
  Status status = RegisterFileSource(conn(), missing);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("nope.csv"), std::string::npos);
  FileSource directory{.name = "d", .format = {}, .location = Loc(dir_.string())};
  Status is_dir = RegisterFileSource(conn(), directory);
  EXPECT_EQ(is_dir.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(is_dir.message().find("is a directory"), std::string::npos) << is_dir.ToString();
  EXPECT_NE(is_dir.message().find("type: directory"), std::string::npos) << is_dir.ToString();
  FileSource s3{.name = "s", .format = {}, .location = ParseLocation("s3://bucket/key.csv")};
  // Without the store the runner registers first (runner/endpoints.cc), DuckDB cannot open it.
  Status unregistered = RegisterFileSource(conn(), s3);
  EXPECT_FALSE(unregistered.ok());
  EXPECT_NE(unregistered.message().find("s3://bucket/key.csv"), std::string::npos)
      << unregistered.ToString();
}

TEST_F(IoTest, NdjsonAndDirectoryWithHivePartitions) {
  Write("j/x.json", "{\"a\": 1, \"b\": \"p\"}\n{\"a\": 2, \"b\": \"q\"}\n");
  FileSource json{.name = "j",
                  .format = {.format = FileFormat::kJson},
                  .location = Loc((dir_ / "j/x.json").string())};
  AQ_ASSERT_OK(RegisterFileSource(conn(), json));
  EXPECT_EQ(Rows("SELECT sum(a) FROM j")[0][0], "3");

  Write("d/year=2023/part.csv", "v\n1\n2\n");
  Write("d/year=2024/nested/part.csv", "v\n3\n");
  Write("d/year=2024/ignored.txt", "not csv\n");
  DirSource dir{.name = "d",
                .format = {.format = FileFormat::kCsv},
                .partition_columns = {{.name = "year", .data_type = MakeType(TypeId::kInt16)}},
                .location = Loc((dir_ / "d").string())};
  AQ_ASSERT_OK(RegisterDirSource(conn(), dir));
  EXPECT_EQ(Rows("SELECT year, typeof(year), sum(v) FROM d GROUP BY ALL ORDER BY 1"),
            (std::vector<std::vector<std::string>>{{"2023", "SMALLINT", "3"},
                                                   {"2024", "SMALLINT", "3"}}));
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kFourRows =
    "SELECT * FROM (VALUES ('a', 1, true, 10, '2023'), ('b', 2, true, 20, '2023'), "
    "('c', 3, false, 30, '2024'), ('d', 4, false, 40, '2024')) "
    "t(col_str, col_int, col_bool, col_val, year)";

TEST_F(IoTest, WriteCsvAndParquetSingleFileReadBackEqual) {
  FileDestination csv{.name = "out",
                      .location = Loc((dir_ / "out.csv").string()),
                      .format = {.format = FileFormat::kCsv}};
  AQ_ASSERT_OK_AND_ASSIGN(auto stats, WriteFileDestination(conn(), csv, kFourRows));
  EXPECT_EQ(stats.rows, 4);
  EXPECT_EQ(stats.bytes, static_cast<int64_t>(fs::file_size(dir_ / "out.csv")));
  EXPECT_EQ(Slurp(dir_ / "out.csv").substr(0, 38), "col_str,col_int,col_bool,col_val,year\n");
  EXPECT_EQ(
      Rows(std::string("SELECT count(*) FROM (") + kFourRows + " EXCEPT SELECT * FROM read_csv('" +
           (dir_ / "out.csv").string() + "', types = {'year': 'VARCHAR'}))")[0][0],
      "0");

  FileDestination parquet{.name = "pq",
                          .location = Loc((dir_ / "out.parquet").string()),
                          .format = {.format = FileFormat::kParquet}};
  AQ_ASSERT_OK_AND_ASSIGN(stats, WriteFileDestination(conn(), parquet, kFourRows));
  EXPECT_EQ(stats.rows, 4);
  std::string read = "read_parquet('" + (dir_ / "out.parquet").string() + "')";
  EXPECT_EQ(Rows(std::string("SELECT count(*) FROM (") + kFourRows + " EXCEPT SELECT * FROM " +
                 read + ")")[0][0],
            "0");
  EXPECT_EQ(Rows("SELECT DISTINCT compression FROM parquet_metadata('" +
                 (dir_ / "out.parquet").string() + "')")[0][0],
            "ZSTD");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".aq-"), std::string::npos) << entry.path();
  }
}

TEST_F(IoTest, PartitionedParquetDirectory) {
  fs::path out = dir_ / "parts";
  Write("parts/stale/keep.txt", "not ours");  // a file the destination did not write stays
  FileDestination dest;
  dest.name = "p";
  dest.location = Loc(out.string());
  dest.format.format = FileFormat::kParquet;
  dest.single_file = false;
  dest.partition_columns = {"year"};
  AQ_ASSERT_OK_AND_ASSIGN(auto stats, WriteFileDestination(conn(), dest, kFourRows));
  EXPECT_EQ(stats.rows, 4);
  EXPECT_EQ(stats.partitions, 2);
  EXPECT_GT(stats.bytes, 0);
  EXPECT_TRUE(fs::is_directory(out / "year=2023"));
  EXPECT_TRUE(fs::is_directory(out / "year=2024"));
  EXPECT_EQ(Slurp(out / "stale/keep.txt"), "not ours");
  ASSERT_EQ(stats.warnings.size(), 1u);
  EXPECT_NE(stats.warnings[0].find("stale/keep.txt"), std::string::npos) << stats.warnings[0];
  std::string read = "read_parquet('" + out.string() +
                     "/**/*.parquet', hive_partitioning = true, hive_types = {'year': 'VARCHAR'})";
  EXPECT_EQ(
      Rows(std::string("SELECT count(*) FROM (") + kFourRows +
           " EXCEPT SELECT col_str, col_int, col_bool, col_val, year FROM " + read + ")")[0][0],
      "0");
  // Partition columns are not stored inside the files.
  EXPECT_EQ(Rows("SELECT count(*) FROM parquet_schema('" + out.string() +
                 "/**/*.parquet') WHERE name = 'year'")[0][0],
            "0");
}

TEST_F(IoTest, JsonGzipCsvAndUnpartitionedDirectory) {
  FileDestination json{.name = "j",
                       .location = Loc((dir_ / "out.json").string()),
                       .format = {.format = FileFormat::kJson}};
  AQ_ASSERT_OK(WriteFileDestination(conn(), json, kFourRows).status());
  EXPECT_EQ(Slurp(dir_ / "out.json").substr(0, 14), "{\"col_str\":\"a\"");
  EXPECT_EQ(Rows("SELECT count(*) FROM read_json('" + (dir_ / "out.json").string() +
                 "', format = 'newline_delimited')")[0][0],
            "4");

  FileDestination gz{.name = "g",
                     .location = Loc((dir_ / "out.csv.gz").string()),
                     .format = {.format = FileFormat::kCsv, .delimiter = '|'}};
  AQ_ASSERT_OK(WriteFileDestination(conn(), gz, kFourRows).status());
  EXPECT_EQ(static_cast<unsigned char>(Slurp(dir_ / "out.csv.gz")[0]), 0x1f);  // gzip magic
  EXPECT_EQ(Rows("SELECT count(*) FROM read_csv('" + (dir_ / "out.csv.gz").string() +
                 "', delim = '|')")[0][0],
            "4");

  FileDestination multi;
  multi.name = "m";
  multi.location = Loc((dir_ / "multi").string());
  multi.format.format = FileFormat::kParquet;
  multi.single_file = false;
  AQ_ASSERT_OK_AND_ASSIGN(auto stats, WriteFileDestination(conn(), multi, kFourRows));
  EXPECT_EQ(stats.rows, 4);
  EXPECT_TRUE(fs::is_directory(dir_ / "multi"));
  DirSource back{.name = "back",
                 .format = {.format = FileFormat::kParquet},
                 .location = Loc((dir_ / "multi").string())};
  AQ_ASSERT_OK(RegisterDirSource(conn(), back));
  EXPECT_EQ(Rows("SELECT sum(col_val) FROM back")[0][0], "100");
}

TEST_F(IoTest, FailedWriteLeavesExistingFileUntouched) {
  fs::path out = dir_ / "keep.parquet";
  FileDestination dest{
      .name = "k", .location = Loc(out.string()), .format = {.format = FileFormat::kParquet}};
  AQ_ASSERT_OK(WriteFileDestination(conn(), dest, kFourRows).status());
  std::string before = Slurp(out);
  auto failed = WriteFileDestination(
      conn(), dest,
      "SELECT CASE WHEN range > 5000 THEN error('boom') ELSE range END FROM range(10000)");
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("boom"), std::string::npos);
  EXPECT_EQ(Slurp(out), before);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".aq-"), std::string::npos) << entry.path();
  }
}

TEST_F(IoTest, PrepareChecksTheParentDirectory) {
  // Missing parents are created when writing.
  FileDestination dest{.name = "x",
                       .location = Loc((dir_ / "no/such/dir/out.csv").string()),
                       .format = {.format = FileFormat::kCsv}};
  AQ_ASSERT_OK(PrepareFileDestination(dest));
  AQ_ASSERT_OK(WriteFileDestination(conn(), dest, kFourRows).status());
  EXPECT_TRUE(fs::is_regular_file(dir_ / "no/such/dir/out.csv"));
  // A parent that is a file is named as such.
  Write("plain", "x");
  dest.location = Loc((dir_ / "plain/sub/out.csv").string());
  Status status = PrepareFileDestination(dest);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("plain' is a file, not a directory"), std::string::npos)
      << status.ToString();
  // One object or a directory of objects on a store is fine, but not the root of a bucket.
  dest.location = ParseLocation("s3://bucket/out.csv");
  AQ_EXPECT_OK(PrepareFileDestination(dest));
  dest.single_file = false;
  dest.location = ParseLocation("s3://bucket/out/");
  AQ_EXPECT_OK(PrepareFileDestination(dest));
  dest.location = ParseLocation("s3://bucket/");
  Status root = PrepareFileDestination(dest);
  EXPECT_EQ(root.code(), StatusCode::kInvalidArgument) << root.ToString();
  EXPECT_NE(root.message().find("s3://bucket/out/"), std::string::npos) << root.ToString();
}

}  // namespace
}  // namespace aqueducts::io

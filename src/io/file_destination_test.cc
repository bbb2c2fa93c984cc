// File destinations never delete what they did not write, and partitioned outputs name every
// value unambiguously (issues 9 A, 18, 19).

#include "io/file_destination.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "aqueducts/run.h"

#include "engine/session.h"
#include "io/file_source.h"
#include "io/hive_path.h"
#include "io/output_dir.h"
#include "testing.h"

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;

using Table = std::vector<std::vector<std::string>>;

class FileDestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("aq_fdest_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    fs::create_directories(dir_);
    auto session = engine::Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  static std::string Slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  engine::Connection& conn() { return session_->main(); }
  Table Rows(const std::string& sql) {
    auto rows = conn().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    Table out;
    if (rows.ok()) {
      for (auto& row : rows->rows) {
        std::vector<std::string> r;
        for (auto& v : row) {
          r.push_back(v ? "'" + *v + "'" : "NULL");
        }
        out.push_back(r);
      }
    }
    return out;
  }
  FileDestination Dest(const fs::path& location, FileFormat format) {
    FileDestination dest;
    dest.name = "d";
    dest.location = ParseLocation(location.string());
    dest.format.format = format;
    return dest;
  }
  // Non-hidden entries of a directory, recursively, relative and sorted.
  std::vector<std::string> Tree(const fs::path& root) {
    std::vector<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(root)) {
      out.push_back(e.path().lexically_relative(root).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
  std::unique_ptr<engine::Session> session_;
};

constexpr const char* kRows = "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) t(id, s)";

TEST_F(FileDestinationTest, SingleFileOnAnExistingDirectoryIsRefusedAndKeepsIt) {
  Write(dir_ / "work/precious.txt", "keep me");
  FileDestination dest = Dest(dir_ / "work", FileFormat::kCsv);
  dest.single_file = true;
  auto written = WriteFileDestination(conn(), dest, kRows);
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.status().message().find("'" + (dir_ / "work").string() + "' is a directory"),
            std::string::npos)
      << written.status().ToString();
  EXPECT_EQ(Slurp(dir_ / "work/precious.txt"), "keep me");
  // The same with a trailing slash and with a location that names the working directory.
  dest.location = ParseLocation((dir_ / "work").string() + "/");
  EXPECT_FALSE(WriteFileDestination(conn(), dest, kRows).ok());
  EXPECT_EQ(Slurp(dir_ / "work/precious.txt"), "keep me");
}

TEST_F(FileDestinationTest, DirectoryOnAnExistingFileIsRefused) {
  Write(dir_ / "out", "a file");
  FileDestination dest = Dest(dir_ / "out", FileFormat::kParquet);
  dest.single_file = false;
  auto written = WriteFileDestination(conn(), dest, kRows);
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.status().message().find("exists and is not a directory"), std::string::npos);
  EXPECT_EQ(Slurp(dir_ / "out"), "a file");
}

TEST_F(FileDestinationTest, TheLocationDecidesWhenSingleFileIsNotGiven) {
  FileDestination dest = Dest(dir_ / "a.csv", FileFormat::kCsv);
  EXPECT_FALSE(WritesDirectory(dest));
  dest.location = ParseLocation((dir_ / "dir").string() + "/");
  EXPECT_TRUE(WritesDirectory(dest));
  dest.location = ParseLocation((dir_ / "noext").string());
  EXPECT_TRUE(WritesDirectory(dest));
  dest.single_file = true;
  EXPECT_FALSE(WritesDirectory(dest));
  dest.single_file = false;
  dest.location = ParseLocation((dir_ / "a.csv").string());
  EXPECT_TRUE(WritesDirectory(dest));
  dest.single_file = true;
  dest.partition_columns = {"s"};
  EXPECT_EQ(PrepareFileDestination(dest).code(), StatusCode::kInvalidArgument);

  // Written for real with single_file not given: a directory of files, a partitioned directory.
  FileDestination plain = Dest(dir_ / "plain_out", FileFormat::kParquet);
  AQ_ASSERT_OK(WriteFileDestination(conn(), plain, kRows).status());
  EXPECT_TRUE(fs::is_directory(dir_ / "plain_out"));
  FileDestination parts = Dest(dir_ / "parts.parquet", FileFormat::kParquet);
  parts.partition_columns = {"s"};
  EXPECT_TRUE(WritesDirectory(parts));
  AQ_ASSERT_OK(WriteFileDestination(conn(), parts, kRows).status());
  EXPECT_TRUE(fs::is_directory(dir_ / "parts.parquet/s=a"));
  EXPECT_TRUE(fs::is_directory(dir_ / "parts.parquet/s=__HIVE_DEFAULT_PARTITION__"));
}

TEST_F(FileDestinationTest, ADirectoryReplacesOnlyWhatItWrote) {
  fs::path out = dir_ / "out";
  Write(out / "notes.txt", "mine, not the pipeline's");
  Write(out / "sub/other.parquet", "not parquet at all");
  FileDestination dest = Dest(out, FileFormat::kCsv);
  dest.single_file = false;
  AQ_ASSERT_OK_AND_ASSIGN(auto first, WriteFileDestination(conn(), dest, kRows));
  EXPECT_EQ(first.rows, 3);
  ASSERT_EQ(first.warnings.size(), 1u);
  EXPECT_NE(first.warnings[0].find("2 file(s) this destination did not write"), std::string::npos)
      << first.warnings[0];
  std::set<std::string> ours = ReadManifest(out);
  ASSERT_FALSE(ours.empty());
  for (const auto& file : ours) {
    EXPECT_TRUE(fs::is_regular_file(out / file)) << file;
  }

  AQ_ASSERT_OK_AND_ASSIGN(auto second,
                          WriteFileDestination(conn(), dest, "SELECT 9 AS id, 'z' AS s"));
  EXPECT_EQ(second.rows, 1);
  std::set<std::string> now = ReadManifest(out);
  for (const auto& file : ours) {
    EXPECT_FALSE(fs::exists(out / file)) << "the previous run's file stays: " << file;
  }
  EXPECT_EQ(Slurp(out / "notes.txt"), "mine, not the pipeline's");
  EXPECT_EQ(Slurp(out / "sub/other.parquet"), "not parquet at all");
  std::string list;
  for (const auto& file : now) {
    list += (list.empty() ? "'" : ", '") + (out / file).string() + "'";
  }
  EXPECT_EQ(Rows("SELECT id, s FROM read_csv([" + list + "])"), (Table{{"'9'", "'z'"}}));

  // Without foreign files the directory is swapped whole.
  fs::remove(out / "notes.txt");
  fs::remove_all(out / "sub");
  AQ_ASSERT_OK_AND_ASSIGN(auto third, WriteFileDestination(conn(), dest, kRows));
  EXPECT_TRUE(third.warnings.empty());
  std::vector<std::string> files;
  for (const auto& file : ReadManifest(out)) {
    files.push_back(file);
  }
  std::vector<std::string> expected = files;
  expected.push_back(kManifestName);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Tree(out), expected);
}

TEST_F(FileDestinationTest, LeftoversOfAKilledRunAreRemovedByTheNextRun) {
  fs::path out = dir_ / "out.parquet";
  // A dead pid (beyond pid_max) and the name format of older versions.
  Write(dir_ / ".out.parquet.aq-tmp-99999999-0123456789ab", "junk");
  Write(dir_ / ".out.parquet.aq-tmp-0123456789ab/data_0.parquet", "junk");
  // A run in progress in this process is left alone.
  std::string live = ".out.parquet.aq-tmp-" + std::to_string(::getpid()) + "-aaaaaaaaaaaa";
  Write(dir_ / live, "in progress");
  // Another destination's temporaries are not ours.
  Write(dir_ / ".other.parquet.aq-tmp-99999999-0123456789ab", "other");
  FileDestination dest = Dest(out, FileFormat::kParquet);
  AQ_ASSERT_OK_AND_ASSIGN(auto stats, WriteFileDestination(conn(), dest, kRows));
  EXPECT_EQ(stats.warnings.size(), 2u);
  EXPECT_EQ(Tree(dir_), (std::vector<std::string>{".other.parquet.aq-tmp-99999999-0123456789ab",
                                                  live, "out.parquet"}));
}

TEST_F(FileDestinationTest, AnInterruptedReplacementIsRestored) {
  // Killed between moving the old directory aside and moving the new one in.
  fs::path out = dir_ / "out";
  Write(dir_ / ".out.aq-old-99999999-0123456789ab/part-1.csv", "id\n1\n");
  FileDestination dest = Dest(out, FileFormat::kCsv);
  std::vector<std::string> notes;
  CleanStaleTemporaries(out, &notes);
  EXPECT_EQ(Slurp(out / "part-1.csv"), "id\n1\n");
  EXPECT_FALSE(fs::exists(dir_ / ".out.aq-old-99999999-0123456789ab"));
}

TEST(HivePathTest, EscapesTheHiveWay) {
  EXPECT_EQ(HiveEscape("plain value é"), "plain value é");
  EXPECT_EQ(HiveEscape("a/b=c%d:e"), "a%2Fb%3Dc%25d%3Ae");
  EXPECT_EQ(HiveEscape("\n\x7f#?*'\"\\{[]^"), "%0A%7F%23%3F%2A%27%22%5C%7B%5B%5D%5E");
  EXPECT_EQ(HiveEscape(kHiveNull), "%5F_HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(HiveDirectory("s", std::nullopt), "s=__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(HiveDirectory("a=b", "NULL"), "a%3Db=NULL");
  for (std::string v : {"a/b=c%d:e", "%zz%", "%", "100%25", kHiveNull, "é+ x"}) {
    EXPECT_EQ(HiveUnescape(HiveEscape(v)), v);
  }
}

// Every value that DuckDB's own PARTITION_BY would merge or alter, written and read back.
TEST_F(FileDestinationTest, PartitionValuesRoundTripExactly) {
  const std::string input =
      "SELECT * FROM (VALUES (1, NULL), (2, 'NULL'), (3, 'null'), (4, ''), (5, '/'), (6, '='), "
      "(7, '%'), (8, '__HIVE_DEFAULT_PARTITION__'), (9, ' a  b '), (10, 'é😀'), (11, '%2F'), "
      "(12, 'a+b'), (13, 'x'), (14, 'x'), (15, 'line\nbreak'), (16, '..'), (17, '.')) t(id, s)";
  for (FileFormat format : {FileFormat::kParquet, FileFormat::kCsv, FileFormat::kJson}) {
    fs::path out = dir_ / ("p" + std::to_string(static_cast<int>(format)));
    FileDestination dest = Dest(out, format);
    dest.partition_columns = {"s"};
    AQ_ASSERT_OK_AND_ASSIGN(auto stats, WriteFileDestination(conn(), dest, input));
    EXPECT_EQ(stats.rows, 17);
    EXPECT_EQ(stats.partitions, 16);
    EXPECT_TRUE(fs::is_directory(out / "s=__HIVE_DEFAULT_PARTITION__"));
    EXPECT_TRUE(fs::is_directory(out / "s=NULL"));
    EXPECT_TRUE(fs::is_directory(out / "s=%5F_HIVE_DEFAULT_PARTITION__"));
    EXPECT_TRUE(fs::is_directory(out / "s=%2F"));
    EXPECT_TRUE(fs::is_directory(out / "s=%252F"));

    DirSource back{.name = "back",
                   .format = {.format = format},
                   .partition_columns = {{.name = "s", .data_type = MakeType(TypeId::kUtf8)}},
                   .location = ParseLocation(out.string())};
    AQ_ASSERT_OK(RegisterDirSource(conn(), back));
    EXPECT_EQ(Rows("SELECT count(*) FROM (SELECT id::INTEGER, s FROM back EXCEPT ALL " + input +
                   ")")[0][0],
              "'0'");
    EXPECT_EQ(Rows("SELECT count(*) FROM (" + input +
                   " EXCEPT ALL SELECT id::INTEGER, s FROM back)")[0][0],
              "'0'");
    EXPECT_EQ(Rows("SELECT count(*) FROM back WHERE s IS NULL")[0][0], "'1'");
  }
}

TEST_F(FileDestinationTest, PartitionsOfOtherTypesAndSeveralColumns) {
  const std::string input =
      "SELECT * FROM (VALUES (1, DATE '2024-01-02', TIMESTAMP '1969-12-31 23:59:59.5', 7, true), "
      "(2, NULL, NULL, NULL, NULL), (3, DATE '0001-01-01', TIMESTAMP '2024-06-01 10:00:00', -7, "
      "false)) t(id, d, ts, n, b)";
  fs::path out = dir_ / "multi";
  FileDestination dest = Dest(out, FileFormat::kParquet);
  dest.partition_columns = {"d", "ts", "n", "b"};
  AQ_ASSERT_OK_AND_ASSIGN(auto stats, WriteFileDestination(conn(), dest, input));
  EXPECT_EQ(stats.partitions, 3);
  EXPECT_TRUE(fs::is_directory(out / "d=2024-01-02/ts=1969-12-31 23%3A59%3A59.5/n=7/b=true"));
  DirSource back{.name = "back",
                 .format = {.format = FileFormat::kParquet},
                 .partition_columns = {{.name = "d", .data_type = MakeType(TypeId::kDate32)},
                                       {.name = "ts", .data_type = MakeType(TypeId::kTimestamp)},
                                       {.name = "n", .data_type = MakeType(TypeId::kInt32)},
                                       {.name = "b", .data_type = MakeType(TypeId::kBoolean)}},
                 .location = ParseLocation(out.string())};
  AQ_ASSERT_OK(RegisterDirSource(conn(), back));
  EXPECT_EQ(Rows("SELECT count(*) FROM (SELECT id, d, ts, n, b FROM back EXCEPT ALL " + input +
                 ")")[0][0],
            "'0'");
  EXPECT_EQ(Rows("SELECT count(*) FROM back")[0][0], "'3'");
}

}  // namespace
}  // namespace aqueducts::io

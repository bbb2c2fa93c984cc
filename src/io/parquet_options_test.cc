// Parquet writer options of the original, written through the real file destination and read
// back from the file's own metadata: each key takes effect or is refused by name.
#include "io/parquet_options.h"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "engine/session.h"
#include "io/file_destination.h"
#include "testing.h"

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;

// 3 distinct strings over 10000 rows: dictionary-encoded (and bloom-filtered) by default.
constexpr const char* kRows = "SELECT (range % 3)::VARCHAR AS s, range AS n FROM range(10000)";

class ParquetWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aq_pq_opts_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    AQ_ASSERT_OK_AND_ASSIGN(session_, engine::Session::Open(Database::Options{}));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Write kRows with `options`; return the file path.
  std::string Write(const std::map<std::string, std::string>& options) {
    std::string path = (dir_ / ("f" + std::to_string(n_++) + ".parquet")).string();
    FileDestination d{.name = "pq",
                      .location = ParseLocation(path),
                      .format = {.format = FileFormat::kParquet, .parquet_options = options}};
    auto written = WriteFileDestination(session_->main(), d, kRows);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return path;
  }
  std::string One(const std::string& sql) {
    auto rows = session_->main().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    return rows.ok() && !rows->rows.empty() && rows->rows[0][0] ? *rows->rows[0][0] : "NULL";
  }
  std::string Meta(const std::string& path, const std::string& expr) {
    return One("SELECT " + expr + " FROM parquet_metadata('" + path +
               "') WHERE path_in_schema = 's'");
  }

  fs::path dir_;
  int n_ = 0;
  std::unique_ptr<engine::Session> session_;
};

TEST_F(ParquetWriteTest, MappedKeysTakeEffectInTheFile) {
  std::string plain = Write({});
  EXPECT_EQ(Meta(plain, "compression"), "ZSTD");
  EXPECT_NE(Meta(plain, "encodings").find("DICTIONARY"), std::string::npos);
  EXPECT_NE(Meta(plain, "bloom_filter_offset"), "NULL");

  EXPECT_EQ(One("SELECT num_row_groups FROM parquet_file_metadata('" + plain + "')"), "1");
  std::string snappy = Write({{"compression", "snappy"}, {"max_row_group_size", "2048"}});
  EXPECT_EQ(Meta(snappy, "compression"), "SNAPPY");
  EXPECT_EQ(One("SELECT num_row_groups FROM parquet_file_metadata('" + snappy + "')"), "5");

  std::string no_dict = Write({{"dictionary_enabled", "false"}});
  EXPECT_EQ(Meta(no_dict, "encodings").find("DICTIONARY"), std::string::npos)
      << Meta(no_dict, "encodings");

  std::string no_bloom = Write({{"bloom_filter_on_write", "false"}});
  EXPECT_EQ(Meta(no_bloom, "bloom_filter_offset"), "NULL");

  std::string v2 = Write({{"writer_version", "2.0"}, {"metadata::owner", "team-a"}});
  EXPECT_EQ(One("SELECT value FROM parquet_kv_metadata('" + v2 + "') WHERE key = 'owner'"),
            "team-a");
  EXPECT_NE(Meta(v2, "encodings").find("RLE_DICTIONARY"), std::string::npos)
      << Meta(v2, "encodings");

  // Accepted because they describe what DuckDB does anyway, or only steer reading.
  std::string same = Write({{"statistics_enabled", "chunk"},
                            {"skip_arrow_metadata", "true"},
                            {"allow_single_file_parallelism", "true"},
                            {"pushdown_filters", "true"},
                            {"bloom_filter_fpp", "0.05"},
                            {"dictionary_page_size_limit", "1048576"},
                            {"compression", "zstd(9)"}});
  EXPECT_EQ(Meta(same, "compression"), "ZSTD");
  EXPECT_NE(Meta(same, "stats_min_value"), "NULL");
  EXPECT_EQ(One("SELECT count(*) FROM read_parquet('" + same + "')"), "10000");
}

TEST(ParquetOptionsTest, UnservableKeysAreRefusedByName) {
  struct Case {
    std::string key, value, needle;
  };
  std::vector<Case> cases = {
      {"created_by", "me", "DuckDB always writes its own created_by"},
      {"statistics_enabled", "page", "no page statistics"},
      {"statistics_enabled", "none", "column-chunk statistics"},
      {"bloom_filter_ndv", "100", "bloom filters"},
      {"encoding", "plain", "encodings"},
      {"data_pagesize_limit", "1024", "data pages"},
      {"bloom_filter_enabled::s", "true", "per-column options"},
      {"compression::s", "snappy", "per-column options"},
      {"compression", "gzip(6)", "level for zstd only"},
      {"skip_arrow_metadata", "false", "Arrow schema"},
      {"maximum_parallel_row_group_writers", "2", "no such setting"},
  };
  for (const auto& c : cases) {
    auto r = ParquetCopyOptions({{c.key, c.value}});
    ASSERT_FALSE(r.ok()) << c.key;
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("'" + c.key + "'"), std::string::npos) << m;
    EXPECT_NE(m.find(c.needle), std::string::npos) << m;
    EXPECT_NE(m.find("supported: compression"), std::string::npos) << m;
  }
  EXPECT_FALSE(ParquetCopyOptions({{"bloom_filter_fpp", "1.5"}}).ok());
  EXPECT_FALSE(ParquetCopyOptions({{"dictionary_enabled", "maybe"}}).ok());
  EXPECT_FALSE(ParquetCopyOptions({{"compression", "zstd(30)"}}).ok());
  EXPECT_EQ(*ParquetCopyOptions({{"compression", "gzip"}}), ", COMPRESSION 'gzip'");
}

}  // namespace
}  // namespace aqueducts::io

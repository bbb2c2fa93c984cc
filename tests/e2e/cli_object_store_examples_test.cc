// The original's example pipeline files, unchanged, with their data on S3 (the s3rver emulator
// started by the test): `aqueducts run -f aqueduct_pipeline_example.{yml,toml} -p
// local_path=s3://bucket` reads both months from S3 and upserts the Delta table partitioned by
// date on S3, with the credentials in the environment (the files' storage_config is empty). The
// table read back equals the one the same file writes locally.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli_harness.h"
#include "emulator.h"
#include "storage/store_registry.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class CliObjectStoreExamplesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    s3_ = Emulator::Start(Emulator::Kind::kS3);
    ASSERT_NE(s3_, nullptr);
    dir_ = fs::temp_directory_path() / ("aq-objstore-examples-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    fs::copy(FixturesDir() + "/aqueducts-examples/examples", dir_ / "examples",
             fs::copy_options::recursive);
    // The inputs, byte for byte, at the same paths under the bucket.
    storage::StoreRegistry registry;
    AQ_ASSERT_OK(registry.Register("s3://bucket", s3_->Config()));
    for (const auto& entry : fs::directory_iterator(dir_ / "examples")) {
      if (entry.path().extension() == ".csv") {
        AQ_ASSERT_OK_AND_ASSIGN(
            auto at, registry.Resolve("s3://bucket/examples/" + entry.path().filename().string()));
        AQ_ASSERT_OK(at.store->Put(at.key, ReadFile(entry.path())));
      }
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The emulator's credentials as the environment gives them.
  std::vector<std::string> Environment() const {
    return {"AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER",
            "AWS_ENDPOINT=" + s3_->endpoint(), "AWS_ALLOW_HTTP=true", "AWS_REGION=us-east-1"};
  }

  // Every row of the Delta table at `location`, ordered, as CSV text.
  std::string Rows(const std::string& location) {
    fs::path out = dir_ / "rows.csv";
    fs::remove(out);
    fs::path file = dir_ / "read.yml";
    std::ofstream(file) << "sources: [{type: delta, name: t, location: '" << location
                        << "', storage_config: {}}]\n"
                           "stages: [[{name: s, query: 'SELECT * FROM t ORDER BY date, "
                           "location_id'}]]\n"
                           "destination: {type: file, name: o, format: {type: csv, options: {}}, "
                           "location: '"
                        << out.string() << "'}\n";
    CliResult read = RunCli({"run", "-f", file.string()}, dir_.string(), Environment());
    EXPECT_EQ(read.exit_code, 0) << read.all();
    return ReadFile(out);
  }

  std::unique_ptr<Emulator> s3_;
  fs::path dir_;
};

TEST_P(CliObjectStoreExamplesTest, TheDeltaExampleOnS3WritesWhatItWritesLocally) {
  std::string file = "examples/aqueduct_pipeline_example." + GetParam();
  CliResult local = RunCli(
      {"run", "-f", file, "-p", "local_path=" + dir_.string(), "-p", "run_id=r1"}, dir_.string());
  ASSERT_EQ(local.exit_code, 0) << local.all();
  CliResult remote = RunCli({"run", "-f", file, "-p", "local_path=s3://bucket", "-p", "run_id=r1"},
                            dir_.string(), Environment());
  ASSERT_EQ(remote.exit_code, 0) << remote.all();
  EXPECT_NE(remote.out.find("jan_aggregated"), std::string::npos) << "show: 20 output missing";

  std::string expected = Rows((dir_ / "examples/output_delta_example/r1").string());
  // 237 aggregated rows in January and 223 in February, a header line.
  EXPECT_EQ(std::count(expected.begin(), expected.end(), '\n'), 461) << expected.substr(0, 500);
  EXPECT_EQ(Rows("s3://bucket/examples/output_delta_example/r1"), expected);

  // Partitioned by date on S3 into as many files as locally; no staging left behind.
  storage::StoreRegistry registry;
  AQ_ASSERT_OK(registry.Register("s3://bucket", s3_->Config()));
  AQ_ASSERT_OK_AND_ASSIGN(auto at,
                          registry.Resolve("s3://bucket/examples/output_delta_example/r1"));
  AQ_ASSERT_OK_AND_ASSIGN(storage::Listing listing, at.store->List(at.key + "/"));
  int partition_files = 0;
  for (const auto& object : listing.objects) {
    std::string relative = object.key.substr(at.key.size() + 1);
    EXPECT_EQ(relative.find("_aq_staging_"), std::string::npos) << relative;
    partition_files += relative.rfind("date=2024-0", 0) == 0 ? 1 : 0;
  }
  int local_files = 0;  // the data files of the local table, in its date= directories
  for (const auto& entry :
       fs::recursive_directory_iterator(dir_ / "examples/output_delta_example/r1")) {
    std::string relative =
        fs::relative(entry.path(), dir_ / "examples/output_delta_example/r1").string();
    local_files += entry.is_regular_file() && relative.rfind("date=2024-0", 0) == 0 ? 1 : 0;
  }
  EXPECT_GT(local_files, 0);
  EXPECT_EQ(partition_files, local_files);
}

INSTANTIATE_TEST_SUITE_P(Formats, CliObjectStoreExamplesTest, ::testing::Values("yml", "toml"));

}  // namespace
}  // namespace aqueducts::testing

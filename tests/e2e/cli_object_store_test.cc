// The CLI with sources and destinations on object stores (S3, Azure and GCS emulators started
// on 127.0.0.1 by the test), compared with the same pipeline run on local files.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_harness.h"
#include "emulator.h"
#include "object_store_cli.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The original's simple example with its inputs at `in_root` and its output at `out_url`.
std::string Pipeline(const std::string& in_root, const std::string& in_config,
                     const std::string& out_url, const std::string& out_config,
                     const std::string& out_format = "parquet") {
  return "version: v2\n"
         "sources:\n"
         "  - {type: file, name: temp_readings, format: {type: csv, options: {}},\n"
         "     location: '" +
         in_root + "/temp_readings_jan_2024.csv', storage_config: " + in_config +
         "}\n"
         "  - {type: file, name: locations, format: {type: csv, options: {}},\n"
         "     location: '" +
         in_root + "/location_dict.csv', storage_config: " + in_config +
         "}\n"
         "stages:\n"
         "  - - name: aggregated\n"
         "      query: >\n"
         "        SELECT cast(timestamp as date) date, location_id, round(avg(temperature_c), 2) "
         "t,\n"
         "               round(max(humidity), 2) h, count(*) n FROM temp_readings GROUP BY 1, 2\n"
         "  - - name: enriched\n"
         "      query: >\n"
         "        SELECT date, location_name, t, h, n FROM aggregated\n"
         "        JOIN locations USING (location_id) ORDER BY date, location_name\n"
         "destination: {type: file, name: out, format: {type: " +
         out_format +
         ", options: {}},\n"
         "              location: '" +
         out_url + "', storage_config: " + out_config + "}\n";
}

// A pipeline copying one file from `from` to `to` (CSV in and out, or Parquet in and CSV out).
std::string Copy(const std::string& from, const std::string& from_config,
                 const std::string& from_format, const std::string& to,
                 const std::string& to_config) {
  return "version: v2\n"
         "sources:\n"
         "  - {type: file, name: f, format: {type: " +
         from_format +
         ", options: {}},\n"
         "     location: '" +
         from + "', storage_config: " + from_config +
         "}\n"
         "stages: [[{name: s, query: 'SELECT * FROM f'}]]\n"
         "destination: {type: file, name: out, format: {type: csv, options: {}},\n"
         "              location: '" +
         to + "', storage_config: " + to_config + "}\n";
}

class CliObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_ = Emulator::Start(Emulator::Kind::kS3);
    azure_ = Emulator::Start(Emulator::Kind::kAzure);
    gcs_ = Emulator::Start(Emulator::Kind::kGcs);
    ASSERT_NE(s3_, nullptr);
    ASSERT_NE(azure_, nullptr);
    ASSERT_NE(gcs_, nullptr);
    dir_ = fs::temp_directory_path() / ("aq-objstore-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // The example inputs, uploaded to S3 by pipelines (a CSV destination on S3).
    fs::path examples = fs::path(FixturesDir()) / "aqueducts-examples/examples";
    for (std::string name : {"temp_readings_jan_2024.csv", "location_dict.csv"}) {
      CliResult up = Run(Copy((examples / name).string(), "{}", "csv", "s3://bucket/in/" + name,
                              ConfigYaml(s3_->Config())));
      ASSERT_EQ(up.exit_code, 0) << up.all();
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The rows of a Parquet file (local path or object URL), as the CSV text a pipeline writes.
  std::string Rows(const std::string& where, const std::map<std::string, std::string>& config) {
    fs::path out = dir_ / "rows.csv";
    fs::remove(out);
    CliResult copy = Run(Copy(where, ConfigYaml(config), "parquet", out.string(), "{}"));
    EXPECT_EQ(copy.exit_code, 0) << copy.all();
    return ReadFile(out);
  }

  CliResult Run(const std::string& yaml) {
    fs::path file = dir_ / "p.yml";
    std::ofstream(file) << yaml;
    return RunCli({"run", "-f", file.string()}, dir_.string());
  }

  std::unique_ptr<Emulator> s3_;
  std::unique_ptr<Emulator> azure_;
  std::unique_ptr<Emulator> gcs_;
  fs::path dir_;
};

TEST_F(CliObjectStoreTest, S3InputsToAzureAndS3OutputsGiveTheLocalRows) {
  fs::path examples = fs::path(FixturesDir()) / "aqueducts-examples/examples";
  CliResult local = Run(Pipeline(examples.string(), "{}", (dir_ / "local.parquet").string(), "{}"));
  ASSERT_EQ(local.exit_code, 0) << local.all();
  std::string expected = Rows((dir_ / "local.parquet").string(), {});
  ASSERT_NE(expected.find("Berlin"), std::string::npos) << expected;

  CliResult to_azure =
      Run(Pipeline("s3://bucket/in", ConfigYaml(s3_->Config()), "az://bucket/out/enriched.parquet",
                   ConfigYaml(azure_->Config())));
  ASSERT_EQ(to_azure.exit_code, 0) << to_azure.all();
  EXPECT_EQ(Rows("az://bucket/out/enriched.parquet", azure_->Config()), expected);

  CliResult to_s3 = Run(Pipeline("s3://bucket/in", ConfigYaml(s3_->Config()),
                                 "s3://bucket/out/enriched.parquet", ConfigYaml(s3_->Config())));
  ASSERT_EQ(to_s3.exit_code, 0) << to_s3.all();
  EXPECT_EQ(Rows("s3://bucket/out/enriched.parquet", s3_->Config()), expected);

  // Google Cloud Storage, both ways: S3 inputs to GCS, then GCS inputs (copied there by a
  // pipeline) to a local file.
  CliResult to_gcs = Run(Pipeline("s3://bucket/in", ConfigYaml(s3_->Config()),
                                  "gs://bucket/out/enriched.parquet", ConfigYaml(gcs_->Config())));
  ASSERT_EQ(to_gcs.exit_code, 0) << to_gcs.all();
  EXPECT_EQ(Rows("gs://bucket/out/enriched.parquet", gcs_->Config()), expected);
  for (std::string name : {"temp_readings_jan_2024.csv", "location_dict.csv"}) {
    CliResult up = Run(Copy((examples / name).string(), "{}", "csv", "gs://bucket/in/" + name,
                            ConfigYaml(gcs_->Config())));
    ASSERT_EQ(up.exit_code, 0) << up.all();
  }
  CliResult from_gcs = Run(Pipeline("gs://bucket/in", ConfigYaml(gcs_->Config()),
                                    (dir_ / "from_gcs.parquet").string(), "{}"));
  ASSERT_EQ(from_gcs.exit_code, 0) << from_gcs.all();
  EXPECT_EQ(Rows((dir_ / "from_gcs.parquet").string(), {}), expected);
}

TEST_F(CliObjectStoreTest, WrongCredentialsNameTheSourceAndTheLocationButNotTheSecret) {
  auto config = s3_->Config();
  config["aws_secret_access_key"] = "NotTheRealSecret42";
  CliResult result =
      Run(Pipeline("s3://bucket/in", ConfigYaml(config), (dir_ / "out.parquet").string(), "{}"));
  EXPECT_EQ(result.exit_code, 1) << result.all();
  EXPECT_NE(result.all().find("403"), std::string::npos) << result.all();
  EXPECT_NE(result.all().find("s3://bucket/in/"), std::string::npos) << result.all();
  EXPECT_EQ(result.all().find("NotTheRealSecret42"), std::string::npos) << result.all();
  EXPECT_FALSE(fs::exists(dir_ / "out.parquet"));
}

TEST_F(CliObjectStoreTest, UnknownStorageKeysAndGcsAreClearErrors) {
  CliResult typo = Run(Pipeline("s3://bucket/in", "{aws_secret_acces_key: x}",
                                (dir_ / "out.parquet").string(), "{}"));
  EXPECT_EQ(typo.exit_code, 1) << typo.all();
  EXPECT_NE(typo.all().find("aws_secret_acces_key"), std::string::npos) << typo.all();
  EXPECT_NE(typo.all().find("temp_readings"), std::string::npos) << typo.all();
  CliResult gcs = Run(Pipeline("gs://bucket/in", "{}", (dir_ / "out.parquet").string(), "{}"));
  EXPECT_EQ(gcs.exit_code, 1) << gcs.all();
  // GCS without credentials anywhere: the first request says what to set, for the location.
  EXPECT_NE(gcs.all().find("no Google credentials"), std::string::npos) << gcs.all();
  EXPECT_NE(gcs.all().find("gs://bucket/in"), std::string::npos) << gcs.all();
}

// kill -9 while a destination's multipart upload is under way: the object keeps its previous
// content (an upload that is never completed shows nothing), and nothing half-written appears.
TEST_F(CliObjectStoreTest, KillDuringAMultipartUploadLeavesThePreviousObject) {
  std::string url = "s3://bucket/out/big.csv";
  std::ofstream(dir_ / "small.csv") << "a,b\n1,previous\n";
  CliResult first =
      Run(Copy((dir_ / "small.csv").string(), "{}", "csv", url, ConfigYaml(s3_->Config())));
  ASSERT_EQ(first.exit_code, 0) << first.all();
  auto read_back = [&]() {
    fs::path out = dir_ / "read_back.csv";
    fs::remove(out);
    CliResult copy = Run(Copy(url, ConfigYaml(s3_->Config()), "csv", out.string(), "{}"));
    EXPECT_EQ(copy.exit_code, 0) << copy.all();
    return ReadFile(out);
  };
  std::string previous = read_back();
  ASSERT_NE(previous.find("previous"), std::string::npos) << previous;

  // About 160 MB of CSV: some twenty 8 MiB parts.
  std::ofstream(dir_ / "big.yml")
      << "sources: []\n"
         "stages: [[{name: s, query: 'SELECT i AS a, md5(i::VARCHAR) AS b FROM range(4000000) "
         "r(i)'}]]\n"
         "destination: {type: file, name: o, format: {type: csv, options: {}},\n"
         "  location: '"
      << url << "', storage_config: " << ConfigYaml(s3_->Config()) << "}\n";
  std::string big = (dir_ / "big.yml").string();
  KilledRun killed = KillRunOnceAPartIsStored(big, s3_->dir());
  ASSERT_TRUE(killed.part_seen) << "no part of the upload was seen before the run ended";
  ASSERT_FALSE(killed.exited) << "the run finished before it could be killed mid-upload";
  EXPECT_EQ(read_back(), previous);
}

}  // namespace
}  // namespace aqueducts::testing

// Azure Blob with a shared access signature (SAS) instead of the account key: the test signs an
// account SAS itself with the emulator's development key, following the documented
// string-to-sign of account SAS for service version 2020-12-06 and later, and azurite checks the
// signature and the permissions of every request. Files and a Delta table are written and read
// with the SAS in storage_config and in AZURE_STORAGE_SAS_TOKEN; a SAS without write permission
// and a SAS signed with another key are refused with a 403 that names the location; the token
// appears in no message.

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "cli_harness.h"
#include "emulator.h"
#include "object_store_cli.h"
#include "storage/crypto.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kAccount[] = "devstoreaccount1";
constexpr char kDevKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// An account SAS for the Blob service, all resource types, valid for two hours, signed with
// `key_base64`. String-to-sign (service version 2020-12-06 and later): account name, signed
// permissions, services, resource types, start, expiry, IP, protocol, version and encryption
// scope, each followed by a newline.
std::string AccountSas(const std::string& permissions, const std::string& key_base64) {
  std::time_t expiry = std::time(nullptr) + 2 * 3600;
  std::tm tm{};
  gmtime_r(&expiry, &tm);
  char se[32];
  std::strftime(se, sizeof se, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string version = "2021-08-06";
  const std::string services = "b";
  const std::string resource_types = "sco";
  const std::string protocol = "https,http";
  std::string to_sign = std::string(kAccount) + "\n" + permissions + "\n" + services + "\n" +
                        resource_types + "\n" + "\n" + se + "\n" + "\n" + protocol + "\n" +
                        version + "\n" + "\n";
  std::string key;
  EXPECT_TRUE(storage::Base64Decode(key_base64, &key));
  std::string signature = storage::Base64Encode(storage::HmacSha256(key, to_sign));
  return "sv=" + version + "&ss=" + services + "&srt=" + resource_types + "&sp=" + permissions +
         "&se=" + storage::UriEncode(se, false) + "&spr=" + storage::UriEncode(protocol, false) +
         "&sig=" + storage::UriEncode(signature, false);
}

// The signature part of a SAS, percent-encoded as it is sent, and decoded.
std::string SigOf(const std::string& sas) {
  return sas.substr(sas.find("&sig=") + 5);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class CliAzureSasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    azure_ = Emulator::Start(Emulator::Kind::kAzure);
    ASSERT_NE(azure_, nullptr);
    dir_ = fs::temp_directory_path() / ("aq-azure-sas-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // storage_config reaching the emulator with `sas` and no account key ("" leaves the token
  // out, for the environment to give it).
  std::string Config(const std::string& sas) {
    std::map<std::string, std::string> config = {
        {"azure_storage_account_name", kAccount},
        {"azure_storage_endpoint", azure_->endpoint() + "/" + kAccount},
        {"azure_allow_http", "true"}};
    if (!sas.empty()) {
      config["azure_storage_sas_token"] = sas;
    }
    return ConfigYaml(config);
  }

  CliResult Run(const std::string& yaml, const std::vector<std::string>& env = {}) {
    fs::path file = dir_ / "p.yml";
    std::ofstream(file) << yaml;
    return RunCli({"run", "-f", file.string()}, dir_.string(), env);
  }

  // Rows (id, name) 0..n-1 written as one Parquet object at `url`.
  CliResult WriteFile(const std::string& url, const std::string& config, int n,
                      const std::vector<std::string>& env = {}) {
    return Run(
        "sources: []\n"
        "stages: [[{name: s, query: \"SELECT i AS id, 'n' || i AS name FROM range(" +
            std::to_string(n) +
            ") r(i)\"}]]\n"
            "destination: {type: file, name: out, format: {type: parquet, options: {}},\n"
            "  location: '" +
            url + "', storage_config: " + config + "}\n",
        env);
  }

  // Appends rows from..to-1 (partitioned by id % 2) to the Delta table at `url`.
  CliResult AppendDelta(const std::string& url, const std::string& config, int from, int to) {
    return Run(
        "sources: []\n"
        "stages: [[{name: s, query: 'SELECT i::BIGINT AS id, (i % 2)::BIGINT AS p FROM "
        "range(" +
        std::to_string(from) + ", " + std::to_string(to) +
        ") r(i)'}]]\n"
        "destination: {type: delta, name: out, location: '" +
        url + "', storage_config: " + config +
        ",\n"
        "  write_mode: {operation: append}, partition_columns: [p],\n"
        "  schema: [{name: id, data_type: int64, nullable: false},\n"
        "           {name: p, data_type: int64, nullable: false}]}\n");
  }

  // The result of `query` over the source `source_yaml` (named t) as CSV text.
  std::string Query(const std::string& source_yaml, const std::string& query,
                    const std::vector<std::string>& env = {}) {
    fs::path out = dir_ / "rows.csv";
    fs::remove(out);
    CliResult r = Run("sources: [" + source_yaml + "]\nstages: [[{name: s, query: '" + query +
                          "'}]]\n"
                          "destination: {type: file, name: o, format: {type: csv, options: {}}, "
                          "location: '" +
                          out.string() + "'}\n",
                      env);
    EXPECT_EQ(r.exit_code, 0) << r.all();
    return ReadFile(out);
  }

  std::unique_ptr<Emulator> azure_;
  fs::path dir_;
};

TEST_F(CliAzureSasTest, FilesAndADeltaTableThroughASasTokenInConfigAndEnvironment) {
  std::string sas = AccountSas("racwdl", kDevKey);
  std::string config = Config(sas);
  std::vector<CliResult> runs;
  runs.push_back(WriteFile("az://bucket/sas/data.parquet", config, 1000));
  ASSERT_EQ(runs.back().exit_code, 0) << runs.back().all();
  EXPECT_EQ(Query("{type: file, name: t, format: {type: parquet, options: {}}, location: "
                  "'az://bucket/sas/data.parquet', storage_config: " +
                      config + "}",
                  "SELECT count(*) AS n, sum(id) AS s, max(name) AS m FROM t"),
            "n,s,m\n1000,499500,n999\n");

  // A partitioned Delta table, created and appended to (its staged files are copied into their
  // partition directories by Copy Blob, whose source URL carries the SAS too).
  runs.push_back(AppendDelta("az://bucket/sas/table", config, 0, 100));
  ASSERT_EQ(runs.back().exit_code, 0) << runs.back().all();
  runs.push_back(AppendDelta("az://bucket/sas/table", config, 100, 250));
  ASSERT_EQ(runs.back().exit_code, 0) << runs.back().all();
  std::string delta_source =
      "{type: delta, name: t, location: 'az://bucket/sas/table', storage_config: " + config + "}";
  EXPECT_EQ(Query(delta_source, "SELECT count(*) AS n, sum(id) AS s, sum(p) AS odd FROM t"),
            "n,s,odd\n250,31125,125\n");

  // The same token from AZURE_STORAGE_SAS_TOKEN, with a leading '?' as the portal shows it.
  std::vector<std::string> env = {"AZURE_STORAGE_SAS_TOKEN=?" + sas};
  runs.push_back(WriteFile("az://bucket/sas/env.parquet", Config(""), 10, env));
  ASSERT_EQ(runs.back().exit_code, 0) << runs.back().all();
  EXPECT_EQ(Query("{type: file, name: t, format: {type: parquet, options: {}}, location: "
                  "'az://bucket/sas/env.parquet', storage_config: " +
                      Config("") + "}",
                  "SELECT count(*) AS n FROM t", env),
            "n\n10\n");
  for (const auto& run : runs) {
    EXPECT_EQ(run.all().find(SigOf(sas)), std::string::npos) << run.all();
  }
}

TEST_F(CliAzureSasTest, ASasWithoutWritePermissionOrAWrongSignatureIsA403WithoutTheToken) {
  std::string full = AccountSas("racwdl", kDevKey);
  ASSERT_EQ(WriteFile("az://bucket/ro/data.parquet", Config(full), 5).exit_code, 0);
  ASSERT_EQ(AppendDelta("az://bucket/ro/table", Config(full), 0, 10).exit_code, 0);

  std::string read_only = AccountSas("rl", kDevKey);
  // Reading with it works...
  EXPECT_EQ(Query("{type: file, name: t, format: {type: parquet, options: {}}, location: "
                  "'az://bucket/ro/data.parquet', storage_config: " +
                      Config(read_only) + "}",
                  "SELECT count(*) AS n FROM t"),
            "n\n5\n");
  // ... writing a file is refused, naming the location, and the old object stays.
  CliResult file = WriteFile("az://bucket/ro/data.parquet", Config(read_only), 7);
  EXPECT_EQ(file.exit_code, 1) << file.all();
  EXPECT_NE(file.all().find("403"), std::string::npos) << file.all();
  EXPECT_NE(file.all().find("az://bucket/ro/data.parquet"), std::string::npos) << file.all();
  EXPECT_EQ(file.all().find(SigOf(read_only)), std::string::npos) << file.all();
  EXPECT_EQ(file.all().find("sig="), std::string::npos) << file.all();
  // ... and so is a Delta append, naming the table; the table keeps its one version.
  CliResult delta = AppendDelta("az://bucket/ro/table", Config(read_only), 10, 20);
  EXPECT_EQ(delta.exit_code, 1) << delta.all();
  EXPECT_NE(delta.all().find("403"), std::string::npos) << delta.all();
  EXPECT_NE(delta.all().find("az://bucket/ro/table"), std::string::npos) << delta.all();
  EXPECT_EQ(delta.all().find(SigOf(read_only)), std::string::npos) << delta.all();
  EXPECT_EQ(delta.all().find("sig="), std::string::npos) << delta.all();
  EXPECT_EQ(Query("{type: delta, name: t, location: 'az://bucket/ro/table', storage_config: " +
                      Config(full) + "}",
                  "SELECT count(*) AS n FROM t"),
            "n\n10\n");
  EXPECT_EQ(Query("{type: file, name: t, format: {type: parquet, options: {}}, location: "
                  "'az://bucket/ro/data.parquet', storage_config: " +
                      Config(full) + "}",
                  "SELECT count(*) AS n FROM t"),
            "n\n5\n");

  // A SAS signed with a key that is not the account's: every request is refused.
  std::string forged = AccountSas("racwdl", storage::Base64Encode(std::string(64, 'x')));
  CliResult wrong =
      Run("sources: [{type: file, name: t, format: {type: parquet, options: {}}, location: "
          "'az://bucket/ro/data.parquet', storage_config: " +
          Config(forged) +
          "}]\n"
          "stages: [[{name: s, query: 'SELECT * FROM t'}]]\n"
          "destination: {type: file, name: o, format: {type: csv, options: {}}, location: '" +
          (dir_ / "x.csv").string() + "'}\n");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.all();
  EXPECT_NE(wrong.all().find("403"), std::string::npos) << wrong.all();
  EXPECT_NE(wrong.all().find("az://bucket/ro/data.parquet"), std::string::npos) << wrong.all();
  EXPECT_EQ(wrong.all().find(SigOf(forged)), std::string::npos) << wrong.all();
  EXPECT_EQ(wrong.all().find("sig="), std::string::npos) << wrong.all();
}

}  // namespace
}  // namespace aqueducts::testing

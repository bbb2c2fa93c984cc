// `aqueducts run` with a Delta destination and source on S3 (the emulator, started on
// 127.0.0.1 by the test), then `aqueducts delta history|vacuum` on the S3 table with credentials
// from the environment, and from --storage-config arguments (S3 and Azure).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli_harness.h"
#include "emulator.h"
#include "object_store_cli.h"
#include "storage/http_client.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

size_t CountLines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class CliDeltaObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_ = Emulator::Start(Emulator::Kind::kS3);
    ASSERT_NE(s3_, nullptr);
    dir_ = fs::temp_directory_path() / ("aq-delta-s3-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Rows range(from, to) written to the S3 table per `mode`: "append" (partition p = i % 3), or
  // "replace" of partition p = 1 (every row in p = 1).
  // `retries`: the table's aws_max_retries (absent: the default).
  CliResult Write(int from, int to, const std::string& mode, const std::string& retries = "") {
    auto config = s3_->Config();
    if (!retries.empty()) {
      config["aws_max_retries"] = retries;
    }
    std::string write_mode = mode == "append"
                                 ? "{operation: append}"
                                 : "{operation: replace, params: [{column: p, value: '1'}]}";
    std::string partition = mode == "append" ? "(i % 3)" : "1";
    return Run(std::string("version: v2\n") +
               "sources: []\n"
               "stages: [[{name: s, query: 'SELECT i::BIGINT AS id, " +
               partition + "::BIGINT AS p FROM range(" + std::to_string(from) + ", " +
               std::to_string(to) +
               ") r(i)'}]]\n"
               "destination:\n"
               "  type: delta\n"
               "  name: out\n"
               "  location: s3://bucket/tables/t\n"
               "  storage_config: " +
               ConfigYaml(config) +
               "\n"
               "  write_mode: " +
               write_mode +
               "\n"
               "  partition_columns: [p]\n"
               "  schema:\n"
               "    - {name: id, data_type: int64, nullable: false}\n"
               "    - {name: p, data_type: int64, nullable: false}\n");
  }

  // The table's rows (through a Delta source on S3) as CSV lines sorted by id.
  std::string Read() {
    fs::path out = dir_ / "rows.csv";
    fs::remove(out);
    CliResult r =
        Run("version: v2\n"
            "sources:\n"
            "  - {type: delta, name: t, location: s3://bucket/tables/t, "
            "storage_config: " +
            ConfigYaml(s3_->Config()) +
            "}\n"
            "stages: [[{name: s, query: 'SELECT id, p FROM t ORDER BY id'}]]\n"
            "destination: {type: file, name: o, format: {type: csv, options: {}}, "
            "location: '" +
            out.string() + "'}\n");
    EXPECT_EQ(r.exit_code, 0) << r.all();
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  CliResult Run(const std::string& yaml) {
    fs::path file = dir_ / "p.yml";
    std::ofstream(file) << yaml;
    return RunCli({"run", "-f", file.string()}, dir_.string());
  }

  // `aqueducts delta ...` with the emulator's credentials in the environment only.
  CliResult Delta(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"delta"};
    all.insert(all.end(), args.begin(), args.end());
    return RunCli(
        all, dir_.string(),
        {"AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER",
         "AWS_ENDPOINT_URL=" + s3_->endpoint(), "AWS_ALLOW_HTTP=true", "AWS_REGION=us-east-1"});
  }

  // Adds a failure rule to the S3 emulator's stand-in (tests/emulators/start.js,
  // injectedFailures); the rule is the query string of /_aqueducts_test/faults.
  void AddFault(const std::string& rule) {
    storage::HttpRequest request;
    request.method = "PUT";
    request.url = s3_->endpoint() + "/_aqueducts_test/faults?" + rule;
    auto response = storage::HttpSend(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 204);
  }

  // The rules, each with the requests it matched ("seen") and failed ("failed").
  nlohmann::json Faults() {
    storage::HttpRequest request;
    request.url = s3_->endpoint() + "/_aqueducts_test/faults";
    auto response = storage::HttpSend(request);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return nlohmann::json::parse(response.ok() ? response->body : "[]");
  }

  std::unique_ptr<Emulator> s3_;
  fs::path dir_;
};

// Retries end to end: the stand-in in front of the S3 emulator throttles a pipeline's reads and
// loses the answer to a Delta commit that the store applied. The commit is recognised as the
// write's own (the log entry is read back and compared): one version, no rows twice.
TEST_F(CliDeltaObjectStoreTest, ReadsAndDeltaCommitsGetThroughFailuresWithTheConfiguredRetries) {
  ASSERT_EQ(Write(0, 300, "append").exit_code, 0);
  CliResult before = Delta({"history", "s3://bucket/tables/t", "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.all();
  size_t next = CountLines(before.out);  // the version the next commit takes
  std::string entry = std::to_string(next);
  entry = std::string(20 - entry.size(), '0') + entry + ".json";
  AddFault("prefix=/bucket/tables/t/_delta_log/" + entry +
           "&method=PUT&count=1&status=503&mode=after");
  CliResult second = Write(300, 600, "append", "2");
  ASSERT_EQ(second.exit_code, 0) << second.all();
  EXPECT_EQ(Faults()[0]["seen"], 2);  // the lost answer, then the retry that found the entry
  EXPECT_EQ(CountLines(Read()), 1u + 600u);
  CliResult history = Delta({"history", "s3://bucket/tables/t", "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.all();
  EXPECT_EQ(CountLines(history.out), next + 1) << history.out;  // one commit, no duplicate

  // A source read through throttling (429 with Retry-After: 1, twice) with two retries
  // configured, then a source whose reads always fail: two attempts with one retry, and an
  // error naming the object.
  std::ofstream(dir_ / "in.csv") << "a,b\n1,x\n2,y\n";
  auto config = s3_->Config();
  CliResult upload =
      Run("sources: [{type: file, name: f, format: {type: csv, options: {}}, location: '" +
          (dir_ / "in.csv").string() +
          "'}]\n"
          "stages: [[{name: s, query: 'SELECT * FROM f'}]]\n"
          "destination: {type: file, name: o, format: {type: csv, options: {}}, location: "
          "'s3://bucket/in/throttled.csv', storage_config: " +
          ConfigYaml(config) + "}\n");
  ASSERT_EQ(upload.exit_code, 0) << upload.all();
  AddFault("prefix=/bucket/in/throttled.csv&method=GET&count=2&status=429&retry_after=1");
  auto read = [&](const std::string& retries) {
    auto with_retries = config;
    with_retries["aws_max_retries"] = retries;
    fs::remove(dir_ / "out.csv");
    return Run(
        "sources: [{type: file, name: f, format: {type: csv, options: {}}, location: "
        "'s3://bucket/in/throttled.csv', storage_config: " +
        ConfigYaml(with_retries) +
        "}]\n"
        "stages: [[{name: s, query: 'SELECT sum(a) AS n FROM f'}]]\n"
        "destination: {type: file, name: o, format: {type: csv, options: {}}, location: '" +
        (dir_ / "out.csv").string() + "'}\n");
  };
  CliResult throttled = read("2");
  ASSERT_EQ(throttled.exit_code, 0) << throttled.all();
  std::ifstream in(dir_ / "out.csv");
  std::stringstream rows;
  rows << in.rdbuf();
  EXPECT_EQ(rows.str(), "n\n3\n");
  EXPECT_EQ(Faults()[1]["failed"], 2);

  AddFault("prefix=/bucket/in/throttled.csv&method=GET&count=1000&status=503");
  int seen_before = Faults()[2]["seen"];
  CliResult down = read("1");
  EXPECT_EQ(down.exit_code, 1) << down.all();
  EXPECT_NE(down.all().find("s3://bucket/in/throttled.csv"), std::string::npos) << down.all();
  EXPECT_NE(down.all().find("HTTP 503"), std::string::npos) << down.all();
  EXPECT_NE(down.all().find("after 2 attempts"), std::string::npos) << down.all();
  // Each GET the run made was tried twice.
  int gets = Faults()[2]["seen"].get<int>() - seen_before;
  EXPECT_GT(gets, 0);
  EXPECT_EQ(gets % 2, 0) << gets;
}

TEST_F(CliDeltaObjectStoreTest, RunThenHistoryAndVacuumOnAnS3Table) {
  ASSERT_EQ(Write(0, 300, "append").exit_code, 0);
  CliResult second = Write(300, 600, "append");
  ASSERT_EQ(second.exit_code, 0) << second.all();
  EXPECT_EQ(CountLines(Read()), 1u + 600u);  // header + rows
  // Replace partition p = 1 with 10 rows: its 200 rows' files are removed from the table.
  CliResult replace = Write(1000, 1010, "replace");
  ASSERT_EQ(replace.exit_code, 0) << replace.all();
  std::string rows = Read();
  EXPECT_EQ(CountLines(rows), 1u + 400u + 10u) << rows;

  CliResult history = Delta({"history", "s3://bucket/tables/t", "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.all();
  EXPECT_EQ(CountLines(history.out), 4u) << history.out;  // create, 2 appends, replace
  // Newest first: version 3 (the replace) before version 0 (the create).
  size_t v3 = history.out.find("\"version\":3");
  size_t v0 = history.out.find("\"version\":0");
  ASSERT_NE(v3, std::string::npos) << history.out;
  ASSERT_NE(v0, std::string::npos) << history.out;
  EXPECT_LT(v3, v0) << history.out;

  // The replace's removed files are older than 0 hours: vacuum lists them, then deletes them.
  CliResult dry = Delta({"vacuum", "s3://bucket/tables/t", "--retain-hours", "0", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  EXPECT_NE(dry.out.find("would delete p=1/"), std::string::npos) << dry.out;
  EXPECT_EQ(dry.out.find("p=0/"), std::string::npos) << dry.out;
  CliResult vacuum = Delta({"vacuum", "s3://bucket/tables/t", "--retain-hours", "0"});
  ASSERT_EQ(vacuum.exit_code, 0) << vacuum.all();
  EXPECT_NE(vacuum.out.find("deleted p=1/"), std::string::npos) << vacuum.out;
  CliResult again = Delta({"vacuum", "s3://bucket/tables/t", "--retain-hours", "0", "--dry-run"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_NE(again.out.find("Would delete 0 file(s)"), std::string::npos) << again.out;
  // The table still reads the same after vacuum.
  EXPECT_EQ(Read(), rows);

  // Without credentials in the environment: a clear error naming the table, non-zero exit.
  CliResult denied = RunCli({"delta", "history", "s3://bucket/tables/t"}, dir_.string(),
                            {"AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=wrong-secret-xyz",
                             "AWS_ENDPOINT_URL=" + s3_->endpoint(), "AWS_ALLOW_HTTP=true"});
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.all().find("s3://bucket/tables/t"), std::string::npos) << denied.all();
  EXPECT_EQ(denied.all().find("wrong-secret-xyz"), std::string::npos) << denied.all();
}

// `--storage-config KEY=VALUE` gives an object-store table's credentials on the command line,
// with nothing in the environment, for S3 and Azure; a wrong secret, an unknown key and a
// malformed argument are clear errors that never show a value.
TEST_F(CliDeltaObjectStoreTest, HistoryAndVacuumTakeStorageConfigArguments) {
  ASSERT_EQ(Write(0, 300, "append").exit_code, 0);
  std::vector<std::string> s3_args;
  for (const auto& [key, value] : s3_->Config()) {
    s3_args.insert(s3_args.end(), {"--storage-config", key + "=" + value});
  }
  auto delta = [&](std::vector<std::string> args, const std::vector<std::string>& config) {
    args.insert(args.begin(), "delta");
    args.insert(args.end(), config.begin(), config.end());
    return RunCli(args, dir_.string());  // no AWS_* or AZURE_* variables
  };
  CliResult history = delta({"history", "s3://bucket/tables/t", "--json"}, s3_args);
  ASSERT_EQ(history.exit_code, 0) << history.all();
  EXPECT_EQ(CountLines(history.out), 2u) << history.out;  // the create, the append
  EXPECT_NE(history.out.find("\"version\":1"), std::string::npos) << history.out;
  // The option before the table argument works too (one value per --storage-config).
  std::vector<std::string> before = {"vacuum"};
  before.insert(before.end(), s3_args.begin(), s3_args.end());
  before.insert(before.end(), {"s3://bucket/tables/t", "--retain-hours", "0", "--dry-run"});
  CliResult vacuum = delta(before, {});
  ASSERT_EQ(vacuum.exit_code, 0) << vacuum.all();
  EXPECT_NE(vacuum.out.find("Would delete 0 file(s)"), std::string::npos) << vacuum.out;

  // The arguments are what is used: a wrong secret is a 403 naming the table, never the
  // secret.
  std::vector<std::string> wrong = s3_args;
  for (auto& arg : wrong) {
    if (arg.rfind("aws_secret_access_key=", 0) == 0) {
      arg = "aws_secret_access_key=NotTheSecret77";
    }
  }
  CliResult denied = delta({"history", "s3://bucket/tables/t"}, wrong);
  EXPECT_EQ(denied.exit_code, 1) << denied.all();
  EXPECT_NE(denied.all().find("403"), std::string::npos) << denied.all();
  EXPECT_NE(denied.all().find("s3://bucket/tables/t"), std::string::npos) << denied.all();
  EXPECT_EQ(denied.all().find("NotTheSecret77"), std::string::npos) << denied.all();
  // An unknown key is named; a malformed argument is refused without its value.
  CliResult typo = delta({"history", "s3://bucket/tables/t"},
                         {"--storage-config", "aws_secret_acces_key=Hidden42"});
  EXPECT_EQ(typo.exit_code, 1) << typo.all();
  EXPECT_NE(typo.all().find("aws_secret_acces_key"), std::string::npos) << typo.all();
  EXPECT_EQ(typo.all().find("Hidden42"), std::string::npos) << typo.all();
  CliResult malformed =
      delta({"vacuum", "s3://bucket/tables/t"}, {"--storage-config", "aws_region"});
  EXPECT_EQ(malformed.exit_code, 1) << malformed.all();
  EXPECT_NE(malformed.all().find("KEY=VALUE"), std::string::npos) << malformed.all();
  CliResult local = delta({"history", dir_.string()}, {"--storage-config", "aws_region=x"});
  EXPECT_EQ(local.exit_code, 1) << local.all();
  EXPECT_NE(local.all().find("is a local path"), std::string::npos) << local.all();

  // Azure: a table written by a pipeline, then its history with the emulator's keys.
  auto azure = Emulator::Start(Emulator::Kind::kAzure);
  ASSERT_NE(azure, nullptr);
  CliResult written =
      Run("sources: []\n"
          "stages: [[{name: s, query: 'SELECT i::BIGINT AS id FROM range(5) r(i)'}]]\n"
          "destination: {type: delta, name: out, location: az://bucket/tables/a,\n"
          "  storage_config: " +
          ConfigYaml(azure->Config()) +
          ", write_mode: {operation: append},\n"
          "  schema: [{name: id, data_type: int64, nullable: false}]}\n");
  ASSERT_EQ(written.exit_code, 0) << written.all();
  std::vector<std::string> azure_args;
  for (const auto& [key, value] : azure->Config()) {
    azure_args.insert(azure_args.end(), {"--storage-config", key + "=" + value});
  }
  CliResult azure_history = delta({"history", "az://bucket/tables/a", "--json"}, azure_args);
  ASSERT_EQ(azure_history.exit_code, 0) << azure_history.all();
  EXPECT_EQ(CountLines(azure_history.out), 2u) << azure_history.out;
  CliResult azure_vacuum = delta({"vacuum", "az://bucket/tables/a", "--dry-run"}, azure_args);
  ASSERT_EQ(azure_vacuum.exit_code, 0) << azure_vacuum.all();
}

}  // namespace
}  // namespace aqueducts::testing

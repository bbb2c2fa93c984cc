// Credentials never print: failing pipelines whose ODBC connection string or location URL holds a
// password, run locally (the `aqueducts` binary) and remotely (the CLI against the real executor,
// and a raw SSE client); every output stream and the executor's log are searched for it.

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "executor/test_harness.h"
#include "testing.h"

namespace aqueducts::executor::testing {
namespace {

namespace fs = std::filesystem;

using Output = ::aqueducts::testing::ProcessResult;

// Run a shell command in `dir`, capturing stdout and stderr separately.
Output RunIn(const fs::path& dir, const std::string& command) {
  return ::aqueducts::testing::RunShell(dir.string(), command);
}

struct Case {
  std::string name;
  std::string password;
  std::string yaml;  // a pipeline that fails because of the credential-bearing field
  std::string json;  // the same for a raw submission
};

std::vector<Case> Cases() {
  return {
      {"odbc connection string with an unbalanced brace", "Hunter2OdbcPw",
       "version: v2\nsources:\n  - type: odbc\n    name: src\n"
       "    connection_string: \"Driver={PostgreSQL Unicode;Server=127.0.0.1;Port=1;"
       "UID=alice;PWD=Hunter2OdbcPw;\"\n    query: SELECT 1\nstages:\n"
       "  - - name: s\n      query: SELECT * FROM src\n",
       R"({"pipeline": {"sources": [{"type": "odbc", "name": "src", "connection_string":
          "Driver={PostgreSQL Unicode;Server=127.0.0.1;Port=1;UID=alice;PWD=Hunter2OdbcPw;",
          "query": "SELECT 1"}], "stages": [[{"name": "s", "query": "SELECT * FROM src"}]]}})"},
      {"s3 location with user info", "S3cretUrlPw",
       "version: v2\nsources:\n  - type: file\n    name: src\n    format: {type: csv}\n"
       "    location: s3://alice:S3cretUrlPw@bucket/x.csv\nstages:\n"
       "  - - name: s\n      query: SELECT * FROM src\n",
       R"({"pipeline": {"sources": [{"type": "file", "name": "src", "format": {"type": "csv"},
          "location": "s3://alice:S3cretUrlPw@bucket/x.csv"}],
          "stages": [[{"name": "s", "query": "SELECT * FROM src"}]]}})"},
      {"https location with user info", "HttpsUrlPw77",
       "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1 AS x\n"
       "destination:\n  type: file\n  name: out\n  format: {type: csv}\n"
       "  location: https://alice:HttpsUrlPw77@example.invalid/out.csv\n",
       R"({"pipeline": {"sources": [], "stages": [[{"name": "s", "query": "SELECT 1 AS x"}]],
          "destination": {"type": "file", "name": "out", "format": {"type": "csv"},
          "location": "https://alice:HttpsUrlPw77@example.invalid/out.csv"}}})"},
  };
}

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("secrets");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(SecretsTest, LocalRunNeverPrintsThePassword) {
  for (const Case& c : Cases()) {
    std::ofstream(dir_ / "p.yml") << c.yaml;
    Output out = RunIn(dir_, std::string(AQ_CLI_BIN) + " run --file p.yml");
    EXPECT_NE(out.exit_code, 0) << c.name << ": the pipeline was meant to fail\n" << out.err;
    EXPECT_FALSE(out.err.empty()) << c.name << ": no error message";
    EXPECT_EQ(out.out.find(c.password), std::string::npos) << c.name << ": stdout\n" << out.out;
    EXPECT_EQ(out.err.find(c.password), std::string::npos) << c.name << ": stderr\n" << out.err;
  }
}

TEST_F(SecretsTest, RemoteRunNeverPrintsOrLogsThePassword) {
  auto executor = ExecutorProcess::Start();
  ASSERT_NE(executor, nullptr);
  std::string flags =
      " --executor 127.0.0.1:" + std::to_string(executor->port()) + " --api-key " + kKey;
  for (const Case& c : Cases()) {
    // Through the CLI's remote mode.
    std::ofstream(dir_ / "p.yml") << c.yaml;
    Output out = RunIn(dir_, std::string(AQ_CLI_BIN) + " run --file p.yml" + flags);
    EXPECT_NE(out.exit_code, 0) << c.name << ": the pipeline was meant to fail\n" << out.err;
    EXPECT_EQ(out.out.find(c.password), std::string::npos) << c.name << ": stdout\n" << out.out;
    EXPECT_EQ(out.err.find(c.password), std::string::npos) << c.name << ": stderr\n" << out.err;
    // A raw submission: every SSE event, and the answer body when it is refused.
    StreamResult r = Submit(*executor->Client(), c.json);
    EXPECT_TRUE(r.Has("failed") || r.status == 400) << c.name << ": " << r.status << r.body;
    EXPECT_EQ(r.body.find(c.password), std::string::npos) << c.name << ": body " << r.body;
    for (const auto& m : r.messages) {
      EXPECT_EQ(m.data.find(c.password), std::string::npos)
          << c.name << ": SSE " << m.event << " " << m.data;
    }
  }
  // The executor's log (its stdout: every log line) after all of it.
  size_t lines = 0;
  for (const std::string& line : executor->LogLines()) {
    ++lines;
    for (const Case& c : Cases()) {
      EXPECT_EQ(line.find(c.password), std::string::npos) << c.name << ": log " << line;
    }
  }
  EXPECT_GT(lines, 3u);
}

}  // namespace
}  // namespace aqueducts::executor::testing

// Flags and environment of aqueducts-executor, and the binary's exit codes.
#include "executor/config.h"

#include <cstdlib>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "executor/http_server.h"
#include "testing.h"

namespace aqueducts::executor {
namespace {

Result<ExecutorConfig> Parse(std::vector<std::string> args, int* exit_code) {
  args.insert(args.begin(), "aqueducts-executor");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  return ParseExecutorConfig(static_cast<int>(argv.size()), argv.data(), exit_code);
}

TEST(ExecutorConfigTest, DefaultsAndMemoryLimit) {
  int code = -1;
  AQ_ASSERT_OK_AND_ASSIGN(ExecutorConfig c, Parse({"--api-key", "k", "--max-memory", "2"}, &code));
  EXPECT_EQ(code, 0);
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 3031);
  EXPECT_EQ(c.manager.max_queue, 16u);
  EXPECT_EQ(c.server.max_body_bytes, 16u << 20);
  EXPECT_EQ(c.manager.database_options.memory_limit_bytes, 2ULL << 30);
  EXPECT_FALSE(c.manager.temp_root.empty()) << "a memory limit needs somewhere to spill";
  EXPECT_EQ(c.server.executor_id.size(), 36u);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
}

TEST(ExecutorConfigTest, EnvironmentIsReadAndBadValuesAreNamed) {
  int code = -1;
  setenv("AQUEDUCTS_API_KEY", "from-env", 1);
  setenv("AQUEDUCTS_LOG_LEVEL", "WARN", 1);
  auto c = Parse({}, &code);
  unsetenv("AQUEDUCTS_API_KEY");
  unsetenv("AQUEDUCTS_LOG_LEVEL");
  AQ_ASSERT_OK(c.status());
  EXPECT_EQ(c->server.api_key, "from-env");
  EXPECT_EQ(c->log_level, LogLevel::kWarn);

  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const auto& bad : std::vector<Case>{
           {{}, "API key cannot be empty"},
           {{"--api-key", "   "}, "API key cannot be empty"},
           {{"--api-key", "k", "--max-memory", "0"}, "Max memory"},
           {{"--api-key", "k", "--executor-id", "nope"}, "UUID"},
           {{"--api-key", "k", "--port", "70000"}, "--port"},
       }) {
    auto r = Parse(bad.args, &code);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(code, 1);
    EXPECT_NE(r.status().message().find(bad.message), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(Parse({"--api-key", "k", "--no-such-flag"}, &code).ok());
  EXPECT_EQ(code, 2);
}

TEST(ExecutorConfigTest, BinaryExitsOneWithoutAKey) {
  std::string cmd =
      std::string("env -u AQUEDUCTS_API_KEY ") + AQ_EXECUTOR_BIN + " --port 0 >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(ExecutorConfigTest, KeysCompareExactly) {
  EXPECT_TRUE(KeysEqual("secret", "secret"));
  EXPECT_FALSE(KeysEqual("secreT", "secret"));
  EXPECT_FALSE(KeysEqual("secret1", "secret"));
  EXPECT_FALSE(KeysEqual("secre", "secret"));
  EXPECT_FALSE(KeysEqual("", "secret"));
  EXPECT_FALSE(KeysEqual("", ""));
}

}  // namespace
}  // namespace aqueducts::executor

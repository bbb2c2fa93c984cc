// Ctrl+C on a local run: the query is interrupted, the process exits 130 promptly, and nothing
// is written to the destination.
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliSignal, InterruptCancelsTheRunAndWritesNothing) {
  TempDir dir;
  // A query that runs for minutes unless interrupted.
  std::string yml = dir.Write(
      "long.yml",
      "sources: []\n"
      "stages:\n"
      "  - - name: slow\n"
      "      query: SELECT count(*) AS n FROM range(100000000) a, range(100000) b WHERE a.range + "
      "b.range = -1\n"
      "destination:\n"
      "  type: file\n"
      "  name: out\n"
      "  format: {type: csv, options: {}}\n"
      "  location: " +
          dir.str() + "/out.csv\n");
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    std::string bin = AQ_CLI_PATH;
    execl(bin.c_str(), bin.c_str(), "run", "-f", yml.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto sent = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  int status = 0;
  // Wait at most 15 s for a clean exit (the query itself would take far longer).
  for (int i = 0; i < 150 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (waitpid(pid, &status, WNOHANG) == 0 && !WIFEXITED(status)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "aqueducts did not stop after SIGINT";
  }
  auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(took).count(), 10);
  EXPECT_FALSE(fs::exists(dir.path() / "out.csv"));
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "long.yml");
  }
}

}  // namespace
}  // namespace aqueducts::testing

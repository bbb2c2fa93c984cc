// The renderer on a real terminal (a pseudo-terminal from util-linux `script`): colours and the
// live status line (with the percent of a long write), and NO_COLOR turning the colours off.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

// Output of `command` run under a pseudo-terminal; empty when `script` is unavailable.
std::string UnderTty(const std::string& command) {
  std::string full = "script -qec '" + command + "' /dev/null 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) {
    return "";
  }
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) {
    out.append(buf, n);
  }
  pclose(pipe);
  return out;
}

class CliTty : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v script >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "util-linux script is not installed";
    }
    std::filesystem::copy(FixturesDir() + "/aqueducts-examples/examples", dir_.path() / "examples",
                          std::filesystem::copy_options::recursive);
  }
  std::string Run(const std::string& env) {
    return UnderTty("cd " + dir_.str() + " && " + env + " " + AQ_CLI_PATH +
                    " run -f examples/aqueduct_pipeline_simple.yml -p month=jan -p year=2024");
  }
  TempDir dir_;
};

TEST_F(CliTty, ColoursOnATerminal) {
  std::string out = Run("env -u NO_COLOR TERM=xterm");
  EXPECT_NE(out.find("Pipeline execution completed"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[32m"), std::string::npos) << "no green tick in:\n" << out;
}

TEST_F(CliTty, NoColorTurnsColoursOff) {
  std::string out = Run("NO_COLOR=1 TERM=xterm");
  EXPECT_NE(out.find("Pipeline execution completed"), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b[32m"), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b[1m"), std::string::npos) << out;
}

TEST_F(CliTty, LiveLineShowsPercentAndRowsDuringTheWrite) {
  // One stage streamed into a Parquet file: a write of a second or more.
  {
    std::ofstream csv(dir_.path() / "big.csv");
    csv << "id,v,name\n";
    for (int64_t i = 0; i < 1'500'000; i++) {
      csv << i << ',' << (i * 7919) % 1000 << ",name " << i << '\n';
    }
  }
  std::ofstream(dir_.path() / "big.yml")
      << "version: v2\nsources:\n  - type: file\n    name: big\n    format: {type: csv}\n"
      << "    location: big.csv\nstages:\n  - - name: pass\n      query: SELECT * FROM big\n"
      << "destination:\n  type: file\n  name: out\n  format: {type: parquet}\n"
      << "  location: out.parquet\n";
  std::string out =
      UnderTty("cd " + dir_.str() + " && NO_COLOR=1 TERM=xterm " + AQ_CLI_PATH + " run -f big.yml");
  EXPECT_NE(out.find("Pipeline execution completed"), std::string::npos) << out;
  // The live line of the destination: "→ out 0.75s 612,352 rows 41%". (A plain search: the
  // output holds thousands of redraws, too much for std::regex.)
  bool percent_shown = false;
  for (size_t at = out.find("→ out "); at != std::string::npos && !percent_shown;
       at = out.find("→ out ", at + 1)) {
    size_t end = out.find("(elapsed", at);
    std::string line = out.substr(at, end == std::string::npos ? 80 : end - at);
    size_t rows = line.find(" rows ");
    percent_shown = rows != std::string::npos && line.find('%', rows) != std::string::npos;
  }
  ASSERT_TRUE(percent_shown) << "no percent on the live line in:\n" << out.substr(0, 4000);
  EXPECT_NE(out.find("1,500,000 rows"), std::string::npos) << out;
}

}  // namespace
}  // namespace aqueducts::testing

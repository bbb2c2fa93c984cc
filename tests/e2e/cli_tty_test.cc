// The renderer on a real terminal (a pseudo-terminal from util-linux `script`): colours and the
// live status line (with the percent of a long write, and the bytes DuckDB spills), and NO_COLOR
// turning the colours off; without a terminal, one plain progress line per interval for a long
// step, with the bytes spilled.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

// What the shell command `full` writes to stdout; empty when it cannot be started.
std::string OutputOf(const std::string& full) {
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

// Output of `command` run under a pseudo-terminal; empty when `script` is unavailable.
std::string UnderTty(const std::string& command) {
  return OutputOf("script -qec '" + command + "' /dev/null 2>&1");
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

// Output (stdout and stderr) of `command` without a terminal.
std::string Piped(const std::string& command) {
  return OutputOf(command + " 2>&1 </dev/null");
}

TEST_F(CliTty, SpillShowsOnTheLiveLineAndOnPacedPlainLines) {
  // A sort of 6,000,000 rows under a 48 MB memory limit spills, and its write lasts seconds.
  std::ofstream(dir_.path() / "spill.yml")
      << "version: v2\nsources: []\nstages:\n  - - name: sorted\n      query: SELECT range AS a, "
      << "hash(range) AS b FROM range(6000000) ORDER BY b\ndestination:\n  type: file\n"
      << "  name: out\n  format: {type: parquet}\n  location: out.parquet\n";
  const std::string run =
      std::string(AQ_CLI_PATH) + " run -f spill.yml --max-memory 48MB --threads 2 --temp-dir spill";
  std::string live = UnderTty("cd " + dir_.str() + " && NO_COLOR=1 TERM=xterm " + run);
  EXPECT_NE(live.find("Pipeline execution completed"), std::string::npos) << live.substr(0, 4000);
  EXPECT_NE(live.find("Memory limit reached: spilling to disk"), std::string::npos);
  bool on_live_line = false;  // "→ out 1.20s ... spilled 96.0 MB (elapsed ...)"
  for (size_t at = live.find("→ out "); at != std::string::npos && !on_live_line;
       at = live.find("→ out ", at + 1)) {
    size_t end = live.find("(elapsed", at);
    on_live_line =
        end != std::string::npos && live.substr(at, end - at).find("spilled ") != std::string::npos;
  }
  EXPECT_TRUE(on_live_line) << "no bytes spilled on the live line in:\n" << live.substr(0, 4000);

  // Without a terminal: "   out: running for 0.61s ... 40%, spilled 96.0 MB", one line per
  // 300 ms at most however often the figures change (the run reports every 250 ms by default;
  // the pace is what AQUEDUCTS_PROGRESS_INTERVAL_MS sets, here 300 ms).
  std::string plain = Piped("cd " + dir_.str() + " && AQUEDUCTS_PROGRESS_INTERVAL_MS=300 " + run);
  EXPECT_NE(plain.find("Pipeline execution completed"), std::string::npos) << plain;
  std::vector<double> at_seconds;
  bool spilled_line = false;
  const std::string prefix = "   out: running for ";
  for (size_t at = plain.find(prefix); at != std::string::npos; at = plain.find(prefix, at + 1)) {
    size_t end = plain.find('\n', at);
    std::string line = plain.substr(at, end - at);
    at_seconds.push_back(std::strtod(line.c_str() + prefix.size(), nullptr));
    spilled_line |= line.find(", spilled ") != std::string::npos;
  }
  ASSERT_FALSE(at_seconds.empty()) << "no plain progress line in:\n" << plain;
  EXPECT_TRUE(spilled_line) << "no bytes spilled on a plain progress line in:\n" << plain;
  EXPECT_GE(at_seconds.front(), 0.3) << "a plain line before the step ran for one interval";
  for (size_t i = 1; i < at_seconds.size(); i++) {
    // The printed figures are rounded to 10 ms.
    EXPECT_GE(at_seconds[i] - at_seconds[i - 1], 0.29) << "plain lines closer than the pace:\n"
                                                       << plain;
  }
  EXPECT_EQ(plain.find("\x1b["), std::string::npos) << "terminal codes without a terminal";
}

}  // namespace
}  // namespace aqueducts::testing

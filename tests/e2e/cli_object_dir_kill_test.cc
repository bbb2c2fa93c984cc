// kill -9 of `aqueducts run` while it writes a directory destination on S3 (the s3rver emulator
// started by the test): the previous output stays readable and complete, the dead run's objects
// are never read, and the next run removes what the dead one left and succeeds.

#include <algorithm>
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
#include "storage/store_registry.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

class CliObjectDirKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_ = Emulator::Start(Emulator::Kind::kS3);
    ASSERT_NE(s3_, nullptr);
    dir_ = fs::temp_directory_path() / ("aq-objdir-kill-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A pipeline writing `query`'s rows as a CSV directory (one object per writer thread) to the
  // test's directory on S3.
  std::string Write(const std::string& query) {
    return "sources: []\n"
           "stages: [[{name: s, query: \"" +
           query +
           "\"}]]\n"
           "destination: {type: file, name: out, format: {type: csv, options: {}},\n"
           "  location: '" +
           kUrl + "', single_file: false, storage_config: " + ConfigYaml(s3_->Config()) + "}\n";
  }
  fs::path Save(const std::string& name, const std::string& yaml) {
    fs::path file = dir_ / name;
    std::ofstream(file) << yaml;
    return file;
  }
  CliResult Run(const std::string& yaml) {
    return RunCli({"run", "-f", Save("p.yml", yaml).string()}, dir_.string());
  }

  // What a directory source reads from the output: row count, smallest and largest tag, sum of i.
  std::string Summary() {
    fs::path out = dir_ / "summary.csv";
    fs::remove(out);
    CliResult read =
        Run("sources: [{type: directory, name: d, format: {type: csv, options: {}}, location: '" +
            std::string(kUrl) + "', storage_config: " + ConfigYaml(s3_->Config()) +
            "}]\n"
            "stages: [[{name: s, query: 'SELECT count(*) AS n, min(tag) AS lo, max(tag) AS hi, "
            "sum(i) AS total FROM d'}]]\n"
            "destination: {type: file, name: o, format: {type: csv, options: {}}, location: '" +
            out.string() + "'}\n");
    EXPECT_EQ(read.exit_code, 0) << read.all();
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // The objects under the output directory (relative keys, sorted) and the manifest's text.
  std::vector<std::string> Objects() {
    storage::StoreRegistry registry;
    EXPECT_TRUE(registry.Register("s3://bucket", s3_->Config()).ok());
    auto at = registry.Resolve(kUrl);
    EXPECT_TRUE(at.ok());
    auto listing = at->store->List(at->key + "/");
    EXPECT_TRUE(listing.ok()) << listing.status().ToString();
    std::vector<std::string> out;
    for (const auto& meta : listing.ok() ? listing->objects : std::vector<storage::ObjectMeta>{}) {
      out.push_back(meta.key.substr(at->key.size() + 1));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string Manifest() {
    storage::StoreRegistry registry;
    EXPECT_TRUE(registry.Register("s3://bucket", s3_->Config()).ok());
    auto at = registry.Resolve(std::string(kUrl) + "/.aqueducts-manifest");
    EXPECT_TRUE(at.ok());
    auto text = at->store->Get(at->key);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : std::string();
  }

  static constexpr char kUrl[] = "s3://bucket/out/dir";
  std::unique_ptr<Emulator> s3_;
  fs::path dir_;
};

TEST_F(CliObjectDirKillTest, KillNineMidWriteLeavesThePreviousOutputAndTheNextRunCleansUp) {
  CliResult first = Run(Write("SELECT i, 'previous' AS tag FROM range(1000) r(i)"));
  ASSERT_EQ(first.exit_code, 0) << first.all();
  const std::string previous = Summary();
  ASSERT_EQ(previous, "n,lo,hi,total\n1000,previous,previous,499500\n");

  // About 160 MB of CSV in objects of 8 MiB parts; killed once the emulator has stored a part.
  fs::path big =
      Save("big.yml", Write("SELECT i, md5(i::VARCHAR) AS tag FROM range(4000000) r(i)"));
  KilledRun killed = KillRunOnceAPartIsStored(big, s3_->dir());
  ASSERT_TRUE(killed.part_seen) << "no part of the upload was seen before the run ended";
  ASSERT_FALSE(killed.exited) << "the run finished before it could be killed mid-write";

  // The killed run left its pending marker; readers still get exactly the previous output.
  std::vector<std::string> after_kill = Objects();
  EXPECT_EQ(std::count_if(
                after_kill.begin(), after_kill.end(),
                [](const std::string& key) { return key.rfind(".aqueducts-pending-", 0) == 0; }),
            1)
      << ::testing::PrintToString(after_kill);
  EXPECT_EQ(Summary(), previous);

  // The next run removes what the dead one left, then replaces the output.
  CliResult next = Run(Write("SELECT i, 'next' AS tag FROM range(500) r(i)"));
  ASSERT_EQ(next.exit_code, 0) << next.all();
  EXPECT_NE(next.all().find("interrupted run"), std::string::npos) << next.all();
  EXPECT_EQ(Summary(), "n,lo,hi,total\n500,next,next,124750\n");
  // Only the manifest and the objects it lists remain: no marker, no object of either run.
  std::string manifest = Manifest();
  for (const auto& key : Objects()) {
    if (key != ".aqueducts-manifest") {
      EXPECT_NE(manifest.find("\n" + key + "\n"), std::string::npos)
          << key << " is not in the manifest:\n"
          << manifest;
    }
  }
}

}  // namespace
}  // namespace aqueducts::testing

// Fault injection through the storage seam (tests/fault_store.h): the file destination's every
// file operation goes through it, so a store that fails the publishing rename shows what a
// failed publish leaves behind: the previous output, intact, and no temporaries.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "engine/session.h"
#include "fault_store.h"
#include "io/file_destination.h"
#include "io/output_dir.h"
#include "storage/local_store.h"
#include "storage/mounts.h"
#include "temp_dir.h"
#include "testing.h"

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;
using ::aqueducts::testing::FaultStore;
using ::aqueducts::testing::StoreOp;
using ::aqueducts::testing::TempDir;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every entry below `root`, hidden ones included, relative and sorted.
std::vector<std::string> Tree(const fs::path& root) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    out.push_back(e.path().lexically_relative(root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

FileDestination CsvDestination(const fs::path& location) {
  FileDestination dest;
  dest.name = "d";
  dest.location = ParseLocation(location.string());
  dest.format.format = FileFormat::kCsv;
  return dest;
}

class PublishFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto session = engine::Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }
  engine::Connection& conn() { return session_->main(); }

  TempDir dir_{"io-fault"};
  std::unique_ptr<engine::Session> session_;
};

TEST_F(PublishFaultTest, AFailedPublishOfAFileLeavesThePreviousFile) {
  fs::path out = dir_.path() / "out.csv";
  FileDestination dest = CsvDestination(out);
  AQ_ASSERT_OK(WriteFileDestination(conn(), dest, "SELECT 1 AS id, 'old' AS s").status());
  const std::string before = Slurp(out);
  ASSERT_EQ(before, "id,s\n1,old\n");

  std::atomic<int> renames{0};
  storage::ScopedMount mount(
      dir_.str(), std::make_shared<FaultStore>(
                      storage::LocalFileSystem(), [&](StoreOp op, const std::string& key) {
                        if (op == StoreOp::kRename && key == out.string()) {
                          renames++;
                          return Status::IoError("injected: disk gone");
                        }
                        return Status::OK();
                      }));
  auto written = WriteFileDestination(conn(), dest, "SELECT 2 AS id, 'new' AS s");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.status().message().find("injected: disk gone"), std::string::npos)
      << written.status().ToString();
  EXPECT_EQ(renames.load(), 1);  // the publish was attempted, through the seam
  EXPECT_EQ(Slurp(out), before);
  EXPECT_EQ(Tree(dir_.path()), std::vector<std::string>{"out.csv"});  // no temporary left
}

TEST_F(PublishFaultTest, AFailedSwapOfADirectoryRestoresThePreviousOutput) {
  fs::path out = dir_.path() / "out";
  FileDestination dest = CsvDestination(out);
  dest.single_file = false;
  AQ_ASSERT_OK(WriteFileDestination(conn(), dest, "SELECT 1 AS id, 'old' AS s").status());
  const std::vector<std::string> before = Tree(out);
  std::set<std::string> ours = ReadManifest(out.string());
  ASSERT_EQ(ours.size(), 1u);
  const std::string old_file = *ours.begin();
  const std::string old_content = Slurp(out / old_file);
  ASSERT_EQ(old_content, "id,s\n1,old\n");

  // The old directory is moved aside, then the new one's rename into place fails: the old one
  // must be moved back.
  std::atomic<int> failed{0};
  storage::ScopedMount mount(
      dir_.str(), std::make_shared<FaultStore>(
                      storage::LocalFileSystem(), [&](StoreOp op, const std::string& key) {
                        if (op == StoreOp::kRename && key == out.string() && failed++ == 0) {
                          return Status::IoError("injected: disk gone");
                        }
                        return Status::OK();
                      }));
  auto written = WriteFileDestination(conn(), dest, "SELECT 2 AS id, 'new' AS s");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.status().message().find("injected: disk gone"), std::string::npos)
      << written.status().ToString();
  EXPECT_EQ(failed.load(), 2);  // the failed publish, then the restore
  EXPECT_EQ(Tree(out), before);
  EXPECT_EQ(ReadManifest(out.string()), ours);
  EXPECT_EQ(Slurp(out / old_file), old_content);
  EXPECT_EQ(Tree(dir_.path()).size(), before.size() + 1);  // out/ and its files, no temporary
}

TEST_F(PublishFaultTest, AFailedManifestWriteInAMergePublishesNothing) {
  // A directory holding a file of someone else's is merged into, not swapped: the manifest is
  // written first, so a failure there moves nothing.
  fs::path out = dir_.path() / "out";
  dir_.Write("out/notes.txt", "not ours");
  FileDestination dest = CsvDestination(out);
  dest.single_file = false;
  storage::ScopedMount mount(
      dir_.str(), std::make_shared<FaultStore>(
                      storage::LocalFileSystem(), [&](StoreOp op, const std::string& key) {
                        if (op == StoreOp::kPut && key == (out / kManifestName).string()) {
                          return Status::IoError("injected: quota exceeded");
                        }
                        return Status::OK();
                      }));
  auto written = WriteFileDestination(conn(), dest, "SELECT 2 AS id, 'new' AS s");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.status().message().find("injected: quota exceeded"), std::string::npos)
      << written.status().ToString();
  EXPECT_EQ(Tree(dir_.path()), (std::vector<std::string>{"out", "out/notes.txt"}));
}

}  // namespace
}  // namespace aqueducts::io

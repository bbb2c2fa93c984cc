// Directory outputs on object stores (io/object_dir.h), against the S3, Azure and GCS emulators:
// a run replaces the objects of the previous one and nothing else; a failed run (a row count
// that does not match, injected through the storage seam) publishes nothing; a killed run
// (a child process that dies at a chosen store operation) leaves the previous output whole,
// and the next run removes what it left.

#include "io/object_dir.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aqueducts/run.h"

#include "emulator.h"
#include "engine/session.h"
#include "fault_store.h"
#include "io/file_destination.h"
#include "io/output_dir.h"
#include "storage/mounts.h"
#include "storage/store_registry.h"
#include "testing.h"

namespace aqueducts::io {
namespace {

using ::aqueducts::testing::Emulator;
using ::aqueducts::testing::FaultStore;
using ::aqueducts::testing::StoreOp;

// A store mounted at an object URL (storage::ScopedMount) sees whole URLs as keys: this one
// resolves them through a registry, so that a FaultStore can wrap a real object store.
class UrlStore : public storage::ObjectStore {
 public:
  explicit UrlStore(std::shared_ptr<storage::StoreRegistry> registry)
      : registry_(std::move(registry)) {}
  std::string UrlOf(const std::string& key) const override { return key; }
  Result<storage::ObjectMeta> Head(const std::string& url) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(url));
    AQ_ASSIGN_OR_RETURN(storage::ObjectMeta meta, at.store->Head(at.key));
    meta.key = url;
    return meta;
  }
  Result<uint64_t> GetRange(const std::string& url, uint64_t offset, uint64_t length,
                            char* out) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(url));
    return at.store->GetRange(at.key, offset, length, out);
  }
  Result<std::string> Get(const std::string& url) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(url));
    return at.store->Get(at.key);
  }
  Status Put(const std::string& url, std::string_view data) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(url));
    return at.store->Put(at.key, data);
  }
  Status PutIfAbsent(const std::string& url, std::string_view data) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(url));
    return at.store->PutIfAbsent(at.key, data);
  }
  Result<std::unique_ptr<storage::MultipartUpload>> StartUpload(const std::string& url) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(url));
    return at.store->StartUpload(at.key);
  }
  uint64_t MinPartSize() const override { return 5u << 20; }
  Result<storage::Listing> List(const std::string& prefix, const std::string& delimiter) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(prefix));
    AQ_ASSIGN_OR_RETURN(storage::Listing listing, at.store->List(at.key, delimiter));
    for (auto& meta : listing.objects) {
      meta.key = prefix + meta.key.substr(at.key.size());
    }
    for (auto& sub : listing.prefixes) {
      sub = prefix + sub.substr(at.key.size());
    }
    return listing;
  }
  Status Delete(const std::string& url) override {
    AQ_ASSIGN_OR_RETURN(auto at, registry_->Resolve(url));
    return at.store->Delete(at.key);
  }

 private:
  std::shared_ptr<storage::StoreRegistry> registry_;
};

class ObjectDirTest : public ::testing::TestWithParam<Emulator::Kind> {
 protected:
  void SetUp() override {
    emulator_ = Emulator::Start(GetParam());
    ASSERT_NE(emulator_, nullptr);
    registry_ = std::make_shared<storage::StoreRegistry>();
    AQ_ASSERT_OK(registry_->Register(Url(""), emulator_->Config()));
  }

  std::string Url(const std::string& key) const {
    return std::string(Emulator::Scheme(GetParam())) + "://bucket/" + key;
  }

  FileDestination Dest(const std::string& key, FileFormat format) const {
    FileDestination dest;
    dest.name = "d";
    dest.location = ParseLocation(Url(key));
    dest.format.format = format;
    dest.single_file = false;
    dest.storage_config = emulator_->Config();
    return dest;
  }

  // One run of the destination, on a session of its own (closed when it returns).
  static Result<FileWriteStats> Write(const FileDestination& dest, const std::string& sql) {
    AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Open(Database::Options{}));
    AQ_RETURN_IF_ERROR(session->RegisterObjectStore(dest.location.url, dest.storage_config));
    return WriteFileDestination(session->main(), dest, sql);
  }

  // A run in a child process that dies (exit code 9) when `hook` says so: a kill at that point.
  int WriteInChild(const FileDestination& dest, const std::string& sql,
                   std::function<bool(StoreOp, const std::string&)> die_at) {
    pid_t pid = fork();
    if (pid == 0) {
      storage::ScopedMount mount(
          dest.location.url, std::make_shared<FaultStore>(std::make_shared<UrlStore>(registry_),
                                                          [&](StoreOp op, const std::string& key) {
                                                            if (die_at(op, key)) {
                                                              _exit(9);
                                                            }
                                                            return Status::OK();
                                                          }));
      auto written = Write(dest, sql);
      _exit(written.ok() ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Every object under `key` + "/", relative to it, sorted.
  std::vector<std::string> Objects(const std::string& key) {
    auto at = registry_->Resolve(Url(key));
    EXPECT_TRUE(at.ok()) << at.status().ToString();
    auto listing = at->store->List(at->key + "/");
    EXPECT_TRUE(listing.ok()) << listing.status().ToString();
    std::vector<std::string> out;
    for (const auto& meta : listing.ok() ? listing->objects : std::vector<storage::ObjectMeta>{}) {
      out.push_back(meta.key.substr(at->key.size() + 1));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string Get(const std::string& key) {
    auto at = registry_->Resolve(Url(key));
    auto data = at.ok() ? at->store->Get(at->key) : at.status();
    return data.ok() ? *data : "<" + data.status().ToString() + ">";
  }
  void Put(const std::string& key, const std::string& data) {
    auto at = registry_->Resolve(Url(key));
    ASSERT_TRUE(at.ok());
    AQ_ASSERT_OK(at->store->Put(at->key, data));
  }
  std::set<std::string> Manifest(const std::string& key) {
    storage::ScopedObjectStores scope(Url(key), registry_);
    return ReadManifest(Url(key));
  }
  // The rows of the CSV objects the manifest lists, in one sorted text.
  std::string CsvRows(const std::string& key) {
    std::vector<std::string> lines;
    for (const auto& file : Manifest(key)) {
      std::string text = Get(key + "/" + file);
      size_t start = text.find('\n') + 1;  // after the header
      while (start < text.size()) {
        size_t end = text.find('\n', start);
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
      }
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& line : lines) {
      out += line + "\n";
    }
    return out;
  }

  std::unique_ptr<Emulator> emulator_;
  std::shared_ptr<storage::StoreRegistry> registry_;
};

bool Contains(const std::vector<std::string>& items, const std::string& needle) {
  for (const auto& item : items) {
    if (item.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST_P(ObjectDirTest, ASecondRunReplacesTheFirstAndKeepsForeignObjects) {
  FileDestination dest = Dest("out/parts", FileFormat::kParquet);
  dest.partition_columns = {"p"};
  AQ_ASSERT_OK_AND_ASSIGN(auto first,
                          Write(dest, "SELECT i AS id, i % 3 AS p FROM range(30) t(i)"));
  EXPECT_EQ(first.rows, 30);
  EXPECT_EQ(first.partitions, 3);
  std::set<std::string> first_files = Manifest("out/parts");
  ASSERT_EQ(first_files.size(), 3u);
  for (const auto& file : first_files) {
    EXPECT_TRUE(file.rfind("p=", 0) == 0 && file.find("/part-") != std::string::npos) << file;
  }
  Put("out/parts/notes.txt", "someone else's");
  Put("out/parts/p=1/theirs.bin", "someone else's too");

  AQ_ASSERT_OK_AND_ASSIGN(auto second,
                          Write(dest, "SELECT i AS id, i % 2 AS p FROM range(20) t(i)"));
  EXPECT_EQ(second.rows, 20);
  EXPECT_TRUE(Contains(second.warnings, "holds 2 object(s) this destination did not write"))
      << ::testing::PrintToString(second.warnings);
  std::set<std::string> second_files = Manifest("out/parts");
  ASSERT_EQ(second_files.size(), 2u);
  std::vector<std::string> expected(second_files.begin(), second_files.end());
  expected.insert(expected.end(), {".aqueducts-manifest", "notes.txt", "p=1/theirs.bin"});
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Objects("out/parts"), expected);  // run 1's objects gone, no marker, no staging
  EXPECT_EQ(Get("out/parts/notes.txt"), "someone else's");

  AQ_ASSERT_OK_AND_ASSIGN(auto session, engine::Session::Open(Database::Options{}));
  AQ_ASSERT_OK(session->RegisterObjectStore(dest.location.url, dest.storage_config));
  std::string list;
  for (const auto& file : second_files) {
    list += (list.empty() ? "'" : ", '") + Url("out/parts/" + file) + "'";
  }
  AQ_ASSERT_OK_AND_ASSIGN(auto rows,
                          session->main().Query("SELECT count(*), sum(id), count(DISTINCT p) FROM "
                                                "read_parquet([" +
                                                list + "], hive_partitioning = true)"));
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(*rows.rows[0][0], "20");
  EXPECT_EQ(*rows.rows[0][1], "190");
  EXPECT_EQ(*rows.rows[0][2], "2");
}

TEST_P(ObjectDirTest, ARowCountMismatchPublishesNothingAndRemovesTheNewObjects) {
  FileDestination dest = Dest("out/csv", FileFormat::kCsv);
  AQ_ASSERT_OK(Write(dest, "SELECT i AS id, 'old' AS s FROM range(5) t(i)").status());
  const std::vector<std::string> before = Objects("out/csv");
  const std::set<std::string> old_files = Manifest("out/csv");
  const std::string old_rows = CsvRows("out/csv");
  ASSERT_EQ(old_rows, "0,old\n1,old\n2,old\n3,old\n4,old\n");

  // The run lists its new objects once the COPY is done (the second listing of the run): the
  // fault truncates one of them to its header first, as a store losing data would.
  std::atomic<int> lists{0};
  std::atomic<int> truncated{0};
  storage::ScopedMount mount(
      dest.location.url,
      std::make_shared<FaultStore>(std::make_shared<UrlStore>(registry_), [&](StoreOp op,
                                                                              const std::string&) {
        if (op == StoreOp::kList && ++lists == 2) {
          for (const auto& object : Objects("out/csv")) {
            if (object.rfind("part-", 0) == 0 && old_files.count(object) == 0 && truncated++ == 0) {
              Put("out/csv/" + object, "id,s\n");
            }
          }
        }
        return Status::OK();
      }));
  auto written = Write(dest, "SELECT i AS id, 'new' AS s FROM range(7) t(i)");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(truncated.load(), 1);
  EXPECT_NE(written.status().message().find("the query produced 7 rows"), std::string::npos)
      << written.status().ToString();
  EXPECT_NE(written.status().message().find("nothing was published"), std::string::npos);
  EXPECT_EQ(Objects("out/csv"), before);  // no new object, no marker
  EXPECT_EQ(Manifest("out/csv"), old_files);
  EXPECT_EQ(CsvRows("out/csv"), old_rows);
}

TEST_P(ObjectDirTest, ARunKilledBeforeItsManifestLeavesThePreviousOutputAndIsCleanedUp) {
  FileDestination dest = Dest("out/killed", FileFormat::kCsv);
  AQ_ASSERT_OK(Write(dest, "SELECT i AS id, 'old' AS s FROM range(5) t(i)").status());
  const std::set<std::string> old_files = Manifest("out/killed");
  const std::string old_rows = CsvRows("out/killed");
  const std::string manifest_url = Url("out/killed/.aqueducts-manifest");

  int code = WriteInChild(dest, "SELECT i AS id, 'new' AS s FROM range(7) t(i)",
                          [&](StoreOp op, const std::string& key) {
                            return op == StoreOp::kPut && key == manifest_url;
                          });
  ASSERT_EQ(code, 9);
  // The previous output is whole; the dead run's objects and marker are there beside it.
  EXPECT_EQ(Manifest("out/killed"), old_files);
  EXPECT_EQ(CsvRows("out/killed"), old_rows);
  std::vector<std::string> left = Objects("out/killed");
  EXPECT_TRUE(Contains(left, kPendingMarkerPrefix)) << ::testing::PrintToString(left);
  size_t strays = 0;
  for (const auto& object : left) {
    strays += object.rfind("part-", 0) == 0 && old_files.count(object) == 0;
  }
  EXPECT_GE(strays, 1u) << ::testing::PrintToString(left);

  AQ_ASSERT_OK_AND_ASSIGN(auto next, Write(dest, "SELECT i AS id, 'next' AS s FROM range(3) t(i)"));
  EXPECT_TRUE(Contains(next.warnings, "by an interrupted run"))
      << ::testing::PrintToString(next.warnings);
  EXPECT_FALSE(Contains(next.warnings, "did not write")) << ::testing::PrintToString(next.warnings);
  std::set<std::string> files = Manifest("out/killed");
  std::vector<std::string> expected(files.begin(), files.end());
  expected.insert(expected.begin(), ".aqueducts-manifest");
  EXPECT_EQ(Objects("out/killed"), expected);
  EXPECT_EQ(CsvRows("out/killed"), "0,next\n1,next\n2,next\n");
}

TEST_P(ObjectDirTest, ARunKilledAfterItsManifestHasItsPredecessorsRemovedByTheNextRun) {
  FileDestination dest = Dest("out/committed", FileFormat::kCsv);
  AQ_ASSERT_OK(Write(dest, "SELECT i AS id, 'old' AS s FROM range(5) t(i)").status());
  const std::set<std::string> old_files = Manifest("out/committed");

  // Dies at the first deletion of an object of the previous run, just after the commit.
  int code = WriteInChild(dest, "SELECT i AS id, 'new' AS s FROM range(7) t(i)",
                          [&](StoreOp op, const std::string& key) {
                            return op == StoreOp::kDelete &&
                                   key.find("/out/committed/part-") != std::string::npos;
                          });
  ASSERT_EQ(code, 9);
  std::set<std::string> committed = Manifest("out/committed");
  EXPECT_NE(committed, old_files);
  EXPECT_EQ(CsvRows("out/committed"), "0,new\n1,new\n2,new\n3,new\n4,new\n5,new\n6,new\n");
  std::vector<std::string> left = Objects("out/committed");
  for (const auto& old : old_files) {
    EXPECT_TRUE(std::count(left.begin(), left.end(), old) == 1) << old << " was deleted";
  }

  AQ_ASSERT_OK_AND_ASSIGN(auto next, Write(dest, "SELECT i AS id, 'next' AS s FROM range(3) t(i)"));
  EXPECT_FALSE(Contains(next.warnings, "did not write")) << ::testing::PrintToString(next.warnings);
  std::set<std::string> files = Manifest("out/committed");
  std::vector<std::string> expected(files.begin(), files.end());
  expected.insert(expected.begin(), ".aqueducts-manifest");
  EXPECT_EQ(Objects("out/committed"), expected);  // the first run's objects went too
}

INSTANTIATE_TEST_SUITE_P(Stores, ObjectDirTest,
                         ::testing::Values(Emulator::Kind::kS3, Emulator::Kind::kAzure,
                                           Emulator::Kind::kGcs),
                         [](const ::testing::TestParamInfo<Emulator::Kind>& param) {
                           return std::string(Emulator::Name(param.param));
                         });

}  // namespace
}  // namespace aqueducts::io

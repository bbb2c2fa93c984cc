// `aqueducts storage uploads URL [--abort] [--older-than D]` against the emulators: on S3 (s3rver
// with start.js's emulation of ListMultipartUploads and AbortMultipartUpload, turned on by the
// test), uploads left pending as a killed writer leaves them are listed under the prefix only,
// a dry run aborts nothing, --abort aborts those old enough and no other; on GCS (gcs.js) an
// abort of everything; on Azure the command says there is nothing of the kind; s3rver's own
// refusal of the listing is a clear error.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "cli_harness.h"
#include "emulator.h"
#include "storage/http_client.h"
#include "storage/object_url.h"
#include "storage/pending_uploads.h"
#include "storage/store_registry.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

class CliStorageUploadsTest : public ::testing::Test {
 protected:
  // The store of `url`'s bucket on `emulator`.
  std::shared_ptr<storage::ObjectStore> Store(const Emulator& emulator, const std::string& url) {
    auto parsed = storage::ParseObjectUrl(url);
    EXPECT_TRUE(parsed.ok());
    auto store = storage::OpenStore(*parsed, emulator.Config());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? *store : nullptr;
  }

  // An upload left as a killed writer leaves it: started, one part sent, never completed.
  void Leave(storage::ObjectStore& store, const std::string& key) {
    auto upload = store.StartUpload(key);
    ASSERT_TRUE(upload.ok()) << upload.status().ToString();
    AQ_ASSERT_OK((*upload)->UploadPart(std::string(1024, 'x')));
    (void)upload->release();  // never completed, never aborted
  }

  // The keys of the pending uploads of the store under `prefix`.
  std::multiset<std::string> Pending(storage::ObjectStore& store, const std::string& prefix) {
    std::multiset<std::string> keys;
    auto uploads = storage::PendingUploadsOf(store)->ListUploads(prefix);
    EXPECT_TRUE(uploads.ok()) << uploads.status().ToString();
    if (uploads.ok()) {
      for (const auto& upload : *uploads) {
        keys.insert(upload.key);
      }
    }
    return keys;
  }

  // `aqueducts storage uploads ARGS` with the emulator's keys as --storage-config arguments.
  CliResult Uploads(const Emulator& emulator, std::vector<std::string> args) {
    args.insert(args.begin(), {"storage", "uploads"});
    for (const auto& [key, value] : emulator.Config()) {
      args.insert(args.end(), {"--storage-config", key + "=" + value});
    }
    return RunCli(args);
  }
};

TEST_F(CliStorageUploadsTest, S3ListsThePrefixsUploadsAndAbortsOnlyOldOnes) {
  auto s3 = Emulator::Start(Emulator::Kind::kS3);
  ASSERT_NE(s3, nullptr);
  storage::HttpRequest enable;
  enable.method = "PUT";
  enable.url = s3->endpoint() + "/_aqueducts_test/uploads-api";
  AQ_ASSERT_OK_AND_ASSIGN(auto enabled, storage::HttpSend(enable));
  ASSERT_EQ(enabled.status, 204);
  auto store = Store(*s3, "s3://bucket/");
  ASSERT_NE(store, nullptr);
  Leave(*store, "stale/a.csv");
  Leave(*store, "stale/b.csv");
  Leave(*store, "other/c.csv");
  // a.csv's upload started two days ago (s3rver's record of it is its "key" file).
  int moved = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(s3->dir()) / "bucket/._S3rver_uploads")) {
    std::ifstream in(entry.path() / "key");
    std::stringstream key;
    key << in.rdbuf();
    if (key.str() == "stale/a.csv") {
      fs::last_write_time(entry.path() / "key",
                          fs::file_time_type::clock::now() - std::chrono::hours(48));
      ++moved;
    }
  }
  ASSERT_EQ(moved, 1);

  CliResult dry = Uploads(*s3, {"s3://bucket/stale/"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  EXPECT_NE(dry.out.find("would abort s3://bucket/stale/a.csv (upload "), std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("2d ago)"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("keeping s3://bucket/stale/b.csv"), std::string::npos) << dry.out;
  EXPECT_EQ(dry.out.find("other/c.csv"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("2 pending upload(s) under s3://bucket/stale/, 1 started 24h ago or "
                         "more; nothing aborted"),
            std::string::npos)
      << dry.out;
  EXPECT_EQ(Pending(*store, ""),
            (std::multiset<std::string>{"other/c.csv", "stale/a.csv", "stale/b.csv"}));

  CliResult aborted = Uploads(*s3, {"s3://bucket/stale/", "--abort"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.all();
  EXPECT_NE(aborted.out.find("aborted s3://bucket/stale/a.csv"), std::string::npos) << aborted.out;
  EXPECT_NE(aborted.out.find("Aborted 1 of 2 pending upload(s)"), std::string::npos) << aborted.out;
  EXPECT_EQ(Pending(*store, ""), (std::multiset<std::string>{"other/c.csv", "stale/b.csv"}));

  CliResult all = Uploads(*s3, {"--abort", "--older-than", "0", "s3://bucket/stale/"});
  ASSERT_EQ(all.exit_code, 0) << all.all();
  EXPECT_NE(all.out.find("Aborted 1 of 1 pending upload(s)"), std::string::npos) << all.out;
  EXPECT_EQ(Pending(*store, ""), (std::multiset<std::string>{"other/c.csv"}));

  CliResult bad = Uploads(*s3, {"s3://bucket/stale/", "--older-than", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2) << bad.all();
  EXPECT_NE(bad.all().find("--older-than"), std::string::npos) << bad.all();
  CliResult local = RunCli({"storage", "uploads", "/tmp"});
  EXPECT_EQ(local.exit_code, 2) << local.all();
  EXPECT_NE(local.all().find("s3://, gs:// or az://"), std::string::npos) << local.all();

  // s3rver as it is answers ListMultipartUploads with 501: a clear error naming the prefix.
  auto plain = Emulator::Start(Emulator::Kind::kS3);
  ASSERT_NE(plain, nullptr);
  CliResult refused = Uploads(*plain, {"s3://bucket/stale/"});
  EXPECT_EQ(refused.exit_code, 1) << refused.all();
  EXPECT_NE(refused.all().find("ListMultipartUploads"), std::string::npos) << refused.all();
  EXPECT_NE(refused.all().find("s3://bucket/stale/"), std::string::npos) << refused.all();
}

TEST_F(CliStorageUploadsTest, GcsAbortsAndAzureHasNothingToList) {
  auto gcs = Emulator::Start(Emulator::Kind::kGcs);
  ASSERT_NE(gcs, nullptr);
  auto store = Store(*gcs, "gs://bucket/");
  ASSERT_NE(store, nullptr);
  Leave(*store, "x/y.csv");
  Leave(*store, "z.csv");
  CliResult dry = Uploads(*gcs, {"gs://bucket/x/", "--older-than", "0"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  EXPECT_NE(dry.out.find("would abort gs://bucket/x/y.csv"), std::string::npos) << dry.out;
  CliResult aborted = Uploads(*gcs, {"gs://bucket/x/", "--older-than", "0", "--abort"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.all();
  EXPECT_NE(aborted.out.find("Aborted 1 of 1 pending upload(s)"), std::string::npos) << aborted.out;
  EXPECT_EQ(Pending(*store, ""), (std::multiset<std::string>{"z.csv"}));

  auto azure = Emulator::Start(Emulator::Kind::kAzure);
  ASSERT_NE(azure, nullptr);
  CliResult none = Uploads(*azure, {"az://bucket/x/", "--abort"});
  EXPECT_EQ(none.exit_code, 0) << none.all();
  EXPECT_NE(none.out.find("Azure Blob keeps no pending uploads"), std::string::npos) << none.out;
}

}  // namespace
}  // namespace aqueducts::testing

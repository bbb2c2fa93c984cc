// The local file system implementation of the storage seam: the same contract as the object
// stores (storage_test.cc), plus atomic rename and the put-if-absent race.

#include "storage/local_store.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fault_store.h"
#include "storage/mounts.h"
#include "temp_dir.h"
#include "testing.h"

namespace aqueducts::storage {
namespace {

using ::aqueducts::testing::TempDir;

TEST(LocalStoreTest, PutHeadGetRangeDelete) {
  TempDir dir;
  auto store = MakeLocalStore(dir.path());
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(i * 7);
  }
  std::string key = "dir/k=a%2Fb/sp ace/ü.bin";  // parents are created, as on an object store
  AQ_ASSERT_OK(store->Put(key, data));
  auto meta = store->Head(key);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->size, data.size());
  EXPECT_FALSE(meta->etag.empty());
  EXPECT_GT(ModifiedMillis(*meta), 0);
  EXPECT_EQ(*store->Get(key), data);
  std::string part(1000, '\0');
  auto n = store->GetRange(key, 99500, 1000, part.data());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 500u);
  EXPECT_EQ(part.substr(0, 500), data.substr(99500));
  AQ_ASSERT_OK(store->Delete(key));
  EXPECT_EQ(store->Head(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Get(key).status().code(), StatusCode::kNotFound);
  AQ_EXPECT_OK(store->Delete(key));
}

TEST(LocalStoreTest, ListsWithPrefixAndDelimiter) {
  TempDir dir;
  auto store = MakeLocalStore(dir.path());
  for (int i = 0; i < 40; ++i) {
    AQ_ASSERT_OK(store->Put("many/f" + std::to_string(i), "x"));
  }
  AQ_ASSERT_OK(store->Put("many/sub/a", "y"));
  AQ_ASSERT_OK(store->Put("manyother", "z"));
  auto all = store->List("many/", "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->objects.size(), 41u);
  auto shallow = store->List("many/", "/");
  ASSERT_TRUE(shallow.ok());
  EXPECT_EQ(shallow->objects.size(), 40u);
  ASSERT_EQ(shallow->prefixes.size(), 1u);
  EXPECT_EQ(shallow->prefixes[0], "many/sub/");
  auto by_name = store->List("many", "");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->objects.size(), 42u);  // "many..." includes manyother
  EXPECT_TRUE(store->List("missing/", "/")->objects.empty());
}

TEST(LocalStoreTest, UploadAppearsOnlyOnComplete) {
  TempDir dir;
  auto store = MakeLocalStore(dir.path());
  {
    auto upload = store->StartUpload("big.bin");
    ASSERT_TRUE(upload.ok());
    AQ_ASSERT_OK((*upload)->UploadPart("abc"));
    AQ_ASSERT_OK((*upload)->UploadPart("def"));
    EXPECT_FALSE(store->Head("big.bin").ok());
    AQ_ASSERT_OK((*upload)->Complete());
  }
  EXPECT_EQ(*store->Get("big.bin"), "abcdef");
  {
    auto upload = store->StartUpload("abandoned.bin");
    ASSERT_TRUE(upload.ok());
    AQ_ASSERT_OK((*upload)->UploadPart("x"));
  }
  EXPECT_EQ(store->Head("abandoned.bin").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->List("", "/")->objects.size(), 1u);  // no temporary left behind
}

TEST(LocalStoreTest, PutIfAbsentHasExactlyOneWinnerAcrossThreads) {
  TempDir dir;
  auto store = MakeLocalStore(dir.path());
  std::atomic<int> winners{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Status s = store->PutIfAbsent("_delta_log/00000000000000000001.json", std::to_string(t));
      if (s.ok()) {
        winners++;
      } else if (s.code() == StatusCode::kConflict) {
        conflicts++;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
  // Only the committed file: every loser's temporary is gone.
  EXPECT_EQ(store->List("_delta_log/", "/")->objects.size(), 1u);
}

TEST(LocalStoreTest, RenamePublishesDirectoriesAndDeleteAllRemovesTrees) {
  TempDir dir;
  auto store = MakeLocalStore(dir.path());
  AQ_ASSERT_OK(store->Put("tmp/a/b.txt", "new"));
  AQ_ASSERT_OK(store->Put("out/old.txt", "old"));
  AQ_ASSERT_OK(store->DeleteAll("out"));
  AQ_ASSERT_OK(store->Rename("tmp", "out"));
  EXPECT_EQ(*store->Get("out/a/b.txt"), "new");
  EXPECT_EQ(store->Head("tmp").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store->Rename("missing", "elsewhere").ok());
  AQ_EXPECT_OK(store->DeleteAll("missing"));
}

TEST(LocalStoreTest, AMountedStoreServesItsDirectoryOnly) {
  TempDir dir;
  int seen = 0;
  auto count = [&seen](::aqueducts::testing::StoreOp, const std::string&) {
    seen++;
    return Status::IoError("injected");
  };
  {
    ScopedMount mount(dir.str() + "/faulty",
                      std::make_shared<::aqueducts::testing::FaultStore>(LocalFileSystem(), count));
    auto inside = StoreForPath(dir.str() + "/faulty/x");
    ASSERT_TRUE(inside.ok());
    EXPECT_EQ(inside->store->Put(inside->key, "x").message(), "injected");
    auto outside = StoreForPath(dir.str() + "/faultyness");
    ASSERT_TRUE(outside.ok());
    EXPECT_EQ(outside->store, LocalFileSystem());
  }
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(StoreForPath(dir.str() + "/faulty/x")->store, LocalFileSystem());
}

}  // namespace
}  // namespace aqueducts::storage

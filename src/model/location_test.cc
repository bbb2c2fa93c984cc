#include <filesystem>

#include <gtest/gtest.h>

#include "aqueducts/model.h"

#include "testing.h"

namespace aqueducts {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(LocationTest, KeepsUrls) {
  Location https = ParseLocation("https://example.com/data.csv");
  EXPECT_EQ(https.Scheme(), "https");
  EXPECT_EQ(https.url, "https://example.com/data.csv");
  EXPECT_FALSE(https.IsLocal());
  EXPECT_EQ(https.LocalPath(), "");

  Location s3 = ParseLocation("s3://my-bucket/data.csv");
  EXPECT_EQ(s3.Scheme(), "s3");
  EXPECT_EQ(s3.url, "s3://my-bucket/data.csv");
  EXPECT_EQ(ParseLocation("gs://bucket/object").Scheme(), "gs");
  EXPECT_EQ(ParseLocation("azure://container/blob").Scheme(), "azure");
  EXPECT_EQ(ParseLocation("S3://b/k").Scheme(), "s3");
  EXPECT_EQ(ParseLocation("file:///tmp/x.csv").LocalPath(), "/tmp/x.csv");
}

TEST(LocationTest, AbsolutePathBecomesFileUrl) {
  Location location = ParseLocation("/tmp/data.csv");
  EXPECT_EQ(location.Scheme(), "file");
  EXPECT_EQ(location.url, "file:///tmp/data.csv");
  EXPECT_EQ(location.LocalPath(), "/tmp/data.csv");
  EXPECT_EQ(ParseLocation("/absolute/path.json").Scheme(), "file");
}

TEST(LocationTest, RelativePathJoinsBaseDirOrCwd) {
  Location location = ParseLocation("./data.csv");
  EXPECT_EQ(location.Scheme(), "file");
  EXPECT_TRUE(EndsWith(location.url, "/data.csv")) << location.url;
  EXPECT_EQ(location.LocalPath(), std::filesystem::current_path().string() + "/data.csv");

  EXPECT_EQ(ParseLocation("./data/input.csv", "/base/dir").url, "file:///base/dir/data/input.csv");
  EXPECT_EQ(ParseLocation("../x/y.csv", "/base/dir").url, "file:///base/x/y.csv");
  EXPECT_EQ(ParseLocation("local.csv", "/b").url, "file:///b/local.csv");
}

TEST(LocationTest, PercentEncodesAndDecodes) {
  Location location = ParseLocation("/tmp/my data/${x}%.csv");
  EXPECT_EQ(location.url, "file:///tmp/my%20data/$%7Bx%7D%25.csv");
  EXPECT_EQ(location.LocalPath(), "/tmp/my data/${x}%.csv");
  // Untemplated parameters are still a (relative) path, as in the original.
  Location raw = ParseLocation("${local_path}/a.csv", "/w");
  EXPECT_EQ(raw.Scheme(), "file");
  EXPECT_EQ(raw.LocalPath(), "/w/${local_path}/a.csv");
}

TEST(LocationTest, WindowsDrivePathIsAFile) {
  Location location = ParseLocation("C:\\temp\\data.csv");
  EXPECT_EQ(location.Scheme(), "file");
  EXPECT_EQ(location.url, "file:///C:/temp/data.csv");
  EXPECT_EQ(ParseLocation("d:/x.csv").Scheme(), "file");
}

}  // namespace
}  // namespace aqueducts

// Object-store uploads report their bytes as progress, against the S3, Azure and GCS emulators:
// an object written in several parts (DuckDB's writes are sent in parts of 8 MiB) carries the
// bytes uploaded so far on the destination's stage_progress events, growing while it is written
// and ending, with percent 100, at the size of the object the store holds.
#include <string>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "emulator.h"
#include "storage/store_registry.h"
#include "testing.h"

namespace aqueducts {
namespace {

using ::aqueducts::testing::Emulator;
using Type = ProgressEvent::Type;

// About 41 bytes a row as CSV: some 25 MB, three or four parts.
constexpr int64_t kRows = 600'000;

class UploadProgressTest : public ::testing::TestWithParam<Emulator::Kind> {};

TEST_P(UploadProgressTest, AnObjectWriteReportsTheBytesItUploads) {
  auto emulator = Emulator::Start(GetParam());
  ASSERT_NE(emulator, nullptr);
  const std::string url =
      std::string(Emulator::Scheme(GetParam())) + "://bucket/progress/uploaded.csv";
  Aqueduct aq;
  aq.stages = {{{.name = "rows",
                 .query = "SELECT range AS id, md5(range::VARCHAR) AS h FROM range(" +
                          std::to_string(kRows) + ")"}}};
  FileDestination destination{
      .name = "out", .location = ParseLocation(url), .format = {.format = FileFormat::kCsv}};
  destination.single_file = true;
  destination.storage_config = emulator->Config();
  aq.destination = destination;
  RunOptions options;
  options.progress_interval_ms = 10;
  RecordingSink sink;
  AQ_ASSERT_OK(RunPipeline(aq, options, &sink));

  storage::StoreRegistry registry;
  AQ_ASSERT_OK(registry.Register(url, emulator->Config()));
  auto object = registry.Resolve(url);
  AQ_ASSERT_OK(object.status());
  auto meta = object->store->Head(object->key);
  AQ_ASSERT_OK(meta.status());
  const auto size = static_cast<int64_t>(meta->size);
  ASSERT_GT(size, int64_t{16} << 20) << "the object must take several parts";

  std::vector<ProgressEvent> progress;
  for (const auto& event : sink.events()) {
    if (event.type == Type::kStageProgress && event.name == "out") {
      progress.push_back(event);
    }
  }
  ASSERT_FALSE(progress.empty());
  int64_t last_bytes = -1;
  bool mid_upload = false;  // a report after a part went out and before the last one
  for (const auto& event : progress) {
    EXPECT_GE(event.bytes, last_bytes) << "uploaded bytes went down";
    EXPECT_LE(event.bytes, size);
    mid_upload |= event.bytes > 0 && event.bytes < size;
    last_bytes = event.bytes;
  }
  EXPECT_TRUE(mid_upload) << "no report of the bytes uploaded while the object was written";
  EXPECT_EQ(progress.back().percent, 100);
  EXPECT_EQ(progress.back().bytes, size);
  EXPECT_EQ(progress.back().rows, kRows);
}

INSTANTIATE_TEST_SUITE_P(Stores, UploadProgressTest,
                         ::testing::Values(Emulator::Kind::kS3, Emulator::Kind::kAzure,
                                           Emulator::Kind::kGcs),
                         [](const ::testing::TestParamInfo<Emulator::Kind>& param) {
                           return std::string(Emulator::Name(param.param));
                         });

}  // namespace
}  // namespace aqueducts

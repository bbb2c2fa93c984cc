// A cancel during a long write, for every destination kind that writes through DuckDB: the run
// ends promptly as cancelled, and the destination keeps what the previous run wrote.

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "cancel_probe.h"
#include "testing.h"

namespace aqueducts {
namespace {

namespace fs = std::filesystem;
using Type = ProgressEvent::Type;

// Rows for minutes unless interrupted; `part` has 4 values, `id` is unique.
constexpr const char* kEndless =
    "SELECT range AS id, range % 4 AS part, 'row ' || range AS pad FROM range(4000000000)";
constexpr const char* kSmall =
    "SELECT range AS id, range % 4 AS part, 'row ' || range AS pad FROM range(10)";

class CancelWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("aq_cancel_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    fs::create_directories(dir_);
    AQ_ASSERT_OK_AND_ASSIGN(db_, Database::Open());
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Aqueduct Pipeline(const char* query, Destination destination) {
    Aqueduct aq;
    aq.stages = {{{.name = "data", .query = query}}};
    aq.destination = std::move(destination);
    return aq;
  }

  // The run writes the small data, then a run writing endless data is cancelled mid-write.
  void ExpectCancelKeepsPrevious(const Destination& destination,
                                 const std::function<std::string()>& contents) {
    RunOptions options;
    options.database = db_.get();
    AQ_ASSERT_OK(RunPipeline(Pipeline(kSmall, destination), options, nullptr));
    const std::string before = contents();
    ASSERT_FALSE(before.empty());
    auto run = testing::CancelDuringWrite(Pipeline(kEndless, destination), options,
                                          DestinationName(destination));
    ASSERT_TRUE(run.cancel_sent) << run.status.ToString();
    EXPECT_EQ(run.status.code(), StatusCode::kCancelled) << run.status.ToString();
    ASSERT_FALSE(run.events.empty());
    EXPECT_EQ(run.events.back().type, Type::kCancelled);
    // Generous bound: the interrupt itself takes milliseconds.
    EXPECT_LT(run.after_cancel.count(), 2000);
    EXPECT_EQ(contents(), before);
  }

  // Every file under `root` (relative path -> bytes), so a changed or added file shows.
  static std::string Tree(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file()) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        files[fs::relative(entry.path(), root).string()] = bytes.str();
      }
    }
    std::string out;
    for (const auto& [path, bytes] : files) {
      out += path + " " + std::to_string(bytes.size()) + " " +
             std::to_string(std::hash<std::string>()(bytes)) + "\n";
    }
    return out;
  }

  // The rows of a Delta table, read by a pipeline (the Delta source) on a fresh database.
  static std::string DeltaRows(const fs::path& root) {
    Aqueduct aq;
    aq.sources = {DeltaSource{.name = "t", .location = ParseLocation(root.string())}};
    aq.stages = {{{.name = "rows", .query = "SELECT * FROM t"}}};
    aq.destination = InMemoryDestination{.name = "copy"};
    auto db = Database::Open();
    if (!db.ok()) {
      return db.status().ToString();
    }
    RunOptions options;
    options.database = db->get();
    Status status = RunPipeline(aq, options, nullptr);
    if (!status.ok()) {
      return status.ToString();
    }
    auto rows = (*db)->Query("SELECT id, part, pad FROM copy ORDER BY id");
    if (!rows.ok()) {
      return rows.status().ToString();
    }
    std::string out;
    for (const auto& row : rows->rows) {
      for (const auto& value : row) {
        out += value.value_or("NULL") + "|";
      }
      out += "\n";
    }
    return out;
  }

  DeltaDestination Delta(const fs::path& root, DeltaWriteMode mode) {
    return DeltaDestination{.name = "table",
                            .location = ParseLocation(root.string()),
                            .write_mode = std::move(mode),
                            .schema = {{.name = "id", .data_type = {.id = TypeId::kInt64}},
                                       {.name = "part", .data_type = {.id = TypeId::kInt64}},
                                       {.name = "pad", .data_type = {.id = TypeId::kUtf8}}}};
  }

  // The Delta table after the small run, and its log: a cancelled write commits nothing.
  std::function<std::string()> DeltaContents(const fs::path& root) {
    return [root] { return DeltaRows(root) + Tree(root / "_delta_log"); };
  }

  fs::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(CancelWriteTest, SingleFile) {
  fs::path out = dir_ / "out.parquet";
  ExpectCancelKeepsPrevious(FileDestination{.name = "out",
                                            .location = ParseLocation(out.string()),
                                            .format = {.format = FileFormat::kParquet}},
                            [&] { return Tree(dir_); });
}

TEST_F(CancelWriteTest, PartitionedDirectory) {
  fs::path out = dir_ / "parts";
  ExpectCancelKeepsPrevious(FileDestination{.name = "out",
                                            .location = ParseLocation(out.string()),
                                            .format = {.format = FileFormat::kCsv},
                                            .partition_columns = {"part"}},
                            [&] { return Tree(dir_); });
}

TEST_F(CancelWriteTest, InMemory) {
  ExpectCancelKeepsPrevious(InMemoryDestination{.name = "kept"}, [&] {
    auto rows = db_->Query("SELECT count(*), sum(id), min(pad) FROM kept");
    return rows.ok() ? *rows->rows[0][0] + " " + *rows->rows[0][1] + " " + *rows->rows[0][2]
                     : rows.status().ToString();
  });
}

TEST_F(CancelWriteTest, DeltaAppend) {
  fs::path root = dir_ / "append";
  ExpectCancelKeepsPrevious(Delta(root, {}), DeltaContents(root));
}

TEST_F(CancelWriteTest, DeltaReplace) {
  fs::path root = dir_ / "replace";
  ExpectCancelKeepsPrevious(Delta(root, {.operation = DeltaWriteMode::Operation::kReplace}),
                            DeltaContents(root));
}

TEST_F(CancelWriteTest, DeltaUpsert) {
  fs::path root = dir_ / "upsert";
  ExpectCancelKeepsPrevious(
      Delta(root, {.operation = DeltaWriteMode::Operation::kUpsert, .upsert_keys = {"id"}}),
      DeltaContents(root));
}

}  // namespace
}  // namespace aqueducts

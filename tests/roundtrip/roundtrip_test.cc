// The round-trip suite: one table with every type and edge value is written by a real pipeline
// through every file destination format and layout, read back by a second pipeline through the
// matching source, and compared with the original in DuckDB (EXCEPT ALL both ways). Values that
// a format cannot carry are listed in docs/file-outputs.md and asserted here as lost.

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <unistd.h>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "edge_table.h"
#include "testing.h"

namespace aqueducts {
namespace {

namespace fs = std::filesystem;

enum class Layout { kSingleFile, kDirectory, kPartitioned };

struct Case {
  std::string format;  // csv, parquet, json
  Layout layout;
  std::set<std::string> lost;  // columns that do not come back equal (docs/file-outputs.md)
};

class RoundTrip : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aq_roundtrip_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    AQ_ASSERT_OK_AND_ASSIGN(db_, Database::Open());
    AQ_ASSERT_OK(db_->Execute("SET TimeZone = 'UTC'"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  Status Run(const std::string& yaml, const std::string& first_query = "") {
    AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct, LoadAqueductFromString(yaml, Format::kYaml));
    if (!first_query.empty()) {
      aqueduct.stages[0][0].query = first_query;
    }
    RunOptions options;
    options.database = db_.get();
    return RunPipeline(aqueduct, options, nullptr);
  }
  std::string Count(const std::string& sql) {
    auto rows = db_->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
    return rows.ok() && !rows->rows.empty() && rows->rows[0][0] ? *rows->rows[0][0] : "?";
  }

  fs::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_P(RoundTrip, EveryValueComesBack) {
  const Case& c = GetParam();
  std::string location = (dir_ / "out").string();
  std::string destination =
      "destination:\n  type: file\n  name: out\n  format: {type: " + c.format +
      ", options: {}}\n  location: " + location;
  if (c.layout == Layout::kSingleFile) {
    location += "." + c.format;
    destination =
        "destination:\n  type: file\n  name: out\n  single_file: true\n  format: "
        "{type: " +
        c.format + ", options: {}}\n  location: " + location;
  } else if (c.layout == Layout::kPartitioned) {
    destination += "\n  partition_columns: [s]";
  } else {
    destination += "\n  single_file: false";
  }
  // The stage's SQL is set after loading, so that no YAML quoting touches the edge values.
  std::string write =
      "sources: []\nstages:\n  - - name: edge\n      query: SELECT 1\n" + destination + "\n";
  AQ_ASSERT_OK(Run(write, kEdgeTable));

  std::string source =
      "  - type: " + std::string(c.layout == Layout::kSingleFile ? "file" : "directory") +
      "\n    name: back_src\n    format: {type: " + c.format + ", options: {schema: " + kSchema +
      "}}\n    location: " + location + "\n";
  if (c.layout == Layout::kPartitioned) {
    // The partition column is not in the files: declared as a partition column instead.
    std::string schema = kSchema;
    schema.replace(schema.find("{name: s, type: string}, "), 25, "");
    source = "  - type: directory\n    name: back_src\n    format: {type: " + c.format +
             ", options: {schema: " + schema + "}}\n    partition_columns: [[s, string]]\n" +
             "    location: " + location + "\n";
  }
  std::string read = "sources:\n" + source + "stages:\n  - - name: result\n      query: SELECT " +
                     kColumns + " FROM back_src\ndestination: {type: in_memory, name: back}\n";
  AQ_ASSERT_OK(Run(read));

  EXPECT_EQ(Count("SELECT count(*) FROM back"), "12");
  // Column by column, so a loss names the column.
  std::string all = kColumns;
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find(", ", start);
    std::string column = all.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? all.size() : end + 2;
    if (column == "id") {
      continue;
    }
    std::string mine = "SELECT id, " + column + " FROM back";
    std::string theirs = std::string("SELECT id, ") + column + " FROM (" + kEdgeTable + ")";
    std::string diff = Count("SELECT count(*) FROM ((" + mine + " EXCEPT ALL " + theirs +
                             ") UNION ALL (" + theirs + " EXCEPT ALL " + mine + "))");
    if (c.lost.count(column) != 0) {
      EXPECT_NE(diff, "0") << column << " is listed as lost for " << c.format
                           << " in docs/file-outputs.md but came back equal";
    } else {
      EXPECT_EQ(diff, "0") << column << " did not round-trip through " << c.format;
    }
  }
}

std::string Name(const ::testing::TestParamInfo<Case>& info) {
  const char* layout[] = {"single", "directory", "partitioned"};
  return info.param.format + "_" + layout[static_cast<int>(info.param.layout)];
}

INSTANTIATE_TEST_SUITE_P(
    Formats, RoundTrip,
    ::testing::Values(Case{"parquet", Layout::kSingleFile, {}},
                      Case{"parquet", Layout::kDirectory, {}},
                      Case{"parquet", Layout::kPartitioned, {}},
                      Case{"csv", Layout::kSingleFile, {}}, Case{"csv", Layout::kDirectory, {}},
                      Case{"csv", Layout::kPartitioned, {}}, Case{"json", Layout::kSingleFile, {}},
                      Case{"json", Layout::kDirectory, {}}, Case{"json", Layout::kPartitioned, {}}),
    Name);

}  // namespace
}  // namespace aqueducts

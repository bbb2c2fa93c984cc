// File destinations on object stores (S3, Azure and GCS emulators started by the test), by real
// pipeline runs: every format in every destination kind; a partitioned Parquet directory and a
// CSV directory of the edge-value table
// are written to the store and to a local directory, read back by directory sources, and
// compared in DuckDB (EXCEPT ALL both ways) with the original and with the local run. A second
// run replaces the first and leaves an object it did not write alone; a run whose stage fails
// while the destination is being written leaves the previous output as it was.

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <unistd.h>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "edge_table.h"
#include "emulator.h"
#include "storage/store_registry.h"
#include "testing.h"

namespace aqueducts {
namespace {

namespace fs = std::filesystem;
using testing::Emulator;

std::string ConfigYaml(const std::map<std::string, std::string>& config) {
  std::string out = "{";
  for (const auto& [key, value] : config) {
    out += (out.size() > 1 ? ", " : "") + key + ": '" + value + "'";
  }
  return out + "}";
}

struct Layout {
  std::string format;        // parquet, csv, json
  bool partitioned;          // by the string column s
  bool single_file = false;  // one object (`file` destination and source), not a directory
};

class ObjectStoreRoundTrip : public ::testing::TestWithParam<Emulator::Kind> {
 protected:
  void SetUp() override {
    emulator_ = Emulator::Start(GetParam());
    ASSERT_NE(emulator_, nullptr);
    dir_ = fs::temp_directory_path() / ("aq_objrt_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    AQ_ASSERT_OK_AND_ASSIGN(db_, Database::Open());
    AQ_ASSERT_OK(db_->Execute("SET TimeZone = 'UTC'"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Url(const std::string& key) const {
    return std::string(Emulator::Scheme(GetParam())) + "://bucket/" + key;
  }
  std::string Config() const { return ConfigYaml(emulator_->Config()); }

  Status Run(const std::string& yaml, const std::string& first_query = "") {
    AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct, LoadAqueductFromString(yaml, Format::kYaml));
    if (!first_query.empty()) {
      aqueduct.stages[0][0].query = first_query;  // no YAML quoting touches the edge values
    }
    RunOptions options;
    options.database = db_.get();
    return RunPipeline(aqueduct, options, nullptr);
  }

  // Write `query`'s rows to `location` (with `config`) in `layout`.
  Status Write(const Layout& layout, const std::string& location, const std::string& config,
               const std::string& query) {
    std::string yaml =
        "sources: []\nstages:\n  - - name: edge\n      query: SELECT 1\n"
        "destination:\n  type: file\n  name: out\n  format: {type: " +
        layout.format + ", options: {}}\n  location: '" + location +
        "'\n  storage_config: " + config + "\n" +
        (layout.partitioned   ? "  partition_columns: [s]\n"
         : layout.single_file ? "  single_file: true\n"
                              : "  single_file: false\n");
    return Run(yaml, query);
  }

  // Read the directory at `location` back into the in-memory table `table`.
  Status Read(const Layout& layout, const std::string& location, const std::string& config,
              const std::string& table) {
    std::string schema = kSchema;
    std::string partitions;
    if (layout.partitioned) {
      schema.replace(schema.find("{name: s, type: string}, "), 25, "");
      partitions = "    partition_columns: [[s, string]]\n";
    }
    std::string yaml =
        "sources:\n  - type: " + std::string(layout.single_file ? "file" : "directory") +
        "\n    name: back_src\n    format: {type: " + layout.format +
        ", options: {schema: " + schema + "}}\n" + partitions + "    location: '" + location +
        "'\n    storage_config: " + config + "\nstages:\n  - - name: result\n      query: SELECT " +
        kColumns + " FROM back_src\ndestination: {type: in_memory, name: " + table + "}\n";
    return Run(yaml);
  }

  // Rows in one and not the other, both ways.
  std::string Difference(const std::string& a, const std::string& b) {
    return Count("SELECT count(*) FROM ((SELECT * FROM " + a + " EXCEPT ALL SELECT * FROM " + b +
                 ") UNION ALL (SELECT * FROM " + b + " EXCEPT ALL SELECT * FROM " + a + "))");
  }
  std::string Count(const std::string& sql) {
    auto rows = db_->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
    return rows.ok() && !rows->rows.empty() && rows->rows[0][0] ? *rows->rows[0][0] : "?";
  }

  // The object keys under `key` + "/", relative, sorted.
  std::vector<std::string> Objects(const std::string& key) {
    storage::StoreRegistry registry;
    EXPECT_TRUE(registry.Register(Url(""), emulator_->Config()).ok());
    auto at = registry.Resolve(Url(key));
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
  void PutObject(const std::string& key, const std::string& data) {
    storage::StoreRegistry registry;
    AQ_ASSERT_OK(registry.Register(Url(""), emulator_->Config()));
    AQ_ASSERT_OK_AND_ASSIGN(auto at, registry.Resolve(Url(key)));
    AQ_ASSERT_OK(at.store->Put(at.key, data));
  }

  std::string GetObject(const std::string& key) {
    storage::StoreRegistry registry;
    EXPECT_TRUE(registry.Register(Url(""), emulator_->Config()).ok());
    auto at = registry.Resolve(Url(key));
    EXPECT_TRUE(at.ok());
    auto data = at->store->Get(at->key);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    return data.ok() ? *data : std::string();
  }
  void DeleteObject(const std::string& key) {
    storage::StoreRegistry registry;
    AQ_ASSERT_OK(registry.Register(Url(""), emulator_->Config()));
    AQ_ASSERT_OK_AND_ASSIGN(auto at, registry.Resolve(Url(key)));
    AQ_ASSERT_OK(at.store->Delete(at.key));
  }

  std::unique_ptr<Emulator> emulator_;
  fs::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_P(ObjectStoreRoundTrip, EdgeValuesComeBackAsFromALocalDirectory) {
  AQ_ASSERT_OK(db_->Execute(std::string("CREATE TABLE original AS SELECT ") + kColumns + " FROM (" +
                            kEdgeTable + ")"));
  for (const Layout& layout : {Layout{"parquet", true}, Layout{"csv", false}}) {
    SCOPED_TRACE(layout.format + (layout.partitioned ? " partitioned" : " directory"));
    std::string name = layout.format + (layout.partitioned ? "_parts" : "_dir");
    std::string local = (dir_ / name).string();
    std::string remote = Url("rt/" + name);
    AQ_ASSERT_OK(Write(layout, local, "{}", kEdgeTable));
    AQ_ASSERT_OK(Write(layout, remote, Config(), kEdgeTable));
    AQ_ASSERT_OK(Read(layout, local, "{}", "back_local_" + name));
    AQ_ASSERT_OK(Read(layout, remote, Config(), "back_remote_" + name));
    EXPECT_EQ(Count("SELECT count(*) FROM back_remote_" + name), "12");
    EXPECT_EQ(Difference("back_remote_" + name, "original"), "0");
    EXPECT_EQ(Difference("back_remote_" + name, "back_local_" + name), "0");
    std::vector<std::string> objects = Objects("rt/" + name);
    EXPECT_EQ(std::count(objects.begin(), objects.end(), ".aqueducts-manifest"), 1)
        << ::testing::PrintToString(objects);
    for (const auto& object : objects) {  // no marker, no staging left behind
      EXPECT_EQ(object.find(".aqueducts-pending-"), std::string::npos) << object;
      EXPECT_EQ(object.find(".aqueducts-staging-"), std::string::npos) << object;
    }
  }
}

// Every format (Parquet, CSV, JSON) in every destination kind (one object, a directory, a
// hive-partitioned directory) written to the store by a pipeline and read back by the matching
// source (`file` for one object, `directory` with partition columns for the others): every value
// of the edge table comes back, as from the same layout on a local disk.
TEST_P(ObjectStoreRoundTrip, EveryFormatInEveryDestinationKindComesBack) {
  AQ_ASSERT_OK(db_->Execute(std::string("CREATE TABLE original AS SELECT ") + kColumns + " FROM (" +
                            kEdgeTable + ")"));
  for (const std::string format : {"parquet", "csv", "json"}) {
    for (const Layout& layout :
         {Layout{format, false, true}, Layout{format, false}, Layout{format, true}}) {
      std::string kind = layout.single_file ? "single" : layout.partitioned ? "hive" : "dir";
      SCOPED_TRACE(format + " " + kind);
      std::string name = "kinds_" + format + "_" + kind;
      std::string leaf = layout.single_file ? name + "." + format : name;
      std::string local = (dir_ / leaf).string();
      AQ_ASSERT_OK(Write(layout, local, "{}", kEdgeTable));
      AQ_ASSERT_OK(Write(layout, Url("kinds/" + leaf), Config(), kEdgeTable));
      AQ_ASSERT_OK(Read(layout, local, "{}", "local_" + name));
      AQ_ASSERT_OK(Read(layout, Url("kinds/" + leaf), Config(), "remote_" + name));
      EXPECT_EQ(Count("SELECT count(*) FROM remote_" + name), "12");
      EXPECT_EQ(Difference("remote_" + name, "original"), "0");
      EXPECT_EQ(Difference("remote_" + name, "local_" + name), "0");
      if (layout.single_file) {  // one object, nothing else under its name
        EXPECT_FALSE(GetObject("kinds/" + leaf).empty());
        EXPECT_TRUE(Objects("kinds/" + leaf).empty());
      } else if (layout.partitioned) {  // hive directories k=v/ under the prefix
        std::vector<std::string> objects = Objects("kinds/" + leaf);
        EXPECT_TRUE(std::any_of(objects.begin(), objects.end(), [](const std::string& o) {
          return o.rfind("s=", 0) == 0 && o.find('/') != std::string::npos;
        })) << ::testing::PrintToString(objects);
      }
    }
  }
}

TEST_P(ObjectStoreRoundTrip, ASecondRunReplacesTheFirstAndAFailedRunChangesNothing) {
  Layout layout{"csv", false};
  std::string remote = Url("rt/replaced");
  const std::string first = std::string("SELECT * FROM (") + kEdgeTable + ") WHERE id <= 6";
  const std::string second = std::string("SELECT * FROM (") + kEdgeTable + ") WHERE id > 6";
  AQ_ASSERT_OK(Write(layout, remote, Config(), first));
  std::vector<std::string> first_objects = Objects("rt/replaced");
  PutObject("rt/replaced/README.txt", "written by someone else");

  AQ_ASSERT_OK(Write(layout, remote, Config(), second));
  std::vector<std::string> second_objects = Objects("rt/replaced");
  for (const auto& object : first_objects) {
    if (object != ".aqueducts-manifest") {
      EXPECT_EQ(std::count(second_objects.begin(), second_objects.end(), object), 0)
          << object << " of the first run is still there";
    }
  }
  EXPECT_EQ(std::count(second_objects.begin(), second_objects.end(), "README.txt"), 1);
  AQ_ASSERT_OK(Read(layout, remote, Config(), "after_second"));
  AQ_ASSERT_OK(db_->Execute("CREATE TABLE expected_second AS SELECT " + std::string(kColumns) +
                            " FROM (" + second + ")"));
  EXPECT_EQ(Count("SELECT count(*) FROM after_second"), "6");
  EXPECT_EQ(Difference("after_second", "expected_second"), "0");

  // A stage that fails on its 9th row, while the destination's COPY is running.
  const std::string failing = std::string("SELECT * REPLACE (CASE WHEN id = 9 THEN error('boom ") +
                              "at row 9') ELSE id END AS id) FROM (" + kEdgeTable + ")";
  Status failed = Write(layout, remote, Config(), failing);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("boom at row 9"), std::string::npos) << failed.ToString();
  EXPECT_EQ(Objects("rt/replaced"), second_objects);
  AQ_ASSERT_OK(Read(layout, remote, Config(), "after_failure"));
  EXPECT_EQ(Difference("after_failure", "expected_second"), "0");
}

// A directory source reads only the objects the manifest lists: copies of real data objects
// left next to them (as a killed run's part-<token>-* objects, someone else's file, one in a
// sub-directory and in a partition directory) are not read. Without the manifest they are, which
// shows that they are readable data the rule keeps out.
TEST_P(ObjectStoreRoundTrip, ADirectorySourceReadsOnlyTheObjectsTheManifestLists) {
  AQ_ASSERT_OK(db_->Execute(std::string("CREATE TABLE original AS SELECT ") + kColumns + " FROM (" +
                            kEdgeTable + ")"));
  for (const Layout& layout : {Layout{"parquet", true}, Layout{"csv", false}}) {
    SCOPED_TRACE(layout.format + (layout.partitioned ? " partitioned" : " directory"));
    std::string name = "strays_" + layout.format;
    AQ_ASSERT_OK(Write(layout, Url("rt/" + name), Config(), kEdgeTable));
    std::string listed;  // one data object of the output
    for (const auto& object : Objects("rt/" + name)) {
      if (object.size() > layout.format.size() &&
          object.substr(object.size() - layout.format.size()) == layout.format) {
        listed = object;
      }
    }
    ASSERT_FALSE(listed.empty());
    std::string bytes = GetObject("rt/" + name + "/" + listed);
    std::string dir =
        listed.find('/') == std::string::npos ? "" : listed.substr(0, listed.rfind('/') + 1);
    const std::string ext = "." + layout.format;
    for (const std::string& stray :
         {dir + "part-0123456789abcdef-0" + ext, "someone_else" + ext, "sub/more" + ext}) {
      PutObject("rt/" + name + "/" + stray, bytes);
    }
    AQ_ASSERT_OK(Read(layout, Url("rt/" + name), Config(), "manifest_" + layout.format));
    EXPECT_EQ(Count("SELECT count(*) FROM manifest_" + layout.format), "12");
    EXPECT_EQ(Difference("manifest_" + layout.format, "original"), "0");

    DeleteObject("rt/" + name + "/.aqueducts-manifest");
    AQ_ASSERT_OK(Read(layout, Url("rt/" + name), Config(), "glob_" + layout.format));
    EXPECT_GT(std::stoi(Count("SELECT count(*) FROM glob_" + layout.format)), 12);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, ObjectStoreRoundTrip,
                         ::testing::Values(Emulator::Kind::kS3, Emulator::Kind::kAzure,
                                           Emulator::Kind::kGcs),
                         [](const ::testing::TestParamInfo<Emulator::Kind>& param) {
                           return std::string(Emulator::Name(param.param));
                         });

}  // namespace
}  // namespace aqueducts

// `aqueducts run --output table|csv|json`: stage previews that scripts can read, through the real
// binary. The data on stdout is read back by DuckDB (the oracle) and compared with the source.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aqueducts/run.h"

#include "cli_harness.h"

namespace aqueducts::testing {
namespace {

using nlohmann::json;

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class CliOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    // Ten rows with NULL, '', 'NULL', delimiters, quotes, a line break and unicode.
    dir_.Write("in.csv",
               "id,s,v\n"
               "1,plain,1.5\n"
               "2,\"\",2.5\n"
               "3,,\n"
               "4,NULL,-0.25\n"
               "5,\"a,b;c\",1e3\n"
               "6,\"say \"\"hi\"\"\",6\n"
               "7,\"two\nlines\",7\n"
               "8,Zürich ✓ 東京,8\n"
               "9,x,9\n"
               "10,y,10\n");
    dir_.Write("p.yml",
               "sources:\n"
               "  - type: file\n"
               "    name: readings\n"
               "    format: {type: csv, options: {has_header: true}}\n"
               "    location: " +
                   dir_.str() +
                   "/in.csv\n"
                   "stages:\n"
                   "  - - name: firsts\n"
                   "      query: SELECT * FROM readings ORDER BY id\n"  // read again: counted
                   "      show: 8\n"
                   "  - - name: totals\n"
                   "      query: SELECT count(*) AS n, sum(v) AS total FROM firsts\n"
                   "      show: 0\n"
                   "      explain: true\n");
  }

  // Rows of `sql` over the source, through plain DuckDB.
  Database::Rows Oracle(const std::string& sql) {
    auto db = Database::Open();
    EXPECT_TRUE(db.ok());
    auto rows = (*db)->Query("CREATE VIEW readings AS SELECT * FROM read_csv('" + dir_.str() +
                             "/in.csv', header = true, allow_quoted_nulls = false); " + sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : Database::Rows{};
  }

  TempDir dir_;
};

TEST_F(CliOutput, CsvPrintsBareBlocksThatReadBackAsTheRows) {
  CliResult r = RunCli({"run", "-f", dir_.str() + "/p.yml", "--output", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  // Only data on stdout: no titles, rules, emoji or plans.
  EXPECT_FALSE(Has(r.out, "Table Data")) << r.out;
  EXPECT_FALSE(Has(r.out, "───")) << r.out;
  EXPECT_FALSE(Has(r.out, "Plan")) << r.out;
  EXPECT_TRUE(Has(r.err, "Query Plan: totals")) << r.err;
  EXPECT_TRUE(Has(r.err, "firsts: 8 of 10 rows shown, 2 left out")) << r.err;
  EXPECT_TRUE(r.out.rfind("id,s,v\n", 0) == 0) << r.out;
  // Two blocks, an empty line between them (no value here holds an empty line).
  size_t split = r.out.find("\n\n");
  ASSERT_NE(split, std::string::npos) << r.out;
  dir_.Write("firsts.csv", r.out.substr(0, split + 1));
  EXPECT_EQ(r.out.substr(split + 2), "n,total\n10,1043.75\n");
  auto diff = Oracle(
      "SELECT count(*) FROM (SELECT * FROM read_csv('" + dir_.str() +
      "/firsts.csv', header = true, allow_quoted_nulls = false, columns = {'id': 'BIGINT', 's': "
      "'VARCHAR', 'v': 'DOUBLE'}) EXCEPT ALL (SELECT * FROM readings ORDER BY id LIMIT 8)) "
      "UNION ALL SELECT count(*) FROM read_csv('" +
      dir_.str() + "/firsts.csv', header = true)");
  ASSERT_EQ(diff.rows.size(), 2u);
  EXPECT_EQ(*diff.rows[0][0], "0") << r.out;
  EXPECT_EQ(*diff.rows[1][0], "8") << r.out;
}

TEST_F(CliOutput, JsonPrintsOneObjectPerRowNamingItsStage) {
  CliResult r = RunCli({"run", "-f", dir_.str() + "/p.yml", "-q", "--output", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  auto want = Oracle("SELECT id, s, v FROM readings ORDER BY id LIMIT 8");
  std::istringstream in(r.out);
  std::string line;
  size_t firsts = 0;
  size_t totals = 0;
  while (std::getline(in, line)) {
    json doc = json::parse(line);  // every stdout line is one JSON document
    ASSERT_EQ(doc.size(), 2u) << line;
    if (doc["stage"] == "firsts") {
      ASSERT_LT(firsts, want.rows.size());
      const auto& row = want.rows[firsts++];
      EXPECT_EQ(doc["row"]["id"].get<int64_t>(), std::stoll(*row[0])) << line;
      if (row[1]) {
        EXPECT_EQ(doc["row"]["s"].get<std::string>(), *row[1]) << line;
      } else {
        EXPECT_TRUE(doc["row"]["s"].is_null()) << line;
      }
      if (row[2]) {
        EXPECT_EQ(doc["row"]["v"].get<double>(), std::stod(*row[2])) << line;
      } else {
        EXPECT_TRUE(doc["row"]["v"].is_null()) << line;
      }
    } else {
      ASSERT_EQ(doc["stage"], "totals") << line;
      ++totals;
      EXPECT_EQ(doc["row"]["n"].get<int64_t>(), 10);
      EXPECT_DOUBLE_EQ(doc["row"]["total"].get<double>(), 1043.75);
    }
  }
  EXPECT_EQ(firsts, 8u);
  EXPECT_EQ(totals, 1u);
  EXPECT_TRUE(Has(r.err, "firsts: 8 of 10 rows shown, 2 left out")) << r.err;
}

TEST_F(CliOutput, TableStaysTheDefault) {
  CliResult r = RunCli({"run", "-f", dir_.str() + "/p.yml"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_TRUE(Has(r.out, "Table Data (Preview): firsts")) << r.out;
  EXPECT_TRUE(Has(r.out, "| id ")) << r.out;
  EXPECT_TRUE(Has(r.out, "(8 of 10 rows shown, 2 left out)")) << r.out;
}

TEST_F(CliOutput, AnUnknownFormatOrAServerRunIsAUsageError) {
  CliResult bad = RunCli({"run", "-f", dir_.str() + "/p.yml", "--output", "xml"});
  EXPECT_EQ(bad.exit_code, 2) << bad.all();
  EXPECT_TRUE(Has(bad.err, "--output")) << bad.err;
  CliResult server = RunCli({"run", "-f", dir_.str() + "/p.yml", "--output", "json", "--server",
                             "http://127.0.0.1:9", "--token", "t"});
  EXPECT_EQ(server.exit_code, 2) << server.all();
  EXPECT_TRUE(Has(server.err, "--server")) << server.err;
}

}  // namespace
}  // namespace aqueducts::testing

// Connection::RenderAs: CSV and JSON-lines previews over edge values, with DuckDB as the oracle
// (the CSV is read back by DuckDB; each JSON value is compared with DuckDB's own value).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "aqueducts/run.h"

#include "engine/session.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Scalar edge values: NULL, '', 'NULL', unicode, delimiters, quotes, line breaks, control
// characters, integer bounds, NaN and infinities, decimal(38,18) bounds, old and far dates.
constexpr const char* kScalars = R"(
CREATE TABLE t AS SELECT * FROM (VALUES
  (1, 'plain', 1.5::DOUBLE, 12.5::DECIMAL(38,18), DATE '2024-01-02',
   TIMESTAMP '2024-01-02 03:04:05.123456', true, '-9223372036854775808'::BIGINT),
  (2, '', 'NaN'::DOUBLE, 99999999999999999999.999999999999999999::DECIMAL(38,18),
   DATE '0001-01-01', TIMESTAMP '1677-09-22 00:00:00', false, 9223372036854775807::BIGINT),
  (3, 'NULL', 'Infinity'::DOUBLE, -99999999999999999999.999999999999999999::DECIMAL(38,18),
   DATE '9999-12-31', TIMESTAMP '2262-04-11 23:47:16', NULL, 0::BIGINT),
  (4, NULL, '-Infinity'::DOUBLE, -0.000000000000000001::DECIMAL(38,18), NULL, NULL, true, NULL),
  (5, 'a,b;c|d	tab', NULL, NULL, DATE '1970-01-01', TIMESTAMP '1970-01-01 00:00:00', false, 1),
  (6, 'say "hi", ''there''', -0.0::DOUBLE, 0::DECIMAL(38,18), NULL, NULL, NULL, -1),
  (7, 'line one' || chr(10) || 'line two' || chr(13) || chr(10) || 'three', 1e300::DOUBLE,
   1::DECIMAL(38,18), NULL, NULL, NULL, 2),
  (8, 'Zürich ✓ 東京 😀' || chr(1) || '\', 5e-324::DOUBLE, NULL, NULL, NULL, NULL, 3)
) v(id, s, d, dec, dt, ts, flag, big))";

class PreviewRenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto session = Session::Open(Database::Options{});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
    AQ_ASSERT_OK(conn().Execute(kScalars));
    dir_ = fs::temp_directory_path() / ("aq_preview_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Connection& conn() { return session_->main(); }

  int64_t Count(const std::string& sql) {
    auto rows = conn().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    return rows.ok() && !rows->rows.empty() && rows->rows[0][0] ? std::stoll(*rows->rows[0][0])
                                                                : -1;
  }

  std::unique_ptr<Session> session_;
  fs::path dir_;
};

TEST_F(PreviewRenderTest, CsvReadsBackIntoTheSameRows) {
  AQ_ASSERT_OK_AND_ASSIGN(std::string csv,
                          conn().RenderAs("SELECT * FROM t ORDER BY id", 100, PreviewFormat::kCsv));
  EXPECT_EQ(csv.rfind("id,s,d,dec,dt,ts,flag,big\n", 0), 0u) << csv;
  // NULL is an empty field, '' a quoted empty one.
  EXPECT_NE(csv.find("\n2,\"\",nan,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n4,,-inf,"), std::string::npos) << csv;
  const fs::path file = dir_ / "preview.csv";
  std::ofstream(file, std::ios::binary) << csv;
  const std::string read = "read_csv('" + file.string() +
                           "', header = true, allow_quoted_nulls = false, quote = '\"', "
                           "escape = '\"', columns = {'id': 'INTEGER', 's': 'VARCHAR', 'd': "
                           "'DOUBLE', 'dec': 'DECIMAL(38,18)', 'dt': 'DATE', 'ts': 'TIMESTAMP', "
                           "'flag': 'BOOLEAN', 'big': 'BIGINT'})";
  EXPECT_EQ(Count("SELECT count(*) FROM " + read), 8);
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM " + read + ")"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT * FROM " + read + " EXCEPT ALL SELECT * FROM t)"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM " + read + " WHERE s IS NULL"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM " + read + " WHERE s = ''"), 1);
}

TEST_F(PreviewRenderTest, CsvStopsAtMaxRows) {
  AQ_ASSERT_OK_AND_ASSIGN(std::string csv,
                          conn().RenderAs("SELECT * FROM range(10000)", 3, PreviewFormat::kCsv));
  EXPECT_EQ(csv, "range\n0\n1\n2\n");
}

// Every line is one JSON object; each value equals DuckDB's: numbers as numbers (decimals
// with all their digits), non-finite floats and texts as strings, NULL as null.
TEST_F(PreviewRenderTest, JsonLinesCarryEachValueExactly) {
  AQ_ASSERT_OK_AND_ASSIGN(
      std::string text, conn().RenderAs("SELECT * FROM t ORDER BY id", 100, PreviewFormat::kJson));
  AQ_ASSERT_OK_AND_ASSIGN(
      auto expected,
      conn().Query("SELECT id, s, d::VARCHAR, dec::VARCHAR, dt::VARCHAR, ts::VARCHAR, "
                   "flag::VARCHAR, big::VARCHAR FROM t ORDER BY id"));
  std::istringstream in(text);
  std::string line;
  size_t r = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(r, expected.rows.size());
    const auto& want = expected.rows[r];
    json row = json::parse(line);  // throws (and fails the test) on invalid JSON
    ASSERT_EQ(row.size(), 8u) << line;
    EXPECT_EQ(row["id"].get<int64_t>(), std::stoll(*want[0]));
    if (want[1]) {
      EXPECT_EQ(row["s"].get<std::string>(), *want[1]) << line;
    } else {
      EXPECT_TRUE(row["s"].is_null()) << line;
    }
    if (!want[2]) {
      EXPECT_TRUE(row["d"].is_null());
    } else if (*want[2] == "nan" || *want[2] == "inf" || *want[2] == "-inf") {
      EXPECT_EQ(row["d"].get<std::string>(), *want[2] == "nan"   ? "NaN"
                                             : *want[2] == "inf" ? "Infinity"
                                                                 : "-Infinity");
    } else {
      EXPECT_TRUE(row["d"].is_number()) << line;
      EXPECT_EQ(row["d"].get<double>(), std::strtod(want[2]->c_str(), nullptr)) << line;
    }
    if (want[3]) {  // the exact digits, not a double's
      EXPECT_NE(line.find("\"dec\":" + *want[3] + ","), std::string::npos) << line;
      EXPECT_TRUE(row["dec"].is_number());
    } else {
      EXPECT_TRUE(row["dec"].is_null());
    }
    for (auto [name, column] : {std::pair{"dt", 4}, std::pair{"ts", 5}}) {
      if (want[column]) {
        EXPECT_EQ(row[name].get<std::string>(), *want[column]) << line;
      } else {
        EXPECT_TRUE(row[name].is_null()) << line;
      }
    }
    if (want[6]) {
      EXPECT_EQ(row["flag"].get<bool>(), *want[6] == "true") << line;
    } else {
      EXPECT_TRUE(row["flag"].is_null());
    }
    if (want[7]) {
      EXPECT_NE(line.find("\"big\":" + *want[7] + "}"), std::string::npos) << line;
    } else {
      EXPECT_TRUE(row["big"].is_null());
    }
    ++r;
  }
  EXPECT_EQ(r, expected.rows.size());
}

// Nested values keep their shape; DuckDB's to_json is the oracle. Blobs are base64; JSON
// columns are passed through.
TEST_F(PreviewRenderTest, JsonLinesNestBlobAndJsonColumns) {
  const std::string sql =
      "SELECT [1, NULL, 3] AS l, {'a': 1, 'b': 'x\"y'} AS st, MAP {'k': 1, 'q': NULL} AS m, "
      "[[1.5, 2.5], []]::DOUBLE[][] AS ll, '\\x00\\xFFab'::BLOB AS b, '{\"n\": [1, true]}'::JSON "
      "AS j, UUID '00000000-0000-0000-0000-000000000001' AS u, INTERVAL 3 DAY AS iv";
  AQ_ASSERT_OK_AND_ASSIGN(std::string text, conn().RenderAs(sql, 10, PreviewFormat::kJson));
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  json row = json::parse(text);
  AQ_ASSERT_OK_AND_ASSIGN(
      auto oracle,
      conn().Query("SELECT to_json(l)::VARCHAR, to_json(st)::VARCHAR, to_json(m)::VARCHAR, "
                   "to_json(ll)::VARCHAR, to_base64(b), j::VARCHAR, u::VARCHAR, iv::VARCHAR "
                   "FROM (" +
                   sql + ")"));
  const auto& want = oracle.rows.at(0);
  EXPECT_EQ(row["l"], json::parse(*want[0]));
  EXPECT_EQ(row["st"], json::parse(*want[1]));
  EXPECT_EQ(row["m"], json::parse(*want[2]));
  EXPECT_EQ(row["ll"], json::parse(*want[3]));
  EXPECT_EQ(row["b"].get<std::string>(), *want[4]);
  EXPECT_EQ(row["j"], json::parse(*want[5]));
  EXPECT_EQ(row["u"].get<std::string>(), *want[6]);
  EXPECT_EQ(row["iv"].get<std::string>(), *want[7]);
}

TEST_F(PreviewRenderTest, TableIsTheBoxRendering) {
  AQ_ASSERT_OK_AND_ASSIGN(std::string table,
                          conn().RenderAs("SELECT 1 AS a", 10, PreviewFormat::kTable));
  AQ_ASSERT_OK_AND_ASSIGN(std::string render, conn().Render("SELECT 1 AS a", 10));
  EXPECT_EQ(table, render);
}

TEST(PreviewFormatTest, NamesRoundTripAndOthersAreRefused) {
  for (PreviewFormat f : {PreviewFormat::kTable, PreviewFormat::kCsv, PreviewFormat::kJson}) {
    PreviewFormat parsed = PreviewFormat::kTable;
    EXPECT_TRUE(ParsePreviewFormat(PreviewFormatName(f), &parsed));
    EXPECT_EQ(parsed, f);
  }
  PreviewFormat parsed = PreviewFormat::kCsv;
  EXPECT_FALSE(ParsePreviewFormat("JSON", &parsed));
  EXPECT_FALSE(ParsePreviewFormat("xml", &parsed));
  EXPECT_EQ(parsed, PreviewFormat::kCsv);
}

}  // namespace
}  // namespace aqueducts::engine

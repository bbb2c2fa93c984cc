// Partitioned Delta writes keep every row exactly once (issue: '' partition values were lost
// and NULL-partition rows duplicated). A fixed-seed property test writes random rows with NULL,
// empty and special partition values through append, replace and upsert, for partition columns
// of every kind, and compares the table with a plain DuckDB oracle as a multiset, read both
// through our reader and straight from the Parquet files the JSON log lists (the log is parsed
// here, independently of the snapshot code).
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "delta/data_files.h"
#include "delta/delta.h"
#include "delta/test_util.h"

namespace aqueducts::delta {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::LocalLocation;
using testing::OpenTestSession;
using testing::QueryOne;
using testing::SortedRows;
using testing::TempDir;

// Columns of the test table: name, pipeline type, DuckDB type.
struct Col {
  const char* name;
  const char* type;
  const char* duck;
};
const std::vector<Col> kCols = {
    {"id", "int64", "BIGINT"},   {"s", "string", "VARCHAR"},
    {"d", "date32", "DATE"},     {"n", "int32", "INTEGER"},
    {"b", "boolean", "BOOLEAN"}, {"ts", "timestamp<us,UTC>", "TIMESTAMPTZ"},
    {"v", "string", "VARCHAR"},
};

// Value pools (SQL literals) with NULL, empty and values needing escaping in directory names.
const std::map<std::string, std::vector<std::string>> kPools = {
    {"s",
     {"NULL", "''", "'NULL'", "'a/b'", "'k=v'", "'100%'", "'%2F'", "'with space'", "'ünï 日本'",
      "'__HIVE_DEFAULT_PARTITION__'", "'x'", "'it''s:#?'", "'  '"}},
    {"d",
     {"NULL", "DATE '0001-01-01'", "DATE '1900-01-01'", "DATE '2024-02-29'", "DATE '9999-12-31'"}},
    {"n", {"NULL", "0", "-1", "2147483647", "-2147483648"}},
    {"b", {"NULL", "true", "false"}},
    {"ts",
     {"NULL", "TIMESTAMPTZ '1970-01-01 00:00:00+00'", "TIMESTAMPTZ '2024-06-30 23:59:59.123456+00'",
      "TIMESTAMPTZ '1900-01-01 12:00:00+00'"}},
    {"v", {"NULL", "''", "'v1'", "'NULL'", "'é'"}},
};

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  std::string Pick(const std::string& col) {
    const auto& pool = kPools.at(col);
    return pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng_)];
  }
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  // `count` rows with ids from `ids`; `fixed` pins columns to a literal.
  std::string Rows(const std::vector<int64_t>& ids,
                   const std::map<std::string, std::string>& fixed = {}) {
    std::string sql;
    for (int64_t id : ids) {
      sql += sql.empty() ? "(" : ", (";
      sql += std::to_string(id);
      for (size_t c = 1; c < kCols.size(); ++c) {
        auto it = fixed.find(kCols[c].name);
        sql += ", " + (it != fixed.end() ? it->second : Pick(kCols[c].name));
      }
      sql += ")";
    }
    return sql;
  }

 private:
  std::mt19937 rng_;
};

std::string ColumnList() {
  std::string out;
  for (const Col& c : kCols) {
    out += (out.empty() ? "" : ", ") + std::string(c.name);
  }
  return out;
}

// A relation of typed rows from Gen::Rows' VALUES.
std::string Relation(const std::string& values) {
  std::string sel;
  for (size_t i = 0; i < kCols.size(); ++i) {
    sel += (i ? ", " : "") + std::string("CAST(c") + std::to_string(i) + " AS " + kCols[i].duck +
           ") AS " + kCols[i].name;
  }
  std::string names;
  for (size_t i = 0; i < kCols.size(); ++i) {
    names += (i ? ", c" : "c") + std::to_string(i);
  }
  return "SELECT " + sel + " FROM (VALUES " + values + ") AS t(" + names + ")";
}

std::string PercentDecodeForTest(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Lit(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("''") : std::string(1, c);
  }
  return out + "'";
}

// Reads the table from the JSON commits and the Parquet files they list, checking on the way
// that partition values are never logged as "" and that each file's directory names decode to
// its logged partition values.
std::string DirectScanSql(const std::string& root, const std::vector<std::string>& pcols,
                          const std::vector<Col>& cols = kCols) {
  std::map<std::string, json> live;  // path -> add
  std::vector<std::string> commits;
  for (const auto& e : fs::directory_iterator(root + "/_delta_log")) {
    std::string name = e.path().filename().string();
    if (name.size() == 25 && name.substr(20) == ".json") {
      commits.push_back(e.path().string());
    }
  }
  std::sort(commits.begin(), commits.end());
  for (const auto& c : commits) {
    std::ifstream in(c);
    std::string line;
    while (std::getline(in, line)) {
      json a = json::parse(line);
      if (a.contains("add")) {
        live[a["add"]["path"].get<std::string>()] = a["add"];
      }
      if (a.contains("remove")) {
        live.erase(a["remove"]["path"].get<std::string>());
      }
    }
  }
  std::string sql;
  for (const auto& [path, add] : live) {
    std::string rel = PercentDecodeForTest(path);
    std::string sel;
    for (const Col& c : cols) {
      bool is_part = std::find(pcols.begin(), pcols.end(), c.name) != pcols.end();
      if (!is_part) {
        sel += std::string(sel.empty() ? "" : ", ") + c.name;
        continue;
      }
      const json& v = add["partitionValues"][c.name];
      EXPECT_FALSE(v.is_string() && v.get<std::string>().empty())
          << "'' logged as a partition value in " << path;
      std::string dir_value = v.is_null() ? "__HIVE_DEFAULT_PARTITION__" : v.get<std::string>();
      std::string dir = std::string(c.name) + "=";
      std::string seg;
      bool found = false;
      for (size_t at = 0; at < rel.size();) {
        size_t slash = rel.find('/', at);
        if (slash == std::string::npos) {
          break;
        }
        if (rel.compare(at, dir.size(), dir) == 0) {
          seg = rel.substr(at + dir.size(), slash - at - dir.size());
          found = true;
        }
        at = slash + 1;
      }
      EXPECT_TRUE(found) << path;
      EXPECT_EQ(PercentDecodeForTest(seg), dir_value) << path;
      std::string lit = v.is_null() ? "NULL" : Lit(v.get<std::string>());
      sel +=
          std::string(sel.empty() ? "" : ", ") + "CAST(" + lit + " AS " + c.duck + ") AS " + c.name;
    }
    sql += (sql.empty() ? "" : " UNION ALL ") +
           ("SELECT " + sel + " FROM read_parquet(" + Lit(root + "/" + rel) + ")");
  }
  if (sql.empty()) {
    return "SELECT 1 WHERE false";
  }
  std::string names;
  for (const Col& c : cols) {
    names += (names.empty() ? "" : ", ") + std::string(c.name);
  }
  return "SELECT " + names + " FROM (" + sql + ")";
}

struct Layout {
  std::string name;
  std::vector<std::string> pcols;
};

class PartitionRoundTrip : public ::testing::TestWithParam<Layout> {};

TEST_P(PartitionRoundTrip, EveryRowExactlyOnceInEveryWriteMode) {
  const Layout& layout = GetParam();
  TempDir dir;
  auto s = OpenTestSession();
  auto& conn = s->main();
  Gen gen(20261201u + uint32_t(layout.name.size()));
  DeltaDestination dest;
  dest.name = "out";
  dest.location = LocalLocation(dir.str());
  dest.partition_columns = layout.pcols;
  for (const Col& c : kCols) {
    AQ_ASSERT_OK_AND_ASSIGN(DataType t, ParseDataType(c.type));
    dest.schema.push_back(Field{c.name, t, true, {}});
  }
  // The oracle holds what the table must contain: '' in a partition column is stored as NULL.
  std::string norm;
  for (const Col& c : kCols) {
    bool is_part =
        std::find(layout.pcols.begin(), layout.pcols.end(), c.name) != layout.pcols.end();
    std::string e = is_part && std::string(c.duck) == "VARCHAR"
                        ? "NULLIF(" + std::string(c.name) + ", '')"
                        : std::string(c.name);
    norm += (norm.empty() ? "" : ", ") + e + " AS " + c.name;
  }
  AQ_ASSERT_OK(conn.Execute("CREATE TABLE expected AS " + Relation(gen.Rows({0})) + " LIMIT 0"));
  int64_t next_id = 0;
  auto fresh_ids = [&](int n) {
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(next_id++);
    }
    return ids;
  };
  auto check = [&](const std::string& step) {
    SCOPED_TRACE(layout.name + " after " + step);
    std::string want = "SELECT " + ColumnList() + " FROM expected";
    DeltaSource src{"t", LocalLocation(dir.str()), {}, {}, {}};
    AQ_ASSERT_OK(RegisterDeltaSource(*s, src));
    auto expected = SortedRows(conn, want);
    EXPECT_EQ(SortedRows(conn, "SELECT " + ColumnList() + " FROM t"), expected);
    EXPECT_EQ(SortedRows(conn, DirectScanSql(dir.str(), layout.pcols)), expected);
  };
  auto write = [&](DeltaWriteMode::Operation op, const std::string& rows) {
    dest.write_mode.operation = op;
    auto r = WriteDeltaDestination(*s, dest, Relation(rows), nullptr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      EXPECT_EQ(std::to_string(r->rows),
                QueryOne(conn, "SELECT count(*) FROM (VALUES " + rows + ")"));
    }
    return r.ok();
  };
  // 1-2: two appends.
  for (int i = 0; i < 2; ++i) {
    std::string rows = gen.Rows(fresh_ids(40));
    ASSERT_TRUE(write(DeltaWriteMode::Operation::kAppend, rows));
    AQ_ASSERT_OK(
        conn.Execute("INSERT INTO expected SELECT " + norm + " FROM (" + Relation(rows) + ")"));
    check("append " + std::to_string(i));
  }
  // 3: replace the partition holding one (non-null) value of the first partition column.
  {
    const std::string& pc = layout.pcols[0];
    std::string value;
    do {
      value = gen.Pick(pc);
    } while (value == "NULL" || value == "''");
    std::string text = QueryOne(conn, "SELECT CAST(" + value + " AS VARCHAR)");
    std::string rows = gen.Rows(fresh_ids(15), {{pc, value}});
    dest.write_mode.replace_conditions = {ReplaceCondition{pc, text}};
    ASSERT_TRUE(write(DeltaWriteMode::Operation::kReplace, rows));
    dest.write_mode.replace_conditions.clear();
    AQ_ASSERT_OK(conn.Execute("DELETE FROM expected WHERE " + pc + " = " + value));
    AQ_ASSERT_OK(
        conn.Execute("INSERT INTO expected SELECT " + norm + " FROM (" + Relation(rows) + ")"));
    check("replace " + pc + " = " + text);
  }
  // 4: upsert on id: half the ids exist (their rows move to new random partitions).
  auto upsert = [&](const std::vector<std::string>& keys, const std::string& rows) {
    dest.write_mode.upsert_keys = keys;
    ASSERT_TRUE(write(DeltaWriteMode::Operation::kUpsert, rows));
    std::string match;
    for (const auto& k : keys) {
      match += (match.empty() ? "" : " AND ") + ("e." + k + " IS NOT DISTINCT FROM i." + k);
    }
    AQ_ASSERT_OK(conn.Execute("CREATE TEMP TABLE incoming AS SELECT " + norm + " FROM (" +
                              Relation(rows) + ")"));
    AQ_ASSERT_OK(
        conn.Execute("DELETE FROM expected e WHERE EXISTS (SELECT 1 FROM incoming i "
                     "WHERE " +
                     match + ")"));
    AQ_ASSERT_OK(conn.Execute("INSERT INTO expected SELECT * FROM incoming"));
    AQ_ASSERT_OK(conn.Execute("DROP TABLE incoming"));
  };
  {
    std::vector<int64_t> ids = fresh_ids(10);
    for (int64_t id = 0; id < next_id - 10; id += 3) {
      ids.push_back(id);
    }
    upsert({"id"}, gen.Rows(ids));
    check("upsert on id");
  }
  // 5: upsert on (id, first partition column): existing keys re-sent, with '' where the table
  // holds NULL, must update (not duplicate) those rows.
  {
    const std::string& pc = layout.pcols[0];
    AQ_ASSERT_OK_AND_ASSIGN(
        auto existing,
        conn.Query("SELECT id, CAST(" + pc + " AS VARCHAR) FROM expected ORDER BY id LIMIT 12"));
    std::string rows;
    std::string duck;
    for (const Col& c : kCols) {
      if (c.name == pc) {
        duck = c.duck;
      }
    }
    for (const auto& r : existing.rows) {
      std::string lit = r[1]                ? "CAST(" + Lit(*r[1]) + " AS " + duck + ")"
                        : duck == "VARCHAR" ? "''"
                                            : "NULL";
      rows += (rows.empty() ? "" : ", ") + gen.Rows({std::stoll(*r[0])}, {{pc, lit}});
    }
    rows += ", " + gen.Rows(fresh_ids(5));
    upsert({"id", pc}, rows);
    check("upsert on id, " + pc);
  }
  // 6: replace everything.
  {
    std::string rows = gen.Rows(fresh_ids(25));
    ASSERT_TRUE(write(DeltaWriteMode::Operation::kReplace, rows));
    AQ_ASSERT_OK(conn.Execute("DELETE FROM expected"));
    AQ_ASSERT_OK(
        conn.Execute("INSERT INTO expected SELECT " + norm + " FROM (" + Relation(rows) + ")"));
    check("replace all");
  }
}

INSTANTIATE_TEST_SUITE_P(Delta, PartitionRoundTrip,
                         ::testing::Values(Layout{"string", {"s"}}, Layout{"date", {"d"}},
                                           Layout{"integer", {"n"}}, Layout{"boolean", {"b"}},
                                           Layout{"timestamp", {"ts"}},
                                           Layout{"string_int_bool", {"s", "n", "b"}},
                                           Layout{"ts_string_date", {"ts", "s", "d"}}),
                         [](const ::testing::TestParamInfo<Layout>& param_info) {
                           return param_info.param.name;
                         });

// The issue's reproduction: '' and NULL in a string partition column, appended once.
TEST(DeltaPartitionTest, EmptyAndNullPartitionValuesKeepEveryRow) {
  TempDir dir;
  auto s = OpenTestSession();
  DeltaDestination dest;
  dest.name = "out";
  dest.location = LocalLocation(dir.str());
  dest.partition_columns = {"p"};
  dest.schema = {Field{"id", MakeType(TypeId::kInt64), true, {}},
                 Field{"p", MakeType(TypeId::kUtf8), true, {}}};
  AQ_ASSERT_OK_AND_ASSIGN(
      auto stats,
      WriteDeltaDestination(*s, dest,
                            "SELECT i::BIGINT AS id, (CASE WHEN i = 0 THEN '' WHEN i = 1 THEN NULL "
                            "ELSE 'x' END) AS p FROM range(0, 3) t(i)",
                            nullptr));
  EXPECT_EQ(stats.rows, 3);
  DeltaSource src{"t", LocalLocation(dir.str()), {}, {}, {}};
  AQ_ASSERT_OK(RegisterDeltaSource(*s, src));
  EXPECT_EQ(SortedRows(s->main(), "SELECT id, p FROM t"),
            (std::vector<std::string>{"0|NULL", "1|NULL", "2|x"}));
  EXPECT_EQ(
      SortedRows(s->main(), DirectScanSql(dir.str(), {"p"},
                                          {{"id", "int64", "BIGINT"}, {"p", "string", "VARCHAR"}})),
      (std::vector<std::string>{"0|NULL", "1|NULL", "2|x"}));
}

// The row count check compares rows in with the numRecords of the new files.
TEST(DeltaPartitionTest, RowCountCheckNamesBothCounts) {
  auto file = [](const std::string& path, std::optional<std::string> stats) {
    FileAction f;
    f.path = path;
    f.stats = std::move(stats);
    return f;
  };
  std::vector<FileAction> adds = {file("a.parquet", R"({"numRecords":2})"),
                                  file("b.parquet", R"({"numRecords":3})")};
  EXPECT_TRUE(CheckRowsWritten(5, adds).ok());
  Status st = CheckRowsWritten(6, adds);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("6 rows to write but the new data files hold 5"), std::string::npos)
      << st.ToString();
  adds.push_back(file("c.parquet", std::nullopt));
  st = CheckRowsWritten(5, adds);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'c.parquet' has no numRecords"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace aqueducts::delta

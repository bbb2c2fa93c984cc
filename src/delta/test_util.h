#pragma once

// Helpers shared by the Delta tests (header-only, test binaries only).

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "aqueducts/model.h"
#include "aqueducts/run.h"

#include "delta/util.h"
#include "engine/session.h"
#include "temp_dir.h"
#include "testing.h"

namespace aqueducts::delta::testing {

inline std::string DeltaFixture(const std::string& name) {
  return ::aqueducts::testing::FixturesDir() + "/delta/" + name;
}

inline std::unique_ptr<engine::Session> OpenTestSession() {
  auto session = engine::Session::Open(Database::Options{});
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  auto s = std::move(session).value();
  // Render instants in UTC so expected values compare as text.
  EXPECT_TRUE(s->main().Execute("SET TimeZone='UTC'").ok());
  return s;
}

using ::aqueducts::testing::TempDir;

inline Location LocalLocation(const std::string& path) {
  return Location{"file://" + path};
}

/// One value of a query; "<null>" for NULL, "<error: ...>" on failure.
inline std::string QueryOne(engine::Connection& conn, const std::string& sql) {
  auto rows = conn.Query(sql);
  if (!rows.ok()) {
    return "<error: " + rows.status().ToString() + ">";
  }
  if (rows->rows.empty() || rows->rows[0].empty() || !rows->rows[0][0]) {
    return "<null>";
  }
  return *rows->rows[0][0];
}

/// All rows rendered as "a|b|c" lines, sorted.
inline std::vector<std::string> SortedRows(engine::Connection& conn, const std::string& sql) {
  auto rows = conn.Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  std::vector<std::string> out;
  if (!rows.ok()) {
    return out;
  }
  for (const auto& r : rows->rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += (i ? "|" : "") + r[i].value_or("NULL");
    }
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aqueducts::delta::testing

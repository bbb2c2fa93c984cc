// Delta benchmarks (issue 3): append vs plain Parquet, upsert of 1% of a 10M-row partitioned
// table vs a full rewrite, and file skipping on a partition filter. Prints a Markdown table.
// Usage: delta_benchmark [rows=10000000] [workdir=/tmp]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "aqueducts/run.h"

#include "delta/delta.h"
#include "delta/log.h"
#include "engine/session.h"

using namespace aqueducts;

namespace {

double Seconds(const std::chrono::steady_clock::time_point& t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

DeltaDestination Dest(const std::string& root) {
  DeltaDestination d;
  d.name = "bench";
  d.location = Location{"file://" + root};
  d.schema = {Field{"d", MakeType(TypeId::kDate32), true, {}},
              Field{"id", MakeType(TypeId::kInt64), true, {}},
              Field{"v", MakeType(TypeId::kFloat64), true, {}},
              Field{"s", MakeType(TypeId::kUtf8), true, {}}};
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = argc > 1 ? std::atoll(argv[1]) : 10000000;
  std::string work = (argc > 2 ? std::string(argv[2]) : std::string("/tmp")) + "/aq_delta_bench_" +
                     std::to_string(getpid());
  std::filesystem::create_directories(work);
  auto session = std::move(engine::Session::Open(Database::Options{})).value();
  auto& conn = session->main();
  std::string n = std::to_string(rows);
  Check(conn.Execute("CREATE TABLE src AS SELECT DATE '2024-01-01' + (i % 100)::INT AS d, i AS id, "
                     "i * 0.5 AS v, "
                     "'name-' || (i % 1000) AS s FROM range(" +
                     n + ") t(i)"),
        "generate");

  // 1. Append vs the same Parquet written without Delta (unpartitioned, zstd).
  auto t0 = std::chrono::steady_clock::now();
  Check(conn.Execute("COPY (SELECT * FROM src) TO '" + work +
                     "/plain.parquet' (FORMAT parquet, COMPRESSION zstd)"),
        "plain");
  double plain = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  auto appended =
      delta::WriteDeltaDestination(*session, Dest(work + "/append"), "SELECT * FROM src", nullptr);
  Check(appended.status(), "append");
  double append = Seconds(t0);

  // 2. A 10M-row table partitioned by date (100 partitions); upsert 1% of the keys (one day).
  DeltaDestination part = Dest(work + "/part");
  part.partition_columns = {"d"};
  Check(delta::WriteDeltaDestination(*session, part, "SELECT * FROM src", nullptr).status(),
        "partitioned");
  DeltaDestination up = part;
  up.write_mode.operation = DeltaWriteMode::Operation::kUpsert;
  up.write_mode.upsert_keys = {"d", "id"};
  t0 = std::chrono::steady_clock::now();
  auto upserted = delta::WriteDeltaDestination(
      *session, up, "SELECT d, id, v + 1 AS v, s FROM src WHERE d = DATE '2024-01-05'", nullptr);
  Check(upserted.status(), "upsert");
  double upsert = Seconds(t0);
  auto snap = std::move(delta::LoadSnapshot(conn, work + "/part")).value();
  DeltaDestination full = part;
  full.write_mode.operation = DeltaWriteMode::Operation::kReplace;
  t0 = std::chrono::steady_clock::now();
  auto rewritten = delta::WriteDeltaDestination(*session, full, "SELECT * FROM src", nullptr);
  Check(rewritten.status(), "full rewrite");
  double rewrite = Seconds(t0);

  // 3. File skipping: a partition filter on the registered view vs a full scan.
  DeltaSource src{"t", Location{"file://" + work + "/part"}, {}, {}, {}};
  Check(delta::RegisterDeltaSource(*session, src), "register");
  t0 = std::chrono::steady_clock::now();
  Check(conn.Query("SELECT sum(v) FROM t").status(), "scan all");
  double scan_all = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  Check(conn.Query("SELECT sum(v) FROM t WHERE d = DATE '2024-01-05'").status(), "scan one");
  double scan_one = Seconds(t0);
  // Min/max skipping inside files: the unpartitioned table has ids in ascending row groups.
  DeltaSource flat{"a", Location{"file://" + work + "/append"}, {}, {}, {}};
  Check(delta::RegisterDeltaSource(*session, flat), "register append");
  t0 = std::chrono::steady_clock::now();
  Check(conn.Query("SELECT sum(v) FROM a").status(), "scan flat");
  double scan_flat = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  Check(conn.Query("SELECT sum(v) FROM a WHERE id BETWEEN 1000 AND 2000").status(), "scan stats");
  double scan_stats = Seconds(t0);

  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| rows | %lld |\n", static_cast<long long>(rows));
  std::printf(
      "| plain Parquet COPY | %.2f s |\n| Delta append (same data) | %.2f s |\n| ratio | %.2f |\n",
      plain, append, append / plain);
  std::printf("| upsert 1%% of keys (1 of 100 days) | %.2f s, files rewritten %lld / %zu |\n",
              upsert, static_cast<long long>(upserted->files_removed), snap.files.size());
  std::printf("| full rewrite (replace all) | %.2f s |\n| upsert / full rewrite | %.2f |\n",
              rewrite, upsert / rewrite);
  std::printf("| scan all (partitioned) | %.3f s |\n| scan one partition (d = ...) | %.3f s |\n",
              scan_all, scan_one);
  std::printf(
      "| scan all (unpartitioned) | %.3f s |\n| scan id range (min/max skipping) | %.3f s |\n",
      scan_flat, scan_stats);
  std::filesystem::remove_all(work);
  return 0;
}

// `aqueducts run --dask` end to end: a real Dask cluster (a scheduler and three worker processes
// on 127.0.0.1, started by tests/dask_cluster.py with Debian's python3-distributed), the real
// binary as driver and on the workers, each result compared with a local run of the same
// pipeline by DuckDB (EXCEPT ALL both ways).

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aqueducts/run.h"

#include "cli_harness.h"
#include "emulator.h"
#include "object_store_cli.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";
// Completes "read_parquet('" + dir to read a partitioned Parquet directory output.
constexpr char kHiveTail[] = "/**/*.parquet', hive_partitioning = true)";

// The cluster of a test: started before, stopped after (closing the helper's stdin).
class DaskCluster {
 public:
  bool Start(std::string* error) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) {
      *error = "pipe failed";
      return false;
    }
    std::string script = std::string(AQ_SOURCE_DIR) + "/tests/dask_cluster.py";
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      execl(kPython, kPython, script.c_str(), "--workers", "3", nullptr);
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    stdin_ = to_child[1];
    // The helper's first line says the cluster is up (or why not).
    std::string line;
    char c;
    while (read(from_child[0], &c, 1) == 1 && c != '\n') {
      line += c;
    }
    close(from_child[0]);
    std::istringstream words(line);
    std::string ready;
    words >> ready >> address_;
    pid_t worker;
    while (words >> worker) {
      workers_.push_back(worker);
    }
    if (ready != "ready" || workers_.size() != 3) {
      *error = "the Dask cluster did not start: '" + line + "'";
      return false;
    }
    return true;
  }
  ~DaskCluster() {
    if (stdin_ >= 0) {
      close(stdin_);
    }
    if (pid_ > 0) {
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  const std::string& address() const { return address_; }
  const std::vector<pid_t>& workers() const { return workers_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string address_;
  std::vector<pid_t> workers_;
};

bool HasDistributed() {
  return RunProcess(kPython, {"-c", "import distributed"}).exit_code == 0;
}

class DaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HasDistributed()) {
      GTEST_SKIP() << "python3-distributed is not installed for " << kPython
                   << " (tools/setup.sh installs it)";
    }
    std::string error;
    ASSERT_TRUE(cluster_.Start(&error)) << error;
    dir_ = fs::path(tmp_.str());
    WriteInput();
  }

  // Six Parquet files of different sizes with edge values: NULL, '', 'NULL', unicode, a
  // delimiter, decimal(38,18), old and far dates.
  void WriteInput() {
    auto db = Database::Open();
    ASSERT_TRUE(db.ok());
    fs::create_directories(dir_ / "in");
    for (int i = 0; i < 6; i++) {
      std::string sql =
          "COPY (SELECT (range + " + std::to_string(i * 100000) +
          ")::INTEGER AS id, "
          "CASE range % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'NULL' WHEN 3 THEN "
          "'héllo, wörld ✓' ELSE 'n' || range END AS name, "
          "(range * 1.5)::DECIMAL(38,18) AS amount, "
          "CASE range % 3 WHEN 0 THEN DATE '0001-01-01' WHEN 1 THEN DATE '9999-12-31' ELSE DATE "
          "'2024-02-29' END AS d, "
          "range % 2 = 0 AS flag, "
          "['north', 'south', 'east'][(range % 3) + 1] AS region "
          "FROM range(" +
          std::to_string(500 + i * 300) + ")) TO '" + (dir_ / "in").string() + "/part-" +
          std::to_string(i) + ".parquet' (FORMAT parquet)";
      ASSERT_TRUE((*db)->Execute(sql).ok()) << sql;
    }
  }

  std::string WritePipeline(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  CliResult Local(const std::string& pipeline, const std::string& out) {
    return RunCli({"run", "-f", pipeline, "-p", "dir=" + dir_.string(), "-p", "out=" + out});
  }
  CliResult Distributed(const std::string& pipeline, const std::string& out,
                        std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "run",        "-f",     pipeline,          "-p", "dir=" + dir_.string(), "-p",
        "out=" + out, "--dask", cluster_.address()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args);
  }

  // Rows of `a` not in `b` plus rows of `b` not in `a` (multisets), and the row count of `a`.
  std::pair<int64_t, int64_t> Difference(const std::string& a, const std::string& b) {
    auto db = Database::Open();
    EXPECT_TRUE(db.ok());
    std::string sql = "SELECT (SELECT count(*) FROM ((FROM " + a + " EXCEPT ALL FROM " + b +
                      ") UNION ALL (FROM " + b + " EXCEPT ALL FROM " + a +
                      "))), (SELECT count(*) FROM " + a + ")";
    auto rows = (*db)->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    if (!rows.ok()) {
      return {-1, -1};
    }
    return {std::stoll(*rows->rows[0][0]), std::stoll(*rows->rows[0][1])};
  }

  std::string Types(const std::string& relation) {
    auto db = Database::Open();
    auto rows = (*db)->Query(
        "SELECT string_agg(column_name || ' ' || column_type, ', ') FROM "
        "(DESCRIBE FROM " +
        relation + ")");
    return rows.ok() && rows->rows[0][0] ? *rows->rows[0][0] : rows.status().message();
  }

  // The table at `table` read back through a Delta source by a local run (as a user would), into
  // `table`.parquet; returns the read_parquet() of it.
  std::string ExportDelta(const std::string& table) {
    std::string pipeline = WritePipeline("export.yml", R"(version: v2
sources:
  - type: delta
    name: t
    location: ${dir}
stages:
  - - name: all_rows
      query: SELECT * FROM t
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
)");
    auto exported = RunCli(
        {"run", "-q", "-f", pipeline, "-p", "dir=" + table, "-p", "out=" + table + ".parquet"});
    EXPECT_EQ(exported.exit_code, 0) << exported.all();
    return "read_parquet('" + table + ".parquet')";
  }

  // Run `pipeline` locally into `local` and on the cluster into `dist` (with `extra`), and
  // expect the same rows (EXCEPT ALL both ways) and column types, `progress` (unless empty) in
  // the driver's messages and no staging left. Each output is read by "read_parquet('" + path +
  // read_tail. Returns the distributed run and the row count of its output (-1 when a run failed).
  std::pair<CliResult, int64_t> ExpectEqualRuns(const std::string& pipeline,
                                                const std::string& local, const std::string& dist,
                                                const std::vector<std::string>& extra,
                                                const std::string& progress,
                                                const std::string& read_tail = "')") {
    auto local_run = Local(pipeline, local);
    EXPECT_EQ(local_run.exit_code, 0) << local_run.all();
    auto run = Distributed(pipeline, dist, extra);
    EXPECT_EQ(run.exit_code, 0) << run.all();
    if (local_run.exit_code != 0 || run.exit_code != 0) {
      return {run, -1};
    }
    if (!progress.empty()) {
      EXPECT_NE(run.err.find(progress), std::string::npos) << run.err;
    }
    std::string read_local = "read_parquet('" + local + read_tail;
    std::string read_dist = "read_parquet('" + dist + read_tail;
    auto [difference, rows] = Difference(read_dist, read_local);
    EXPECT_EQ(difference, 0) << "the distributed output differs from the local one";
    EXPECT_EQ(Types(read_dist), Types(read_local));
    ExpectNoStaging(dist);
    return {run, rows};
  }

  // No staging directory of a distributed run is left beside `target`.
  void ExpectNoStaging(const fs::path& target) {
    for (const auto& entry : fs::directory_iterator(target.parent_path())) {
      std::string name = entry.path().filename().string();
      EXPECT_EQ(name.find(".aq-tmp-"), std::string::npos) << "left behind: " << name;
    }
  }

  TempDir tmp_{"dask"};
  fs::path dir_;
  DaskCluster cluster_;
};

constexpr char kMapPipeline[] = R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: cleaned
      query: >
        SELECT id, upper(name) AS name, amount * 2 AS amount, d, flag, region,
               unnest([1, 2]) AS copy
        FROM src WHERE id % 7 <> 0
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
  partition_columns: [region]
)";

TEST_F(DaskTest, MapOnlyPipelineToPartitionedParquetDirectoryEqualsLocalRun) {
  std::string pipeline = WritePipeline("map.yml", kMapPipeline);
  std::string local = (dir_ / "local").string(), dist = (dir_ / "dist").string();
  auto [run, rows] =
      ExpectEqualRuns(pipeline, local, dist, {"--partitions", "4"}, "4 of 4 partitions", kHiveTail);
  EXPECT_GT(rows, 1000);
  // Published like a local directory output: with its manifest, each file named after the
  // attempt that wrote it, nothing of the run left beside it.
  EXPECT_TRUE(fs::exists(fs::path(dist) / ".aqueducts-manifest"));
  EXPECT_TRUE(fs::is_directory(fs::path(dist) / "region=north"));
  std::string read_local = "read_parquet('" + local + kHiveTail;
  std::string read_dist = "read_parquet('" + dist + kHiveTail;

  // A second run replaces its own output (the manifest), as a local run does.
  auto again = Distributed(pipeline, dist, {"--partitions", "3"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_EQ(Difference(read_dist, read_local).first, 0);
}

constexpr char kAggregatePipeline[] = R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
  - type: file
    name: regions
    location: ${dir}/regions.csv
    format: { type: csv }
stages:
  - - name: totals
      query: >
        SELECT r.label, s.flag, count(*) AS n, count(s.name) AS named, sum(s.amount) AS total,
               sum(s.id) AS id_sum, min(s.name) AS first_name, max(s.d) AS last_day,
               avg(s.id) AS mean_id, bool_and(s.id > 0) AS all_positive,
               bool_or(s.name = 'NULL') AS has_null_text, sum(s.amount) / count(*) AS ratio
        FROM src s JOIN regions r ON r.region = s.region
        WHERE s.id % 5 <> 0
        GROUP BY r.label, s.flag
        HAVING count(*) > 10
        ORDER BY 1, 2
  - - name: ranked
      query: SELECT *, rank() OVER (ORDER BY total DESC) AS position FROM totals
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
)";

TEST_F(DaskTest, AggregatingPipelineRunsPartialsThenFinalAndEqualsLocalRun) {
  std::ofstream(dir_ / "regions.csv") << "region,label\nnorth,N\nsouth,S\neast,E\n";
  std::string pipeline = WritePipeline("agg.yml", kAggregatePipeline);
  std::string local = (dir_ / "local.parquet").string(), dist = (dir_ / "dist.parquet").string();
  EXPECT_EQ(ExpectEqualRuns(pipeline, local, dist, {}, "6 of 6 partitions").second, 6);
}

TEST_F(DaskTest, ExplainDistributionPrintsThePlanAndRunsNothing) {
  std::ofstream(dir_ / "regions.csv") << "region,label\nnorth,N\nsouth,S\neast,E\n";
  std::string pipeline = WritePipeline("agg.yml", kAggregatePipeline);
  std::string dist = (dir_ / "dist.parquet").string();
  auto run = Distributed(pipeline, dist, {"--partitions", "2", "--explain-distribution"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_NE(run.out.find("split source: 'src' (directory, 6 file(s)"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("into 2 partition(s)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("broadcast source: 'regions'"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("'totals': partial per partition + final on the driver"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("'ranked': on the driver (reads 'totals'"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("final (driver): SELECT"), std::string::npos) << run.out;
  EXPECT_FALSE(fs::exists(dist));
  ExpectNoStaging(dist);
}

TEST_F(DaskTest, JoinOfTwoSplitRelationsIsRefusedUpFrontNamingTheStage) {
  std::string pipeline = WritePipeline("join.yml", R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: evens
      query: SELECT * FROM src WHERE id % 2 = 0
    - name: odds
      query: SELECT * FROM src WHERE id % 2 = 1
  - - name: pairs
      query: SELECT e.id, o.id AS other FROM evens e JOIN odds o ON o.id = e.id + 1
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
)");
  std::string dist = (dir_ / "dist.parquet").string();
  auto run = Distributed(pipeline, dist);
  EXPECT_EQ(run.exit_code, 1) << run.all();
  EXPECT_NE(run.err.find("stage 'pairs' joins 'evens' and 'odds', which are both split"),
            std::string::npos)
      << run.err;
  EXPECT_FALSE(fs::exists(dist));
  ExpectNoStaging(dist);
}

TEST_F(DaskTest, StageErrorInAPartitionFailsTheRunNamingTheStageAndChangesNoDestination) {
  std::string pipeline = WritePipeline("bad.yml", R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: numbers
      query: SELECT CAST(name AS INTEGER) AS n FROM src
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
)");
  std::string dist = (dir_ / "dist").string();
  fs::create_directories(dist);
  std::ofstream(fs::path(dist) / "keep.txt") << "not ours";
  auto run = Distributed(pipeline, dist);
  EXPECT_EQ(run.exit_code, 1) << run.all();
  // "partition N: stage 'numbers' failed: <DuckDB's error>": the partition and the stage whose
  // SQL failed (DuckDB raises it at the partition's write, where the stage's view is run), not
  // the partition's internal output.
  EXPECT_TRUE(std::regex_search(
      run.err, std::regex("partition [0-9]+: stage 'numbers' failed: Conversion Error")))
      << run.err;
  EXPECT_EQ(run.err.find("partition output"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("no destination was changed"), std::string::npos) << run.err;
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dist)) {
    left.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(left, std::vector<std::string>{"keep.txt"});
  ExpectNoStaging(dist);
}

// The process id of an `aqueducts distribute-task` whose parent is one of `workers`, or -1.
std::pair<pid_t, pid_t> RunningTask(const std::vector<pid_t>& workers) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find("distribute-task") == std::string::npos) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t close = text.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream fields(text.substr(close + 2));
    char state;
    pid_t parent = 0;
    fields >> state >> parent;
    for (pid_t worker : workers) {
      if (worker == parent) {
        return {worker, static_cast<pid_t>(std::stol(name))};
      }
    }
  }
  return {-1, -1};
}

// Whether `pid` is a live process (not gone, not a zombie).
bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

// Each partition takes a while (a long list summed per row), so a task is seen running.
constexpr char kSlowStage[] = R"(stages:
  - - name: slow
      query: SELECT *, list_sum(range(30000 + id % 2))::BIGINT AS work FROM src
)";

constexpr char kSlowSource[] = R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
)";

// Run `pipeline` on the cluster; as soon as a task runs on a worker, kill that worker with
// SIGKILL. Returns the run and the killed task process (checked to be gone afterwards).
std::pair<CliResult, pid_t> RunKillingAWorker(const std::vector<pid_t>& workers,
                                              const std::function<CliResult()>& run_it) {
  CliResult run;
  std::thread driver([&] { run = run_it(); });
  // Await a task running on a worker, then kill that worker with SIGKILL.
  std::pair<pid_t, pid_t> found = {-1, -1};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (found.first < 0 && std::chrono::steady_clock::now() < deadline) {
    found = RunningTask(workers);
    if (found.first < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  bool killed = found.first > 0 && ::kill(found.first, SIGKILL) == 0;
  driver.join();
  if (!killed) {
    run.exit_code = -1;
    run.err = "no task was seen running on a worker (or it could not be killed)\n" + run.err;
  }
  return {run, found.second};
}

TEST_F(DaskTest, WorkerKilledMidTaskIsRetriedAndTheResultHasNoDuplicateRows) {
  std::string pipeline = WritePipeline("slow.yml", std::string(kSlowSource) + kSlowStage + R"(
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
)");
  std::string local = (dir_ / "local").string(), dist = (dir_ / "dist").string();
  auto local_run = Local(pipeline, local);
  ASSERT_EQ(local_run.exit_code, 0) << local_run.all();

  auto [run, task] = RunKillingAWorker(cluster_.workers(), [&] {
    return Distributed(pipeline, dist, {"--partitions", "6"});
  });
  ASSERT_EQ(run.exit_code, 0) << run.all();
  // The killed attempt's task process died with its worker and was never committed.
  EXPECT_FALSE(Alive(task)) << "the killed worker's task process is still running";
  std::string read_local = "read_parquet('" + local + "/**/*.parquet')";
  std::string read_dist = "read_parquet('" + dist + "/**/*.parquet')";
  auto [difference, rows] = Difference(read_dist, read_local);
  EXPECT_EQ(difference, 0);
  EXPECT_EQ(rows, Difference(read_local, read_local).second);
  auto db = Database::Open();
  auto ids = (*db)->Query("SELECT count(*) - count(DISTINCT id) FROM " + read_dist);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids->rows[0][0], "0") << "duplicate rows";
  ExpectNoStaging(dist);
}

// Commit files (*.json) in a Delta table's log.
int DeltaCommits(const std::string& table) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(table) / "_delta_log")) {
    n += entry.path().extension() == ".json" ? 1 : 0;
  }
  return n;
}

// Parquet data files under a Delta table's root (outside _delta_log).
std::set<std::string> DeltaDataFiles(const std::string& table) {
  std::set<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(table)) {
    std::string relative = entry.path().lexically_relative(table).generic_string();
    if (entry.is_regular_file() && entry.path().extension() == ".parquet" &&
        relative.rfind("_delta_log", 0) != 0) {
      out.insert(relative);
    }
  }
  return out;
}

// The add actions' paths of commit `version` of a Delta table (as logged: percent-encoded).
std::vector<std::string> AddedPaths(const std::string& table, int version) {
  char name[32];
  std::snprintf(name, sizeof name, "%020d.json", version);
  std::ifstream log(fs::path(table) / "_delta_log" / name);
  std::vector<std::string> out;
  std::string line;
  static const std::regex kPath("\"path\":\"([^\"]+)\"");
  while (std::getline(log, line)) {
    std::smatch match;
    if (line.rfind("{\"add\"", 0) == 0 && std::regex_search(line, match, kPath)) {
      out.push_back(match[1]);
    }
  }
  return out;
}

// Actions of kind `kind` ("add", "remove", "metaData", ...) in commit `version` of a table.
int CommitActions(const std::string& table, int version, const std::string& kind) {
  char name[32];
  std::snprintf(name, sizeof name, "%020d.json", version);
  std::ifstream log(fs::path(table) / "_delta_log" / name);
  int n = 0;
  std::string line;
  while (std::getline(log, line)) {
    n += line.rfind("{\"" + kind + "\"", 0) == 0 ? 1 : 0;
  }
  return n;
}

// The distinct partitionValues of the files live in a table (read from its log by DuckDB).
std::string PartitionValues(const std::string& table) {
  std::string log = "read_json('" + table +
                    "/_delta_log/*.json', format = 'newline_delimited', columns = {'add': 'JSON', "
                    "'remove': 'JSON'})";
  auto db = Database::Open();
  auto rows = (*db)->Query(
      "SELECT string_agg(DISTINCT pv, ' ' ORDER BY pv) FROM (SELECT add->>'path' AS p, "
      "CAST(add->'partitionValues' AS VARCHAR) AS pv FROM " +
      log + " WHERE add IS NOT NULL) WHERE p NOT IN (SELECT remove->>'path' FROM " + log +
      " WHERE remove IS NOT NULL)");
  return rows.ok() && rows->rows[0][0] ? *rows->rows[0][0] : rows.status().message();
}

// Data files in all commits of a Delta table.
size_t AllAddedFiles(const std::string& table) {
  size_t adds = 0;
  for (int version = 0; version < DeltaCommits(table); version++) {
    adds += AddedPaths(table, version).size();
  }
  return adds;
}

TEST_F(DaskTest, WorkerKilledMidTaskIntoDeltaMakesOneCommitWithoutDuplicatesOrStrayFiles) {
  std::string pipeline = WritePipeline("slow_delta.yml", std::string(kSlowSource) + kSlowStage + R"(
destination:
  type: delta
  name: table
  location: ${out}
  write_mode: { operation: append }
)");
  std::string local = (dir_ / "local_table").string(), dist = (dir_ / "dist_table").string();
  // Both tables exist (a first local append), so the distributed append commits the tasks' own
  // Delta files; the local table gets the second append locally.
  for (const std::string& table : {local, dist, local}) {
    auto local_run = Local(pipeline, table);
    ASSERT_EQ(local_run.exit_code, 0) << local_run.all();
  }
  auto explain = Distributed(pipeline, dist, {"--partitions", "6", "--explain-distribution"});
  EXPECT_NE(explain.out.find("Delta data files named after its attempt"), std::string::npos)
      << explain.all();

  auto [run, task] = RunKillingAWorker(cluster_.workers(), [&] {
    return Distributed(pipeline, dist, {"--partitions", "6"});
  });
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_FALSE(Alive(task)) << "the killed worker's task process is still running";
  // Exactly the commits the local runs made, and every data file in the table is one the log
  // adds: nothing of the killed attempt reached the table.
  EXPECT_EQ(DeltaCommits(dist), DeltaCommits(local));
  EXPECT_EQ(DeltaDataFiles(dist).size(), AllAddedFiles(dist))
      << "a data file in the table that no commit adds";
  std::string exported = ExportDelta(dist), expected = ExportDelta(local);
  auto [difference, rows] = Difference(exported, expected);
  EXPECT_EQ(difference, 0);
  EXPECT_EQ(rows, Difference(expected, expected).second);
  // Each source row twice (two appends), never three times.
  auto db = Database::Open();
  auto ids = (*db)->Query("SELECT count(*) FROM (SELECT id FROM " + exported +
                          " GROUP BY id HAVING count(*) <> 2)");
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(*ids->rows[0][0], "0") << "rows lost or duplicated";
  ExpectNoStaging(dist);
}

TEST_F(DaskTest, DeltaAppendsEqualLocalAppendsAndCommitTheTasksOwnFilesOnce) {
  std::string pipeline = WritePipeline("delta.yml", R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: rows
      query: SELECT id, name, amount, d, region FROM src WHERE id % 3 <> 0
destination:
  type: delta
  name: table
  location: ${out}
  write_mode: { operation: append }
  partition_columns: [region]
)");
  std::string local = (dir_ / "local_table").string(), dist = (dir_ / "dist_table").string();
  for (int i = 0; i < 3; i++) {
    auto local_run = Local(pipeline, local);
    ASSERT_EQ(local_run.exit_code, 0) << local_run.all();
    // The first run creates the table (no `schema`: each task infers the columns of its rows as
    // a local run does, and the first commit holds the table's protocol, metadata and the
    // tasks' files); later ones append the tasks' own files.
    auto explain = Distributed(pipeline, dist, {"--partitions", "3", "--explain-distribution"});
    ASSERT_EQ(explain.exit_code, 0) << explain.all();
    EXPECT_NE(explain.out.find("Delta data files named after its attempt"), std::string::npos)
        << explain.out;
    EXPECT_EQ(explain.out.find("the first commit of the new table") != std::string::npos, i == 0)
        << explain.out;
    auto run = Distributed(pipeline, dist, {"--partitions", "3"});
    ASSERT_EQ(run.exit_code, 0) << run.all();
    EXPECT_NE(run.err.find("3 of 3 partitions"), std::string::npos) << run.err;
    int version = DeltaCommits(dist) - 1;
    EXPECT_EQ(version, i);
    EXPECT_NE(
        run.all().find("to the Delta table '" + dist + "' at version " + std::to_string(version)),
        std::string::npos)
        << run.all();
    // Every file of the commit is a task's own, named after its attempt (32 hex digits).
    std::vector<std::string> added = AddedPaths(dist, version);
    EXPECT_GE(added.size(), 3u);
    static const std::regex kAttemptFile("region=[a-z]+/[0-9a-f]{32}-part-[^/]+\\.parquet");
    for (const auto& path : added) {
      EXPECT_TRUE(std::regex_match(path, kAttemptFile)) << path;
    }
  }
  EXPECT_EQ(CommitActions(dist, 0, "protocol"), 1);
  EXPECT_EQ(CommitActions(dist, 0, "metaData"), 1);
  // Both tables read back through a Delta source, as a user would.
  std::string exported = ExportDelta(dist), expected = ExportDelta(local);
  auto [difference, rows] = Difference(exported, expected);
  EXPECT_EQ(difference, 0);
  EXPECT_GT(rows, 6000);
  EXPECT_EQ(Types(exported), Types(expected));
  EXPECT_EQ(PartitionValues(dist), PartitionValues(local));
  // One commit per run (a local run creates the table in a commit of its own first), and no data
  // file that no commit adds.
  EXPECT_EQ(DeltaCommits(dist), DeltaCommits(local) - 1);
  EXPECT_EQ(DeltaDataFiles(dist).size(), AllAddedFiles(dist));
  ExpectNoStaging(dist);
}

// A new table with `schema` (types pinned, partitioned), then replaced: each distributed run
// makes one commit of the tasks' own files (the first creates the table; the second removes
// every live file and adds the new ones), and reads back as the local runs' table.
TEST_F(DaskTest, DeltaNewTableWithSchemaThenReplaceCommitTheTasksFilesAndEqualLocalRuns) {
  std::string pipeline = WritePipeline("replace.yml", R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: rows
      query: SELECT id, name, amount, d, region FROM src WHERE id % ${keep} <> 0
destination:
  type: delta
  name: table
  location: ${out}
  write_mode: { operation: replace, params: [] }
  partition_columns: [region]
  schema:
    - { name: id, data_type: int64, nullable: false }
    - { name: name, data_type: utf8 }
    - { name: amount, data_type: "decimal<38,18>" }
    - { name: d, data_type: date32 }
    - { name: region, data_type: utf8 }
)");
  std::string local = (dir_ / "local_table").string(), dist = (dir_ / "dist_table").string();
  for (std::string keep : {"3", "5"}) {
    auto local_run = RunCli({"run", "-f", pipeline, "-p", "dir=" + dir_.string(), "-p",
                             "out=" + local, "-p", "keep=" + keep});
    ASSERT_EQ(local_run.exit_code, 0) << local_run.all();
    auto run = Distributed(pipeline, dist, {"--partitions", "3", "-p", "keep=" + keep});
    ASSERT_EQ(run.exit_code, 0) << run.all();
    EXPECT_NE(run.all().find(keep == "3" ? "at version 0 (created)" : "at version 1 (replacing "),
              std::string::npos)
        << run.all();
    std::string exported = ExportDelta(dist), expected = ExportDelta(local);
    auto [difference, rows] = Difference(exported, expected);
    EXPECT_EQ(difference, 0) << "keep=" << keep;
    EXPECT_GT(rows, 4000);
    EXPECT_EQ(Types(exported), Types(expected));
    EXPECT_EQ(PartitionValues(dist), PartitionValues(local));
    fs::remove(exported.substr(14, exported.size() - 16));  // the export of this round
    fs::remove(expected.substr(14, expected.size() - 16));
  }
  // Two commits: the created table with the first files, then the replace, which removes
  // exactly the files the first added.
  EXPECT_EQ(DeltaCommits(dist), 2);
  EXPECT_EQ(CommitActions(dist, 1, "remove"), static_cast<int>(AddedPaths(dist, 0).size()));
  EXPECT_EQ(CommitActions(dist, 1, "metaData"), 0);
  EXPECT_EQ(DeltaDataFiles(dist).size(), AllAddedFiles(dist));
  ExpectNoStaging(dist);
}

// A task that fails (a cast error in the partition holding part-5.parquet) fails the run: a new
// table is not created, an existing one is not replaced, and no file of any attempt is left.
TEST_F(DaskTest, DeltaCreateOrReplaceWithAFailingTaskChangesNothingAndLeavesNoFiles) {
  std::string pipeline = WritePipeline("failing.yml", R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: rows
      query: >
        SELECT CASE WHEN id >= 500000 THEN CAST(name AS INTEGER) ELSE id END AS id, region
        FROM src
destination:
  type: delta
  name: table
  location: ${out}
  write_mode: ${mode}
)");
  std::string fresh = (dir_ / "new_table").string(), existing = (dir_ / "old_table").string();
  auto created = RunCli({"run", "-f", WritePipeline("seed.yml", R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: rows
      query: SELECT id, region FROM src WHERE id < 100
destination:
  type: delta
  name: table
  location: ${out}
  write_mode: { operation: append }
)"),
                         "-p", "dir=" + dir_.string(), "-p", "out=" + existing});
  ASSERT_EQ(created.exit_code, 0) << created.all();
  std::set<std::string> files_before = DeltaDataFiles(existing);
  int commits_before = DeltaCommits(existing);
  for (const auto& [table, mode] : std::vector<std::pair<std::string, std::string>>{
           {fresh, "{ operation: append }"},
           {fresh, "{ operation: replace, params: [] }"},
           {existing, "{ operation: replace, params: [] }"}}) {
    auto explain = Distributed(pipeline, table, {"-p", "mode=" + mode, "--explain-distribution"});
    EXPECT_NE(explain.out.find(table == fresh ? "the first commit of the new table"
                                              : "a replace of every file live at version"),
              std::string::npos)
        << explain.all();
    auto run = Distributed(pipeline, table, {"-p", "mode=" + mode});
    EXPECT_EQ(run.exit_code, 1) << run.all();
    EXPECT_TRUE(std::regex_search(
        run.err, std::regex("partition [0-9]+: stage 'rows' failed: Conversion Error")))
        << run.err;
    ExpectNoStaging(table);
  }
  EXPECT_FALSE(fs::exists(fresh)) << "the failed run created the table's directory";
  EXPECT_EQ(DeltaCommits(existing), commits_before);
  EXPECT_EQ(DeltaDataFiles(existing), files_before);
  std::string exported = ExportDelta(existing);
  EXPECT_EQ(Difference(exported, exported).second, 100);
}

// A Delta table written by Spark with deletion vectors (in the repository's test data): 37
// physical rows in 10 partitions, 2 of them deleted by deletion vectors, a checkpoint at version
// 10 and commits up to 15. Copied, so nothing can touch the fixture.
class DaskDeltaSourceTest : public DaskTest {
 protected:
  void SetUp() override {
    DaskTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    fs::copy(kFixture, dir_ / "table", fs::copy_options::recursive);
  }
  static constexpr char kFixture[] =
      AQ_SOURCE_DIR "/tests/fixtures/delta/golden_dv-partitioned-with-checkpoint/delta";
  // The table's content at its latest version, as its writer's test suite expects it.
  static constexpr char kExpected[] =
      AQ_SOURCE_DIR "/tests/fixtures/delta/golden_dv-partitioned-with-checkpoint/expected";
};

constexpr char kDeltaSourceMap[] = R"(version: v2
sources:
  - type: delta
    name: t
    location: ${dir}/table
stages:
  - - name: rows
      query: SELECT part, col1, col2, col1 * 2 AS twice, upper(col2) AS shout FROM t
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
  partition_columns: [part]
)";

TEST_F(DaskDeltaSourceTest, DeltaSourceWithDeletionVectorsIsSplitByLiveFilesAndEqualsLocalRun) {
  std::string pipeline = WritePipeline("delta_map.yml", kDeltaSourceMap);
  std::string local = (dir_ / "local").string(), dist = (dir_ / "dist").string();

  auto explain = Distributed(pipeline, dist, {"--partitions", "3", "--explain-distribution"});
  ASSERT_EQ(explain.exit_code, 0) << explain.all();
  EXPECT_NE(explain.out.find("split source: 't' (Delta table at version 15, "), std::string::npos)
      << explain.out;
  EXPECT_NE(explain.out.find("with a deletion vector"), std::string::npos) << explain.out;
  EXPECT_NE(explain.out.find("into 3 partition(s)"), std::string::npos) << explain.out;

  auto [run, rows] =
      ExpectEqualRuns(pipeline, local, dist, {"--partitions", "3"}, "3 of 3 partitions", kHiveTail);
  std::string read_dist = "read_parquet('" + dist + kHiveTail;
  // The rows the deletion vectors delete are gone: 35 of the 37 physical rows, exactly the
  // table's expected content.
  EXPECT_EQ(rows, 35);
  std::string expected =
      "(SELECT part, col1, col2, col1 * 2 AS twice, upper(col2) AS shout FROM "
      "read_parquet('" +
      std::string(kExpected) + "/*.parquet'))";
  EXPECT_EQ(
      Difference("(SELECT part, col1, col2, twice, shout FROM " + read_dist + ")", expected).first,
      0);
}

TEST_F(DaskDeltaSourceTest, DeltaSourceAtAnOldVersionAggregatedEqualsLocalRun) {
  // Version 7 (before the checkpoint) as the split source, aggregated per partition value; the
  // same table at its latest version broadcast to every partition for a join.
  std::string pipeline = WritePipeline("delta_agg.yml", R"(version: v2
sources:
  - type: delta
    name: old
    location: ${dir}/table
    version: 7
  - type: delta
    name: latest
    location: ${dir}/table
stages:
  - - name: totals
      query: >
        SELECT o.part, count(*) AS n, sum(o.col1) AS total, min(o.col2) AS first_name,
               count(l.col1) AS still_live
        FROM old o LEFT JOIN latest l ON l.part = o.part AND l.col1 = o.col1
        GROUP BY o.part ORDER BY o.part
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
)");
  std::string local = (dir_ / "local.parquet").string(), dist = (dir_ / "dist.parquet").string();
  auto explain = Distributed(pipeline, dist, {"--explain-distribution"});
  ASSERT_EQ(explain.exit_code, 0) << explain.all();
  EXPECT_NE(explain.out.find("split source: 'old' (Delta table at version 7, "), std::string::npos)
      << explain.out;
  EXPECT_NE(explain.out.find("broadcast source: 'latest' ("), std::string::npos) << explain.out;
  EXPECT_NE(explain.out.find("Delta table at version 15)"), std::string::npos) << explain.out;
  EXPECT_NE(explain.out.find("'totals': partial per partition + final on the driver"),
            std::string::npos)
      << explain.out;

  EXPECT_EQ(ExpectEqualRuns(pipeline, local, dist, {"--partitions", "4"}, "").second, 10);
}

// An S3 bucket (the S3 emulator) holding the input: a Parquet directory written by a partitioned
// directory destination (so it has a manifest), a stray object the manifest does not list (never
// read, by a local run nor by the partitions), and a CSV file broadcast to every partition.
class DaskObjectStoreTest : public DaskTest {
 protected:
  void SetUp() override {
    DaskTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    s3_ = Emulator::Start(Emulator::Kind::kS3);
    ASSERT_NE(s3_, nullptr);
    config_ = ConfigYaml(s3_->Config());
    std::ofstream(dir_ / "regions.csv") << "region,label\nnorth,N\nsouth,S\neast,E\n";
    std::string upload = WritePipeline("upload.yml", R"(version: v2
sources:
  - type: directory
    name: src
    location: ${dir}/in
    format: { type: parquet }
stages:
  - - name: copied
      query: SELECT * FROM src
destination:
  type: file
  name: bucket
  location: s3://bucket/in/
  format: { type: parquet }
  partition_columns: [region, flag]
  storage_config: )" + config_ + "\n");
    auto up = Local(upload, "unused");
    ASSERT_EQ(up.exit_code, 0) << up.all();
    for (const auto& [from, to, format] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"${dir}/in/part-0.parquet", "s3://bucket/in/region=west/stray.parquet", "parquet"},
             {"${dir}/regions.csv", "s3://bucket/regions.csv", "csv"}}) {
      std::string copy = WritePipeline("copy.yml",
                                       "version: v2\nsources:\n  - {type: file, name: f, "
                                       "location: '" +
                                           from + "', format: {type: " + format +
                                           "}}\nstages: [[{name: s, query: "
                                           "'SELECT * FROM f'}]]\ndestination: {type: "
                                           "file, name: o, location: '" +
                                           to + "', format: {type: " + format +
                                           "}, storage_config: " + config_ + "}\n");
      auto copied = Local(copy, "unused");
      ASSERT_EQ(copied.exit_code, 0) << copied.all();
    }
  }

  std::unique_ptr<Emulator> s3_;
  std::string config_;
};

TEST_F(DaskObjectStoreTest, S3DirectorySourceIsSplitByObjectsAndEqualsLocalRun) {
  std::string sources = R"(version: v2
sources:
  - type: directory
    name: src
    location: s3://bucket/in/
    format: { type: parquet }
    storage_config: )" + config_ +
                        R"(
  - type: file
    name: regions
    location: s3://bucket/regions.csv
    format: { type: csv }
    storage_config: )" + config_ +
                        "\n";
  std::string map = WritePipeline("s3_map.yml", sources + R"(stages:
  - - name: cleaned
      query: >
        SELECT s.id, upper(s.name) AS name, s.amount * 2 AS amount, s.d, r.label
        FROM src s CROSS JOIN (SELECT label FROM regions WHERE region = 'north') r
        WHERE s.id % 7 <> 0
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
  partition_columns: [label]
)");
  std::string local = (dir_ / "local").string(), dist = (dir_ / "dist").string();
  auto explain = Distributed(map, dist, {"--partitions", "4", "--explain-distribution"});
  ASSERT_EQ(explain.exit_code, 0) << explain.all();
  // The six objects the manifest lists (one per region and flag), not the stray one; the CSV
  // object broadcast.
  EXPECT_NE(explain.out.find("split source: 'src' (object-store directory, 6 file(s)"),
            std::string::npos)
      << explain.out;
  EXPECT_NE(explain.out.find("into 4 partition(s)"), std::string::npos) << explain.out;
  EXPECT_NE(explain.out.find("broadcast source: 'regions'"), std::string::npos) << explain.out;
  ExpectEqualRuns(map, local, dist, {"--partitions", "4"}, "4 of 4 partitions", kHiveTail);

  // An aggregate over the same objects: partials per partition, the final step on the driver.
  std::string agg = WritePipeline("s3_agg.yml", sources + R"(stages:
  - - name: totals
      query: >
        SELECT r.label, count(*) AS n, sum(s.amount) AS total, min(s.name) AS first_name
        FROM src s JOIN regions r ON r.region = 'north'
        GROUP BY r.label
destination:
  type: file
  name: out
  location: ${out}
  format: { type: parquet }
)");
  ExpectEqualRuns(agg, (dir_ / "local.parquet").string(), (dir_ / "dist.parquet").string(),
                  {"--partitions", "3"}, "3 of 3 partitions", "')");
}

}  // namespace
}  // namespace aqueducts::testing

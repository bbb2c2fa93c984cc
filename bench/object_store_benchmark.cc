// Object-store figures (issue 11) against the S3 emulator that the tests use
// (tests/emulators/start.js: s3rver behind our create-only middleware, on 127.0.0.1):
// - a selective read of a Parquet object (ids in a window of 100,000 rows): the bytes the
//   emulator sent (its HTTP responses, headers included) against the object's size, next to the
//   bytes bare DuckDB reads of the same file on local disk for the same query;
// - a full scan of the same data from the emulator and from local disk (aqueducts), and from
//   local disk by bare DuckDB (bench/duckdb_sql.c; DuckDB's own httpfs extension is not
//   installed on this machine and cannot be downloaded, so no bare-DuckDB S3 figure);
// - the raw transfer rate of the store client to and from the emulator (one whole-object GET,
//   one multipart upload in 8 MiB parts), which bounds the scan and write figures above;
// - a plain Parquet write to S3, a Delta append to S3, and the same Parquet write to local disk.
// Bytes are counted by the kernel: /proc/<pid>/io wchar of the emulator (each byte it writes to
// a socket; it writes nothing else while it serves reads) and rchar of bare DuckDB's process.
// Each pipeline run has a fresh database (as a CLI run), so DuckDB's cache of remote file blocks
// is empty; one extra pair of runs in one database shows that cache. Times are medians of `reps`
// interleaved runs; CPU is the benchmark process's user + system
// time (the emulator runs in its own process). Prints Markdown tables for docs/benchmarks.md.
// Usage: object_store_benchmark [rows=2000000] [reps=3] [source_dir=.]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "storage/object_url.h"
#include "storage/store_registry.h"

using namespace aqueducts;

namespace {

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One counter of /proc/<pid>/io ("rchar", "wchar").
int64_t IoCounter(pid_t pid, const std::string& name) {
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == name + ":") {
      return value;
    }
  }
  return -1;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// s3rver on a free port, in its own process group.
pid_t StartS3(const std::string& source_dir, const std::string& data_dir, int* port) {
  int out[2];
  if (pipe(out) != 0) {
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    setpgid(0, 0);
    std::string script = source_dir + "/tests/emulators/start.js";
    execlp("node", "node", "--openssl-legacy-provider", script.c_str(), "s3", data_dir.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* stream = fdopen(out[0], "r");
  char line[256];
  while (std::fgets(line, sizeof line, stream) != nullptr) {
    if (std::sscanf(line, "READY %d", port) == 1) {
      break;
    }
  }
  std::fclose(stream);
  return pid;
}

struct Sample {
  double seconds = 0;
  double cpu = 0;
  int64_t emulator_sent = 0;  // bytes the emulator wrote during the run
};

// One pipeline run; `db` nullptr: a fresh database for the run, as the CLI does (DuckDB's cache
// of remote file blocks starts empty).
Sample Run(Database* db, const std::string& yaml, pid_t emulator) {
  auto aqueduct = LoadAqueductFromString(yaml, Format::kYaml);
  Check(aqueduct.status(), "load");
  RunOptions options;
  options.database = db;
  int64_t sent = IoCounter(emulator, "wchar");
  double cpu = CpuSeconds();
  auto start = std::chrono::steady_clock::now();
  Check(RunPipeline(*aqueduct, options, nullptr), "run");
  Sample sample;
  sample.seconds = Since(start);
  sample.cpu = CpuSeconds() - cpu;
  sample.emulator_sent = IoCounter(emulator, "wchar") - sent;
  return sample;
}

// Bare DuckDB (bench/duckdb_sql) running `sql` in a fresh process: wall seconds and rchar.
Sample BareDuckDb(const std::string& sql) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(AQ_DUCKDB_SQL_BIN, AQ_DUCKDB_SQL_BIN, sql.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto start = std::chrono::steady_clock::now();
  siginfo_t info{};
  // Wait without reaping, so the finished process's counters can still be read.
  waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT);
  Sample sample;
  sample.seconds = Since(start);
  sample.emulator_sent = IoCounter(pid, "rchar");
  rusage usage{};
  int status = 0;
  wait4(pid, &status, 0, &usage);
  sample.cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
               (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bare DuckDB failed: %s\n", sql.c_str());
    std::exit(1);
  }
  return sample;
}

struct Series {
  std::vector<double> seconds, cpu, bytes;
  void Add(const Sample& s) {
    seconds.push_back(s.seconds);
    cpu.push_back(s.cpu);
    bytes.push_back(static_cast<double>(s.emulator_sent));
  }
};

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = argc > 1 ? std::atoll(argv[1]) : 2000000;
  int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  std::string source_dir = argc > 3 ? argv[3] : ".";
  std::filesystem::path work =
      std::filesystem::temp_directory_path() / ("aq_objstore_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(work / "s3");
  int port = 0;
  pid_t emulator = StartS3(source_dir, (work / "s3").string(), &port);
  if (emulator <= 0 || port == 0) {
    std::fprintf(stderr, "the S3 emulator did not start (run from the source directory)\n");
    return 1;
  }
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  const std::string config =
      "{aws_access_key_id: S3RVER, aws_secret_access_key: S3RVER, "
      "aws_endpoint: '" +
      endpoint + "', aws_allow_http: 'true', aws_region: us-east-1}";
  const std::string data =
      "SELECT range AS id, hash(range) % 1000 AS category, "
      "(hash(range) % 100000) / 100.0 AS value, md5(range::VARCHAR) AS payload "
      "FROM range(" +
      std::to_string(rows) + ")";
  auto write = [&](const std::string& location, const std::string& storage,
                   const std::string& kind) {
    std::string destination =
        kind == "delta"
            ? "destination: {type: delta, name: out, location: '" + location +
                  "', storage_config: " + storage +
                  ", write_mode: {operation: append}, schema: [{name: id, data_type: int64}, "
                  "{name: category, data_type: int64}, {name: value, data_type: float64}, "
                  "{name: payload, data_type: string}]}\n"
            : "destination: {type: file, name: out, format: {type: parquet, options: {}}, "
              "location: '" +
                  location + "', single_file: true, storage_config: " + storage + "}\n";
    return "sources: []\nstages: [[{name: s, query: \"" + data + "\"}]]\n" + destination;
  };
  auto read = [&](const std::string& location, const std::string& storage,
                  const std::string& query) {
    return "sources: [{type: file, name: f, format: {type: parquet, options: {}}, location: '" +
           location + "', storage_config: " + storage + "}]\nstages: [[{name: s, query: \"" +
           query + "\"}]]\ndestination: {type: in_memory, name: result}\n";
  };
  const std::string local = (work / "data.parquet").string();
  const std::string remote = "s3://bucket/bench/data.parquet";
  Run(nullptr, write(local, "{}", "file"), emulator);
  Run(nullptr, write(remote, config, "file"), emulator);
  const double size = static_cast<double>(std::filesystem::file_size(local));

  // 1. Selective read: ids in one window of 100,000 rows.
  const std::string window =
      " WHERE id BETWEEN " + std::to_string(rows / 2) + " AND " + std::to_string(rows / 2 + 99999);
  const std::string selective = "SELECT count(*) AS n, sum(value) AS v FROM f" + window;
  const std::string bare_selective =
      "SELECT count(*), sum(value) FROM read_parquet('" + local + "')" + window;
  Series selective_s3, selective_bare;
  for (int i = 0; i < reps; i++) {
    selective_s3.Add(Run(nullptr, read(remote, config, selective), emulator));
    selective_bare.Add(BareDuckDb(bare_selective));
  }

  // 2. Full scans, interleaved: aqueducts local, aqueducts S3, bare DuckDB local.
  const std::string aggregates =
      "count(*) AS n, sum(value) AS v, count(DISTINCT category) AS c, max(payload) AS p";
  const std::string scan = "SELECT " + aggregates + " FROM f";
  const std::string bare_scan = "SELECT " + aggregates + " FROM read_parquet('" + local + "')";
  Series scan_local, scan_s3, scan_bare;
  for (int i = 0; i < reps; i++) {
    scan_local.Add(Run(nullptr, read(local, "{}", scan), emulator));
    scan_s3.Add(Run(nullptr, read(remote, config, scan), emulator));
    scan_bare.Add(BareDuckDb(bare_scan));
  }

  // The same scan twice in one database: DuckDB keeps the blocks of a remote file whose version
  // tag (the ETag) did not change, so the second run reads nothing from the store.
  auto db = Database::Open();
  Check(db.status(), "open");
  Sample first_in_db = Run(db->get(), read(remote, config, scan), emulator);
  Sample second_in_db = Run(db->get(), read(remote, config, scan), emulator);

  // 3. Raw store client rates: the whole object down in one GET, and up in 8 MiB parts.
  auto url = storage::ParseObjectUrl(remote);
  Check(url.status(), "url");
  auto store = storage::OpenStore(*url, {{"aws_access_key_id", "S3RVER"},
                                         {"aws_secret_access_key", "S3RVER"},
                                         {"aws_endpoint", endpoint},
                                         {"aws_allow_http", "true"},
                                         {"aws_region", "us-east-1"}});
  Check(store.status(), "store");
  std::vector<double> get_s, put_s;
  std::string body;
  for (int i = 0; i < reps; i++) {
    auto start = std::chrono::steady_clock::now();
    auto got = (*store)->Get(url->key);
    Check(got.status(), "get");
    get_s.push_back(Since(start));
    body = std::move(*got);
    start = std::chrono::steady_clock::now();
    auto upload = (*store)->StartUpload("bench/raw.bin");
    Check(upload.status(), "upload");
    const size_t part = 8u << 20;
    for (size_t at = 0; at < body.size(); at += part) {
      Check((*upload)->UploadPart(std::string_view(body).substr(at, part)), "part");
    }
    Check((*upload)->Complete(), "complete");
    put_s.push_back(Since(start));
  }

  // 4. Writes, interleaved: Parquet to local disk, Parquet to S3, Delta append to S3, and bare
  // DuckDB's COPY of the same rows to local disk.
  Series write_local, write_s3, write_delta, write_bare;
  for (int i = 0; i < reps; i++) {
    std::string n = std::to_string(i);
    write_local.Add(
        Run(nullptr, write((work / ("w" + n + ".parquet")).string(), "{}", "file"), emulator));
    write_s3.Add(
        Run(nullptr, write("s3://bucket/bench/w" + n + ".parquet", config, "file"), emulator));
    write_delta.Add(Run(nullptr, write("s3://bucket/bench/delta", config, "delta"), emulator));
    write_bare.Add(BareDuckDb("COPY (" + data + ") TO '" +
                              (work / ("b" + n + ".parquet")).string() + "' (FORMAT parquet)"));
  }

  const double mb = size / 1e6;
  std::printf("%lld rows, Parquet file %.1f MB, medians of %d runs\n\n",
              static_cast<long long>(rows), mb, reps);
  std::printf(
      "| selective read (100,000-row id window) | bytes read | of the file | time | CPU |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf(
      "| aqueducts, S3 emulator (bytes the emulator sent) | %.2f MB | %.1f %% | %.3f s | "
      "%.2f s |\n",
      Median(selective_s3.bytes) / 1e6, 100.0 * Median(selective_s3.bytes) / size,
      Median(selective_s3.seconds), Median(selective_s3.cpu));
  std::printf(
      "| bare DuckDB, local file (bytes read(2) by the process) | %.2f MB | %.1f %% | "
      "%.3f s | %.2f s |\n\n",
      Median(selective_bare.bytes) / 1e6, 100.0 * Median(selective_bare.bytes) / size,
      Median(selective_bare.seconds), Median(selective_bare.cpu));
  std::printf("| full scan | time | MB/s of file | CPU | bytes read |\n|---|---|---|---|---|\n");
  std::printf("| aqueducts, local disk | %.3f s | %.0f | %.2f s | - |\n",
              Median(scan_local.seconds), mb / Median(scan_local.seconds), Median(scan_local.cpu));
  std::printf(
      "| aqueducts, S3 emulator | %.3f s | %.0f | %.2f s | %.1f MB sent by the emulator |\n",
      Median(scan_s3.seconds), mb / Median(scan_s3.seconds), Median(scan_s3.cpu),
      Median(scan_s3.bytes) / 1e6);
  std::printf("| bare DuckDB, local disk (whole process) | %.3f s | %.0f | %.2f s | %.1f MB |\n\n",
              Median(scan_bare.seconds), mb / Median(scan_bare.seconds), Median(scan_bare.cpu),
              Median(scan_bare.bytes) / 1e6);
  std::printf(
      "| the same S3 scan twice in one database | first: %.1f MB sent, %.3f s | second: "
      "%.1f MB sent, %.3f s |\n\n",
      first_in_db.emulator_sent / 1e6, first_in_db.seconds, second_in_db.emulator_sent / 1e6,
      second_in_db.seconds);
  std::printf("| store client, raw | time | MB/s |\n|---|---|---|\n");
  std::printf("| GET whole object | %.3f s | %.0f |\n", Median(get_s), mb / Median(get_s));
  std::printf("| multipart upload, 8 MiB parts | %.3f s | %.0f |\n\n", Median(put_s),
              mb / Median(put_s));
  std::printf("| write %lld rows | time | CPU |\n|---|---|---|\n", static_cast<long long>(rows));
  std::printf("| aqueducts, Parquet file, local disk | %.3f s | %.2f s |\n",
              Median(write_local.seconds), Median(write_local.cpu));
  std::printf("| aqueducts, Parquet object, S3 emulator | %.3f s | %.2f s |\n",
              Median(write_s3.seconds), Median(write_s3.cpu));
  std::printf("| aqueducts, Delta append, S3 emulator | %.3f s | %.2f s |\n",
              Median(write_delta.seconds), Median(write_delta.cpu));
  std::printf("| bare DuckDB COPY, local disk (whole process) | %.3f s | %.2f s |\n",
              Median(write_bare.seconds), Median(write_bare.cpu));
  kill(-emulator, SIGKILL);
  waitpid(emulator, nullptr, 0);
  std::filesystem::remove_all(work);
  return 0;
}

// RunOnDask (distribute/dask_run.h): plan, run the Dask driver, commit.

#include "distribute/dask_run.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aqueducts/loader.h"

#include "delta/distributed_append.h"
#include "delta/log.h"
#include "distribute/task.h"
#include "engine/distribution_sql.h"
#include "engine/session.h"
#include "io/files.h"
#include "io/output_dir.h"

extern char** environ;

namespace aqueducts::distribute {
namespace {

namespace fs = std::filesystem;
namespace files = io::files;

constexpr char kDriverScript[] = "aqueducts_dask.py";

std::string SelfPath() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? std::string() : self.string();
}

std::string SqlList(const std::string& dir, const std::vector<std::string>& names) {
  std::string out = "[";
  for (const auto& name : names) {
    std::string path = dir + "/" + name;
    std::string quoted = "'";
    for (char c : path) {
      quoted += c;
      if (c == '\'') {
        quoted += c;
      }
    }
    out += (out.size() > 1 ? ", " : "") + quoted + "'";
  }
  return out + "]";
}

// Run the Dask driver and wait for it; a cancel is passed on as SIGINT (the driver then cancels
// every task). Returns its exit code.
Result<int> RunDriver(const std::vector<std::string>& argv, const CancelToken* cancel) {
  std::vector<char*> args;
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group: a Ctrl+C reaches it once, through the cancel below.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    return Status::IoError("cannot start '" + argv[0] + "': " + std::strerror(spawned));
  }
  bool interrupted = false;
  while (true) {
    int wstatus = 0;
    pid_t done = waitpid(pid, &wstatus, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(wstatus)) {
        return WEXITSTATUS(wstatus);
      }
      return 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    }
    if (done < 0 && errno != EINTR) {
      return Status::IoError(std::string("waiting for the Dask driver: ") + std::strerror(errno));
    }
    if (!interrupted && cancel != nullptr && cancel->cancelled()) {
      ::kill(pid, SIGINT);
      interrupted = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Exactly one accepted attempt per partition, each naming only files under its directory.
Result<std::map<size_t, const TaskResult*>> AcceptedAttempts(
    const Plan& plan, const std::vector<TaskResult>& results) {
  std::map<size_t, const TaskResult*> by_partition;
  for (const auto& result : results) {
    if (result.partition >= plan.partitions.size() ||
        !by_partition.emplace(result.partition, &result).second) {
      return Status::Internal("the Dask driver reported partition " +
                              std::to_string(result.partition) + " twice or out of range");
    }
    for (const auto& file : result.files) {
      if (file.find("..") != std::string::npos || file.empty() || file[0] == '/') {
        return Status::Internal("partition " + std::to_string(result.partition) +
                                " reported an unsafe file name '" + file + "'");
      }
    }
  }
  if (by_partition.size() != plan.partitions.size()) {
    return Status::Internal("the Dask driver reported " + std::to_string(by_partition.size()) +
                            " of " + std::to_string(plan.partitions.size()) + " partitions");
  }
  return by_partition;
}

// Move every accepted attempt's files into `out`; returns their paths relative to it.
Result<std::vector<std::string>> CollectFiles(const Plan& plan,
                                              const std::vector<TaskResult>& results,
                                              const std::string& out) {
  AQ_ASSIGN_OR_RETURN(auto by_partition, AcceptedAttempts(plan, results));
  AQ_RETURN_IF_ERROR(files::MakeDirs(out));
  std::vector<std::string> moved;
  for (const auto& [partition, result] : by_partition) {
    for (const auto& file : result->files) {
      fs::path to = fs::path(out) / file;
      AQ_RETURN_IF_ERROR(files::MakeDirs(to.parent_path().string()));
      Status renamed = files::Rename(result->dir + "/" + file, to.string());
      if (!renamed.ok()) {
        return renamed.WithPrefix("partition " + std::to_string(partition) + ": ");
      }
      moved.push_back(file);
    }
  }
  return moved;
}

// Rows in the gathered Parquet files, counted from the files themselves.
Result<int64_t> CountRows(Database& db, const std::string& dir,
                          const std::vector<std::string>& names) {
  if (names.empty()) {
    return 0;
  }
  AQ_ASSIGN_OR_RETURN(auto rows,
                      db.Query("SELECT count(*) FROM read_parquet(" + SqlList(dir, names) + ")"));
  if (rows.rows.empty() || !rows.rows[0][0]) {
    return Status::Internal("cannot count the rows of the partitions' files");
  }
  return std::stoll(*rows.rows[0][0]);
}

// kDelta creating the table: the table every accepted attempt wrote its files for (they must
// agree: with no `schema`, each inferred it from its own rows' columns).
Result<nlohmann::json> NewTableOfAttempts(const DeltaDestination& destination,
                                          const std::map<size_t, const TaskResult*>& attempts) {
  nlohmann::json table;
  size_t first = 0;
  for (const auto& [partition, result] : attempts) {
    nlohmann::json reported;
    try {
      reported = nlohmann::json::parse(result->delta_table);
    } catch (const std::exception& e) {
      return Status::Internal("partition " + std::to_string(partition) +
                              " reported no readable Delta table: " + e.what());
    }
    if (table.is_null()) {
      table = std::move(reported);
      first = partition;
    } else if (reported != table) {
      return Status::InvalidArgument(
          "Delta destination '" + destination.name +
          "': the table does not exist and the partitions' rows have different columns "
          "(partition " +
          std::to_string(first) + ": " + table["schema"].dump() + "; partition " +
          std::to_string(partition) + ": " + reported["schema"].dump() +
          "); write `schema` to pin them; nothing was committed");
    }
  }
  return table;
}

// kDelta: the accepted attempts' Delta data files, counted, moved into the table and committed
// in one Delta commit (an append, a replace of the live files, or the new table's first).
Status CommitDelta(const Aqueduct& aqueduct, const Plan& plan,
                   const std::vector<TaskResult>& results, const DaskOptions& options) {
  const auto& destination = std::get<DeltaDestination>(*aqueduct.destination);
  AQ_ASSIGN_OR_RETURN(auto by_partition, AcceptedAttempts(plan, results));
  std::vector<std::pair<std::string, delta::AppendPart>> parts;
  std::vector<std::string> paths;
  int64_t reported = 0;
  for (const auto& [partition, result] : by_partition) {
    if (result->delta_adds.size() != result->files.size()) {
      return Status::Internal("partition " + std::to_string(partition) +
                              " reported files without their Delta add actions");
    }
    delta::AppendPart part;
    part.rows = result->rows;
    for (const auto& text : result->delta_adds) {
      nlohmann::json add;
      try {
        add = nlohmann::json::parse(text);
      } catch (const std::exception& e) {
        return Status::Internal("partition " + std::to_string(partition) +
                                " reported an unreadable add action: " + e.what());
      }
      AQ_ASSIGN_OR_RETURN(delta::FileAction file, delta::ParseFileAction(add));
      paths.push_back(result->dir + "/" + file.path);
      part.adds.push_back(std::move(file));
    }
    reported += result->rows;
    parts.push_back({result->dir, std::move(part)});
  }
  AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Open(Database::Options{}));
  AQ_ASSIGN_OR_RETURN(auto conn, session->Connect());
  // The rows in the files themselves (not their stats) must be the rows the tasks reported.
  std::string list;
  for (const auto& path : paths) {
    list += (list.empty() ? "" : ", ") + engine::QuoteLiteral(path);
  }
  int64_t counted = 0;
  if (!paths.empty()) {
    AQ_ASSIGN_OR_RETURN(auto rows, conn->Query("SELECT count(*) FROM read_parquet([" + list +
                                               "], hive_partitioning = false)"));
    counted = std::stoll(rows.rows.at(0).at(0).value_or("-1"));
  }
  if (counted != reported) {
    return Status::IoError("Delta destination '" + destination.name + "' at '" +
                           destination.location.url + "': the partitions reported " +
                           std::to_string(reported) + " rows but their files hold " +
                           std::to_string(counted) + "; nothing was committed");
  }
  nlohmann::json new_table;
  if (plan.delta_create) {
    AQ_ASSIGN_OR_RETURN(new_table, NewTableOfAttempts(destination, by_partition));
  }
  auto stats =
      delta::CommitAppendParts(*conn, destination, plan.delta_create ? -1 : plan.delta_version,
                               parts, reported, options.run.cancel.get(), new_table);
  if (!stats.ok()) {
    bool named = stats.status().message().rfind("Delta destination '", 0) == 0;
    return named ? stats.status()
                 : stats.status().WithPrefix("Delta destination '" + destination.name + "': ");
  }
  std::string how = plan.delta_create && stats->version == 0 ? " (created)"
                    : stats->files_removed > 0
                        ? " (replacing " + std::to_string(stats->files_removed) + " file(s))"
                        : std::string();
  options.print("Committed " + std::to_string(stats->files_added) + " file(s), " +
                std::to_string(stats->rows) + " rows, to the Delta table '" +
                destination.location.LocalPath() + "' at version " +
                std::to_string(stats->version) + how);
  return Status::OK();
}

Status Commit(const Aqueduct& aqueduct, const Plan& plan, const std::string& staging,
              const std::vector<TaskResult>& results, const DaskOptions& options,
              ProgressSink* sink) {
  if (plan.output == OutputMode::kDelta) {
    return CommitDelta(aqueduct, plan, results, options);
  }
  std::string out = staging + "/out";
  AQ_ASSIGN_OR_RETURN(std::vector<std::string> names, CollectFiles(plan, results, out));
  int64_t reported = 0;
  for (const auto& result : results) {
    reported += result.rows;
  }
  AQ_ASSIGN_OR_RETURN(auto db, Database::Open());
  AQ_ASSIGN_OR_RETURN(int64_t counted, CountRows(*db, out, names));
  if (counted != reported) {
    return Status::IoError("the partitions reported " + std::to_string(reported) +
                           " rows but their files hold " + std::to_string(counted) +
                           "; nothing was published");
  }
  if (plan.output == OutputMode::kDirectory) {
    const auto& destination = std::get<FileDestination>(*aqueduct.destination);
    std::string target = destination.location.LocalPath();
    while (target.size() > 1 && target.back() == '/') {
      target.pop_back();
    }
    std::vector<std::string> warnings;
    io::CleanStaleTemporaries(target, &warnings);
    AQ_RETURN_IF_ERROR(io::WriteManifest(out, std::set<std::string>(names.begin(), names.end())));
    AQ_RETURN_IF_ERROR(files::MakeDirs(fs::path(target).parent_path().string()));
    Status published = io::PublishDirectory(out, target, &warnings);
    if (!published.ok()) {
      return published.WithPrefix("destination '" + destination.name + "': ");
    }
    for (const auto& warning : warnings) {
      options.print("warning: " + warning);
    }
    options.print("Committed " + std::to_string(names.size()) + " file(s), " +
                  std::to_string(counted) + " rows, to '" + target + "'");
    return Status::OK();
  }
  // The rest runs here on the gathered rows.
  Aqueduct driver = plan.driver_pipeline;
  for (auto& source : driver.sources) {
    if (SourceName(source) == plan.gathered_source) {
      std::get<DirSource>(source).location = ParseLocation(out + "/");
    }
  }
  if (plan.output == OutputMode::kAggregate) {
    AQ_ASSIGN_OR_RETURN(auto shape, engine::SplitAggregate(plan.aggregate_sql, "__aq_gathered"));
    std::map<std::string, std::string> types;
    for (const auto& column : shape.type_columns) {
      auto rows =
          db->Query("SELECT max(" + column + ") FROM read_parquet(" + SqlList(out, names) + ")");
      types[column] =
          rows.ok() && !rows->rows.empty() && rows->rows[0][0] ? *rows->rows[0][0] : "HUGEINT";
    }
    AQ_ASSIGN_OR_RETURN(auto split,
                        engine::SplitAggregate(plan.aggregate_sql, "__aq_gathered", types));
    for (auto& group : driver.stages) {
      for (auto& stage : group) {
        if (stage.name == plan.crossing) {
          stage.query = split.final_sql;
        }
      }
    }
  }
  options.print("Gathered " + std::to_string(counted) + " row(s) of '" + plan.crossing + "' from " +
                std::to_string(results.size()) + " partition(s); running the rest on the driver");
  return RunPipeline(driver, options.run, sink);
}

}  // namespace

Result<std::string> FindDriverScript() {
  std::string self = SelfPath();
  fs::path dir = fs::path(self).parent_path();
  std::vector<fs::path> candidates = {dir / kDriverScript,
                                      dir / ".." / "share" / "aqueducts" / kDriverScript};
  std::string looked;
  for (const auto& candidate : candidates) {
    std::error_code error;
    if (fs::is_regular_file(candidate, error)) {
      return candidate.lexically_normal().string();
    }
    looked += (looked.empty() ? "" : ", ") + candidate.lexically_normal().string();
  }
  return Status::NotFound(std::string("the Dask driver ") + kDriverScript +
                          " is not installed (looked at " + looked + ")");
}

Status RunOnDask(const Aqueduct& aqueduct, const DaskOptions& options, ProgressSink* sink) {
  AQ_ASSIGN_OR_RETURN(Plan plan, BuildPlan(aqueduct, options.plan));
  if (options.explain) {
    options.print(ExplainPlan(plan));
    return Status::OK();
  }
  AQ_ASSIGN_OR_RETURN(std::string script, FindDriverScript());
  std::string worker = options.worker_binary.empty() ? SelfPath() : options.worker_binary;
  std::string target = (fs::path(plan.staging_parent) / plan.staging_name).string();
  std::string staging = io::TemporarySibling(target, "tmp");
  AQ_RETURN_IF_ERROR(files::MakeDirs(staging + "/attempts"));
  options.print("Distributing over " + std::to_string(plan.partitions.size()) +
                " partition(s) of '" + plan.split_source + "' on " + options.scheduler);
  for (const auto& note : plan.notes) {
    options.print("note: " + note);
  }
  Status status = files::Write(staging + "/plan.json", PlanJson(plan, staging));
  if (status.ok()) {
    std::vector<std::string> argv = {options.python,    script,
                                     "--scheduler",     options.scheduler,
                                     "--plan",          staging + "/plan.json",
                                     "--result",        staging + "/result.json",
                                     "--worker-binary", worker};
    auto code = RunDriver(argv, options.run.cancel.get());
    if (!code.ok()) {
      status = code.status();
    } else if (*code == 130 || (options.run.cancel && options.run.cancel->cancelled())) {
      status = Status::Cancelled("cancelled: every task of the distributed run was cancelled");
    } else if (*code != 0) {
      status = Status::ExecutionError("the distributed run failed (the Dask driver exited with " +
                                      std::to_string(*code) +
                                      "; its message is above); no destination was changed");
    }
  }
  if (status.ok()) {
    auto text = files::Read(staging + "/result.json");
    status = text.status();
    if (status.ok()) {
      auto results = ParseTaskResults(*text);
      status = results.ok() ? Commit(aqueduct, plan, staging, *results, options, sink)
                            : results.status();
    }
  }
  // Files of failed and superseded attempts go with the staging directory.
  (void)files::RemoveTree(staging);
  return status;
}

}  // namespace aqueducts::distribute

// `aqueducts run` and `aqueducts validate`.
#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include "aqueducts/check.h"
#include "aqueducts/loader.h"
#include "aqueducts/locations.h"
#include "aqueducts/run.h"

#include "cli/commands.h"
#include "cli/excerpt.h"
#include "cli/terminal_sink.h"
#include "common/signal_watcher.h"

namespace aqueducts::cli {
namespace {

// Load and template a pipeline. Relative locations resolve against the CLI's cwd
// (docs/pipeline-format.md, "Locations"), also for remote runs: the executor receives absolute
// URLs. `lines` (optional) receives where the stages' queries are written.
Result<Aqueduct> LoadPipeline(const RunArgs& args, const Params& params,
                              PipelineLines* lines = nullptr) {
  LoadOptions options;
  options.base_dir = std::filesystem::current_path().string();
  options.lenient = args.lenient;
  options.warn = [](const std::string& warning) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  };
  options.lines = lines;
  return LoadAqueductFromFile(args.file, params, options);
}

Result<Database::Options> DatabaseOptions(const RunArgs& args) {
  Database::Options options;
  if (!args.max_memory.empty()) {
    AQ_ASSIGN_OR_RETURN(uint64_t bytes, ParseMemorySize(args.max_memory));
    options.memory_limit_bytes = bytes;
  }
  if (args.threads > 0) {
    options.threads = args.threads;
  }
  if (!args.temp_dir.empty()) {
    options.temp_directory = args.temp_dir;
  }
  return options;
}

Status RunWithSink(const RunArgs& args, const Aqueduct& aqueduct, const Database::Options& db,
                   TerminalSink& sink) {
  auto cancel = std::make_shared<CancelToken>();
  // Ctrl+C / SIGTERM: the first cancels the run (it stops cleanly, DuckDB is interrupted,
  // nothing half-written stays); a second one exits at once with 130.
  SignalWatcher watcher([&sink, cancel](int, int count) {
    if (count > 1) {
      _exit(130);
    }
    sink.PrintLine("🛑 Cancelling... (press Ctrl+C again to abort immediately)");
    cancel->Cancel();
  });
  if (!args.dask.empty()) {
    return RunDistributed(args, aqueduct, sink, cancel);
  }
  if (!args.remote.server.empty()) {
    return RunOnServer(args.remote, aqueduct, sink, cancel);
  }
  if (!args.remote.executor.empty()) {
    return RunRemote(args.remote, aqueduct, sink, cancel);
  }
  RunOptions options;
  options.database_options = db;
  options.cancel = cancel;
  options.preview_format = args.remote.preview;
  return RunPipeline(aqueduct, options, &sink);
}

}  // namespace

int RunCommand(const RunArgs& args) {
  auto params = ParseParams(args.params);
  if (!params.ok()) {
    PrintError(params.status());
    return kExitUsage;
  }
  auto db = DatabaseOptions(args);
  if (!db.ok()) {
    PrintError(db.status());
    return kExitUsage;
  }
  RunArgs resolved = args;
  if (!ParsePreviewFormat(args.output, &resolved.remote.preview)) {
    PrintError(
        Status::InvalidArgument("--output must be table, csv or json, not '" + args.output + "'"));
    return kExitUsage;
  }
  const RemoteOptions& remote = resolved.remote;
  if (!remote.server.empty() && remote.preview != PreviewFormat::kTable) {
    PrintError(Status::InvalidArgument(
        "--output csv|json is not available with --server yet (the server's run page shows "
        "previews as tables): run on an executor with --executor, or locally"));
    return kExitUsage;
  }
  if (!remote.server.empty() && remote.token.empty()) {
    PrintError(Status::InvalidArgument(
        "A token is required to run through a server: pass --token (or set AQUEDUCTS_TOKEN)"));
    return kExitUsage;
  }
  if (!remote.label.empty() && (remote.server.empty() || !remote.executor.empty() ||
                                remote.label.find('=') == std::string::npos)) {
    PrintError(Status::InvalidArgument(
        "--label key=value needs --server and cannot be combined with --executor"));
    return kExitUsage;
  }
  if (remote.server.empty() && !remote.executor.empty() && remote.api_key.empty()) {
    PrintError(Status::InvalidArgument(
        "API key is required for remote execution: pass --api-key (or set AQUEDUCTS_API_KEY)"));
    return kExitUsage;
  }
  if (!args.dask.empty() && (!remote.server.empty() || !remote.executor.empty())) {
    PrintError(Status::InvalidArgument(
        "--dask cannot be combined with --executor or --server: a distributed run is driven "
        "from this machine"));
    return kExitUsage;
  }
  if (args.dask.empty() && (args.explain_distribution || args.partitions != 0 ||
                            !args.worker_binary.empty() || !args.broadcast_limit.empty())) {
    PrintError(Status::InvalidArgument(
        "--explain-distribution, --partitions, --broadcast-limit and --worker-binary need "
        "--dask ADDRESS"));
    return kExitUsage;
  }
  TerminalSink::Options sink_options = TerminalSink::DetectOptions(args.verbosity);
  sink_options.preview = remote.preview;
  TerminalSink sink(sink_options);
  if (args.verbosity != Verbosity::kQuiet) {
    std::string where =
        !remote.server.empty()
            ? "through server " + remote.server +
                  (!remote.executor.empty() ? " on executor " + remote.executor
                   : !remote.label.empty()  ? " on an executor with label " + remote.label
                                            : "")
        : !remote.executor.empty() ? "on executor " + remote.executor
        : !args.dask.empty()       ? "on the Dask cluster at " + args.dask
                                   : "locally";
    sink.PrintLine("Running pipeline " + where + " from file: " + args.file);
  }
  PipelineLines lines;
  auto aqueduct = LoadPipeline(args, *params, &lines);
  if (!aqueduct.ok()) {
    PrintError(PointAtPipeline(aqueduct.status(), args.file, nullptr, nullptr));
    return ExitCodeFor(aqueduct.status());
  }
  Status status = ValidateSql(*aqueduct);
  if (status.ok()) {
    status = ValidateLocations(*aqueduct);
  }
  if (status.ok()) {
    status = RunWithSink(resolved, *aqueduct, *db, sink);
  }
  if (!status.ok()) {
    // A cancellation was already reported by the run's own `cancelled` event.
    if (status.code() != StatusCode::kCancelled) {
      PrintError(PointAtPipeline(status, args.file, &lines, &*aqueduct));
    }
    return ExitCodeFor(status);
  }
  return kExitOk;
}

int DistributePlanCommand(const RunArgs& args) {
  auto params = ParseParams(args.params);
  if (!params.ok()) {
    PrintError(params.status());
    return kExitUsage;
  }
  auto aqueduct = LoadPipeline(args, *params);
  if (!aqueduct.ok()) {
    PrintError(PointAtPipeline(aqueduct.status(), args.file, nullptr, nullptr));
    return ExitCodeFor(aqueduct.status());
  }
  Status status = ValidateSql(*aqueduct);
  auto json = status.ok() ? DistributionPlanJson(args, *aqueduct) : Result<std::string>(status);
  if (!json.ok()) {
    PrintError(json.status());
    return ExitCodeFor(json.status());
  }
  std::printf("%s\n", json->c_str());
  return kExitOk;
}

int ValidateCommand(const RunArgs& args) {
  auto params = ParseParams(args.params);
  if (!params.ok()) {
    PrintError(params.status());
    return kExitUsage;
  }
  PipelineLines lines;
  auto aqueduct = LoadPipeline(args, *params, &lines);
  if (!aqueduct.ok()) {
    PrintError(PointAtPipeline(aqueduct.status(), args.file, nullptr, nullptr));
    return ExitCodeFor(aqueduct.status());
  }
  if (Status locations = ValidateLocations(*aqueduct); !locations.ok()) {
    PrintError(locations);
    return ExitCodeFor(locations);
  }
  CheckOptions check;
  for (const auto& [stage, line] : lines.stage_query) {
    check.stage_locations[stage] = args.file + ":" + std::to_string(line);
  }
  auto notes = CheckPipeline(*aqueduct, check);
  if (!notes.ok()) {
    PrintError(PointAtPipeline(notes.status(), args.file, &lines, &*aqueduct));
    return ExitCodeFor(notes.status());
  }
  for (const std::string& note : *notes) {
    std::fprintf(stderr, "note: %s\n", note.c_str());
  }
  size_t stages = 0;
  for (const auto& group : aqueduct->stages) {
    stages += group.size();
  }
  std::printf("%s%s is valid: %zu source(s), %zu stage(s) in %zu group(s), %s\n",
              Decorations(stdout) ? "✅ " : "", args.file.c_str(), aqueduct->sources.size(), stages,
              aqueduct->stages.size(),
              aqueduct->destination
                  ? (std::string("destination '") + DestinationName(*aqueduct->destination) +
                     "' (" + DestinationTypeName(*aqueduct->destination) + ")")
                        .c_str()
                  : "no destination");
  return kExitOk;
}

}  // namespace aqueducts::cli

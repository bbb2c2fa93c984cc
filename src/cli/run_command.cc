// `aqueducts run` and `aqueducts validate`.
#include <filesystem>

#include "aqueducts/loader.h"
#include "aqueducts/locations.h"
#include "aqueducts/run.h"

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "cli/terminal_sink.h"

namespace aqueducts::cli {
namespace {

// Load, template and check a pipeline. Relative locations resolve against the CLI's cwd
// (spec §1.2), also for remote runs: the executor receives absolute URLs.
Result<Aqueduct> LoadChecked(const RunArgs& args, const Params& params) {
  LoadOptions options;
  options.base_dir = std::filesystem::current_path().string();
  AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct, LoadAqueductFromFile(args.file, params, options));
  AQ_RETURN_IF_ERROR(ValidateSql(aqueduct));
  AQ_RETURN_IF_ERROR(ValidateLocations(aqueduct));
  return aqueduct;
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
  SignalWatcher watcher(cancel, [&sink] {
    sink.PrintLine("🛑 Cancelling... (press Ctrl+C again to abort immediately)");
  });
  if (!args.remote.executor.empty()) {
    return RunRemote(args.remote, aqueduct, sink, cancel);
  }
  RunOptions options;
  options.database_options = db;
  options.cancel = cancel;
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
  if (!args.remote.executor.empty() && args.remote.api_key.empty()) {
    PrintError(Status::InvalidArgument(
        "API key is required for remote execution (--api-key or AQUEDUCTS_API_KEY)"));
    return kExitUsage;
  }
  TerminalSink sink(TerminalSink::DetectOptions(args.verbosity));
  if (args.verbosity != Verbosity::kQuiet) {
    sink.PrintLine(args.remote.executor.empty()
                       ? "Running pipeline locally from file: " + args.file
                       : "Running pipeline on executor " + args.remote.executor +
                             " from file: " + args.file);
  }
  auto aqueduct = LoadChecked(args, *params);
  if (!aqueduct.ok()) {
    PrintError(aqueduct.status());
    return ExitCodeFor(aqueduct.status());
  }
  Status status = RunWithSink(args, *aqueduct, *db, sink);
  if (!status.ok()) {
    // A cancellation was already reported by the run's own `cancelled` event.
    if (status.code() != StatusCode::kCancelled) {
      PrintError(status);
    }
    return ExitCodeFor(status);
  }
  return kExitOk;
}

int ValidateCommand(const RunArgs& args) {
  auto params = ParseParams(args.params);
  if (!params.ok()) {
    PrintError(params.status());
    return kExitUsage;
  }
  auto aqueduct = LoadChecked(args, *params);
  if (!aqueduct.ok()) {
    PrintError(aqueduct.status());
    return ExitCodeFor(aqueduct.status());
  }
  size_t stages = 0;
  for (const auto& group : aqueduct->stages) {
    stages += group.size();
  }
  std::printf("✅ %s is valid: %zu source(s), %zu stage(s) in %zu group(s), %s\n", args.file.c_str(),
              aqueduct->sources.size(), stages, aqueduct->stages.size(),
              aqueduct->destination
                  ? (std::string("destination '") + DestinationName(*aqueduct->destination) +
                     "' (" + DestinationTypeName(*aqueduct->destination) + ")")
                        .c_str()
                  : "no destination");
  return kExitOk;
}

}  // namespace aqueducts::cli

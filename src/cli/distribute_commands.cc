// `aqueducts run --dask` and the internal commands of distributed runs (docs/scale-out.md).
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/commands.h"
#include "distribute/dask_run.h"
#include "distribute/plan.h"
#include "distribute/task.h"

namespace aqueducts::cli {
namespace {

Result<distribute::PlanOptions> PlanOptionsFor(const RunArgs& args) {
  distribute::PlanOptions options;
  options.partitions = args.partitions;
  if (!args.broadcast_limit.empty()) {
    auto bytes = ParseMemorySize(args.broadcast_limit);
    if (!bytes.ok()) {
      return bytes.status().WithPrefix("--broadcast-limit");
    }
    options.broadcast_limit_bytes = *bytes;
  }
  return options;
}

}  // namespace

Status RunDistributed(const RunArgs& args, const Aqueduct& aqueduct, TerminalSink& sink,
                      std::shared_ptr<CancelToken> cancel) {
  distribute::DaskOptions options;
  options.scheduler = args.dask;
  AQ_ASSIGN_OR_RETURN(options.plan, PlanOptionsFor(args));
  options.worker_binary = args.worker_binary;
  options.explain = args.explain_distribution;
  options.run.cancel = cancel;
  options.run.preview_format = args.remote.preview;
  if (!args.max_memory.empty()) {
    AQ_ASSIGN_OR_RETURN(uint64_t bytes, ParseMemorySize(args.max_memory));
    options.run.database_options.memory_limit_bytes = bytes;
  }
  if (args.threads > 0) {
    options.run.database_options.threads = args.threads;
  }
  if (!args.temp_dir.empty()) {
    options.run.database_options.temp_directory = args.temp_dir;
  }
  bool explain = args.explain_distribution;
  options.print = [&sink, explain](const std::string& line) {
    if (explain) {
      std::printf("%s%s", line.c_str(), line.empty() || line.back() != '\n' ? "\n" : "");
      std::fflush(stdout);
    } else {
      sink.PrintLine(line);
    }
  };
  return distribute::RunOnDask(aqueduct, options, &sink);
}

Result<std::string> DistributionPlanJson(const RunArgs& args, const Aqueduct& aqueduct) {
  AQ_ASSIGN_OR_RETURN(distribute::PlanOptions options, PlanOptionsFor(args));
  AQ_ASSIGN_OR_RETURN(distribute::Plan plan, distribute::BuildPlan(aqueduct, options));
  return distribute::PlanJson(plan, "<staging>");
}

int DistributeTaskCommand(const std::string& attempt) {
  std::string task((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto result = distribute::RunTask(task, attempt);
  if (!result.ok()) {
    PrintError(result.status());
    return ExitCodeFor(result.status());
  }
  std::printf("%s\n", distribute::TaskResultJson(*result).c_str());
  return kExitOk;
}

}  // namespace aqueducts::cli

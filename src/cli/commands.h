#pragma once

// The subcommands of the `aqueducts` binary. Each returns the process exit code:
// 0 success, 1 pipeline error, 2 usage error (kExitUsage), 130 interrupted.

#include <memory>
#include <string>
#include <vector>

#include "aqueducts/cancel_token.h"
#include "aqueducts/loader.h"
#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "cli/remote_client.h"
#include "cli/terminal_sink.h"

namespace aqueducts::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct RunArgs {
  std::string file;
  std::vector<std::string> params;  ///< "key=value"
  Verbosity verbosity = Verbosity::kNormal;
  std::string max_memory;  ///< "4", "4GB", "512MB"; empty = DuckDB default
  int threads = 0;         ///< 0 = all cores
  std::string temp_dir;
  RemoteOptions remote;          ///< executor empty: run locally
  bool lenient = false;          ///< unknown pipeline keys are warnings, not errors
  std::string output = "table";  ///< how previews print: table, csv or json
  /// Distributed run on Dask (docs/scale-out.md): the scheduler's address; empty: not.
  std::string dask;
  int partitions = 0;           ///< 0: the default
  std::string broadcast_limit;  ///< a size ("256MB"); empty: the default
  std::string worker_binary;    ///< empty: this program
  bool explain_distribution = false;
};

/// `aqueducts run --dask` (cli/distribute_commands.cc): loaded and checked pipeline in.
Status RunDistributed(const RunArgs& args, const Aqueduct& aqueduct, TerminalSink& sink,
                      std::shared_ptr<CancelToken> cancel);
/// The plan of `args`'s distributed run as JSON (cli/distribute_commands.cc).
Result<std::string> DistributionPlanJson(const RunArgs& args, const Aqueduct& aqueduct);
/// Internal: `aqueducts distribute-plan` prints the plan as JSON.
int DistributePlanCommand(const RunArgs& args);
/// Internal: `aqueducts distribute-task --attempt ID` runs the task described on stdin and prints
/// its result as JSON.
int DistributeTaskCommand(const std::string& attempt);

int RunCommand(const RunArgs& args);
int ValidateCommand(const RunArgs& args);
int SchemaCommand(const std::string& output_path);
int StatusCommand(const RemoteOptions& remote);
int CancelCommand(const RemoteOptions& remote, const std::string& execution_id);
/// `storage_config` holds the --storage-config KEY=VALUE arguments of an object-store table.
int DeltaHistoryCommand(const std::string& table, int limit, bool json,
                        const std::vector<std::string>& storage_config);
int DeltaVacuumCommand(const std::string& table, double retain_hours, bool dry_run,
                       const std::vector<std::string>& storage_config);

/// `aqueducts storage uploads URL`: the pending multipart uploads under an object-store prefix,
/// listed (dry run), or with `abort` those started `older_than` ago or more aborted
/// (cli/storage_commands.cc).
int StorageUploadsCommand(const std::string& url, bool abort, const std::string& older_than,
                          const std::vector<std::string>& storage_config);

/// Split "k=v" flags into Params. Error (kInvalidArgument):
/// "invalid KEY=value: no '=' found in '<s>'".
Result<Params> ParseParams(const std::vector<std::string>& flags);

/// Parse a memory size: a plain number is GB ("2", "0.5"); suffixes KB/MB/GB/TB (and KiB...)
/// are accepted, case-insensitive.
Result<uint64_t> ParseMemorySize(const std::string& text);

/// Print an error for a person (stderr): message, catalogue id and a hint where we have one.
void PrintError(const Status& status);

/// 2 for usage errors, 130 for cancellation, 1 otherwise.
int ExitCodeFor(const Status& status);

}  // namespace aqueducts::cli

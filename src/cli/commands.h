#pragma once

// The subcommands of the `aqueducts` binary. Each returns the process exit code:
// 0 success, 1 pipeline error, 2 usage error (kExitUsage), 130 interrupted.

#include <string>
#include <vector>

#include "aqueducts/loader.h"
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
};

int RunCommand(const RunArgs& args);
int ValidateCommand(const RunArgs& args);
int SchemaCommand(const std::string& output_path);
int StatusCommand(const RemoteOptions& remote);
int CancelCommand(const RemoteOptions& remote, const std::string& execution_id);
int DeltaHistoryCommand(const std::string& table, int limit, bool json);
int DeltaVacuumCommand(const std::string& table, double retain_hours, bool dry_run);

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

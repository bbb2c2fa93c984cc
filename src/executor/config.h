#pragma once

#include <string>

#include "aqueducts/status.h"

#include "executor/execution_manager.h"
#include "executor/http_server.h"
#include "executor/logger.h"
#include "executor/server_link.h"

namespace aqueducts::executor {

/// \brief Everything the executor binary is configured with (flags and AQUEDUCTS_* env vars).
struct ExecutorConfig {
  ServerOptions server;
  ExecutionManagerOptions manager;
  ServerLinkOptions link;  ///< server_url empty: not registered with a server
  bool listen = true;      ///< serve the HTTP API (false: registered with a server, no --api-key)
  LogLevel log_level = LogLevel::kInfo;
};

/// Parse the command line (and environment) of `aqueducts-executor`. On error `*exit_code` is
/// what to exit with: 0 after --help/--version and 2 after a usage error (both already printed
/// by CLI11), 1 for an invalid value (kInvalidArgument, not printed yet).
Result<ExecutorConfig> ParseExecutorConfig(int argc, char** argv, int* exit_code);

}  // namespace aqueducts::executor

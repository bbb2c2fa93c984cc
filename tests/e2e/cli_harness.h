#pragma once

// Runs the real `aqueducts` binary in a child process and captures what it prints.

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "subprocess.h"
#include "temp_dir.h"

namespace aqueducts::testing {

using CliResult = ProcessResult;

/// Run `aqueducts <args>` in `cwd` with extra environment entries ("K=V").
inline CliResult RunCli(const std::vector<std::string>& args, const std::string& cwd = ".",
                        const std::vector<std::string>& env = {}) {
  ProcessOptions options;
  options.cwd = cwd;
  options.env = env;
  return RunProcess(AQ_CLI_PATH, args, options);
}

}  // namespace aqueducts::testing

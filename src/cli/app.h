#pragma once

namespace aqueducts::cli {

/// Parse the command line and run the chosen subcommand; returns the process exit code.
int Main(int argc, char** argv);

}  // namespace aqueducts::cli

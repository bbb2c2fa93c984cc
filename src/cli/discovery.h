#pragma once

// Discovery helpers of the `aqueducts` binary, free of CLI11: shell completion scripts from a
// neutral description of the commands, the nearest command to a typo, and `aqueducts init`.

#include <string>
#include <vector>

namespace aqueducts::cli {

/// One (sub)command as completion scripts see it.
struct CommandSpec {
  std::string path;                   ///< "run", "delta history"
  std::vector<std::string> flags;     ///< "--file", "-f", ...
  std::vector<std::string> children;  ///< sub-subcommands ("delta": history, vacuum)
};

/// The completion script for `shell` (bash, zsh or fish); empty for another shell.
std::string CompletionScript(const std::string& shell, const std::vector<CommandSpec>& commands);

/// The candidate nearest to `word` when it looks like a typo of it (at most 2 edits, adjacent
/// swaps counting as one); empty otherwise.
std::string NearestCommand(const std::string& word, const std::vector<std::string>& candidates);

/// `aqueducts init [dir]`: write a runnable starter pipeline (pipeline.yml), its sample data
/// (data/readings.csv) and an output/ directory into `dir` (created when missing). Refuses to
/// overwrite an existing file. Returns the exit code.
int InitCommand(const std::string& dir);

}  // namespace aqueducts::cli

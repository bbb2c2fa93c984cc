#pragma once

// The one subprocess runner of every test binary: run a program to its end and capture what it
// printed.

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "temp_dir.h"

extern char** environ;

namespace aqueducts::testing {

/// What a finished process printed and returned.
struct ProcessResult {
  int exit_code = -1;  ///< its exit status, or 128 + the signal that ended it (as a shell says)
  std::string out;     ///< stdout
  std::string err;     ///< stderr
  std::string all() const { return out + err; }
};

struct ProcessOptions {
  std::string cwd;                       ///< working directory; empty: the test's
  std::vector<std::string> env;          ///< "K=V" entries added to (or replacing) the environment
  std::vector<std::string> env_removed;  ///< names removed from the environment
  std::string stdin_text;                ///< what the process reads on stdin
};

/// Run `binary` with `args` and wait for it to exit.
inline ProcessResult RunProcess(const std::string& binary, const std::vector<std::string>& args,
                                const ProcessOptions& options = {}) {
  std::filesystem::path dir = MakeTempDir("proc");
  std::string in_path = (dir / "stdin").string();
  std::string out_path = (dir / "stdout").string();
  std::string err_path = (dir / "stderr").string();
  std::ofstream(in_path, std::ios::binary) << options.stdin_text;
  // Everything the child needs is built before fork: only async-signal-safe calls after it.
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string name = name_of(*e);
    bool drop = false;
    for (const auto& removed : options.env_removed) {
      drop |= name == removed;
    }
    for (const auto& added : options.env) {
      drop |= name == name_of(added);
    }
    if (!drop) {
      env_s.push_back(*e);
    }
  }
  env_s.insert(env_s.end(), options.env.begin(), options.env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  int in_fd = open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) {
      _exit(127);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in_fd);
  close(out_fd);
  close(err_fd);
  int status = 0;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ProcessResult result;
  if (pid > 0) {
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  auto slurp = [](const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  };
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return result;
}

/// Run a /bin/sh command line in `cwd` and wait for it to exit.
inline ProcessResult RunShell(const std::string& cwd, const std::string& command) {
  ProcessOptions options;
  options.cwd = cwd;
  return RunProcess("/bin/sh", {"-c", command}, options);
}

}  // namespace aqueducts::testing

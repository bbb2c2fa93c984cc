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

namespace aqueducts::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
  std::string all() const { return out + err; }
};

inline std::string ReadFd(int fd) {
  std::string data;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

/// Run `aqueducts <args>` in `cwd` with extra environment entries ("K=V").
inline CliResult RunCli(const std::vector<std::string>& args, const std::string& cwd = ".",
                        const std::vector<std::string>& env = {}) {
  std::string out_path =
      std::filesystem::temp_directory_path() /
      ("aq_cli_out_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}()));
  std::string err_path = out_path + ".err";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    if (chdir(cwd.c_str()) != 0) {
      _exit(127);
    }
    for (const auto& kv : env) {
      putenv(const_cast<char*>(kv.c_str()));
    }
    std::vector<char*> argv;
    std::string bin = AQ_CLI_PATH;
    argv.push_back(bin.data());
    for (const auto& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream o(out_path), e(err_path);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  result.out = so.str();
  result.err = se.str();
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return result;
}

/// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("aq_e2e_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  /// Write `text` to a file below the directory and return its path.
  std::string Write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace aqueducts::testing

#pragma once

// The real aqueducts-server binary as a subprocess on 127.0.0.1 and an initialised store for it
// (a SQLite data directory or a fresh database on the throwaway PostgreSQL of pg_harness.h).
// Without gtest, so that the server tests (test_harness.h builds its fixtures on this) and the
// benchmark (bench/server_benchmark.cc) start the server the same way. Header-only: only
// *_test.cc and bench files include it.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aqueducts/status.h"

#include "server/pg_harness.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace aqueducts::server::testing {

inline constexpr char kAdminPassword[] = "admin-password-1";

using ::aqueducts::testing::MakeTempDir;
using CommandResult = ::aqueducts::testing::ProcessResult;

/// Run `binary` with `args`, `stdin_text` on its stdin and `env` ("K=V") added to an
/// environment without AQ_ADMIN_PASSWORD; wait for it to exit.
inline CommandResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                                const std::string& stdin_text = "",
                                const std::vector<std::string>& env = {}) {
  ::aqueducts::testing::ProcessOptions options;
  options.stdin_text = stdin_text;
  options.env = env;
  options.env_removed = {"AQ_ADMIN_PASSWORD"};
  return ::aqueducts::testing::RunProcess(binary, args, options);
}

/// RunCommand of the aqueducts-server binary.
inline CommandResult RunServerCommand(const std::vector<std::string>& args,
                                      const std::string& stdin_text = "",
                                      const std::vector<std::string>& env = {}) {
  return RunCommand(AQ_SERVER_BIN, args, stdin_text, env);
}

/// \brief A running `aqueducts-server serve`; killed and cleaned up on destruction.
class ServerProcess {
 public:
  /// Start `serve --port 0` on `data_dir` and wait for its "listening" line. nullptr on failure.
  /// An empty `data_dir` passes no --data-dir (`extra_args` then name the store: --database).
  static std::unique_ptr<ServerProcess> Start(const std::filesystem::path& data_dir,
                                              std::vector<std::string> extra_args = {}) {
    // A request refused before it is fully sent (413) meets a closed socket: that must be an
    // error for the client, not a SIGPIPE ending the test process.
    signal(SIGPIPE, SIG_IGN);
    auto p = std::unique_ptr<ServerProcess>(new ServerProcess());
    p->log_dir_ = MakeTempDir("log");
    p->log_path_ = p->log_dir_ / "stdout.log";
    std::vector<std::string> args = {AQ_SERVER_BIN, "serve", "--host",         "127.0.0.1",
                                     "--port",      "0",     "--read-timeout", "2"};
    if (!data_dir.empty()) {
      args.insert(args.end(), {"--data-dir", data_dir.string()});
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    int fd = open(p->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    p->pid_ = fork();
    if (p->pid_ == 0) {
      dup2(fd, STDOUT_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fd);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& line : p->LogLines()) {
        auto doc = nlohmann::json::parse(line, nullptr, false);
        if (doc.is_object() && doc.value("msg", "") == "listening") {
          p->port_ = std::stoi(doc["fields"]["port"].get<std::string>());
          return p;
        }
      }
      if (!p->Alive()) {
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return nullptr;
  }

  ~ServerProcess() {
    if (Alive()) {
      kill(pid_, SIGKILL);
    }
    Wait(std::chrono::seconds(5));
    std::error_code ec;
    std::filesystem::remove_all(log_dir_, ec);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  bool Alive() {
    if (exited_) {
      return false;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_status_ = status;
      return false;
    }
    return true;
  }

  /// Wait for the process to exit; its wait status, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Alive()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_status_;
  }

  std::vector<std::string> LogLines() const {
    std::ifstream in(log_path_);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      lines.push_back(line);
    }
    return lines;
  }

  std::unique_ptr<httplib::Client> Client() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(20, 0);
    return client;
  }

 private:
  ServerProcess() = default;
  std::filesystem::path log_dir_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_status_ = -1;
};

/// `init` a fresh data directory with admin "root" / kAdminPassword; empty path on failure.
inline std::filesystem::path InitDataDir() {
  std::filesystem::path dir = MakeTempDir("data") / "store";
  CommandResult r = RunServerCommand({"init", "--data-dir", dir.string(), "--admin", "root"}, "",
                                     {std::string("AQ_ADMIN_PASSWORD=") + kAdminPassword});
  return r.exit_code == 0 ? dir : std::filesystem::path();
}

inline httplib::Headers Bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

/// The server's two stores.
enum class Backend { kSqlite, kPostgres };

/// \brief An initialised store with admin "root" / kAdminPassword: a SQLite data directory, or a
/// fresh database on the PostgreSQL of pg_harness.h. The directory is removed on destruction.
class ServerStore {
 public:
  /// An error when `init` or PostgreSQL fails.
  static Result<std::unique_ptr<ServerStore>> Init(Backend backend) {
    auto store = std::unique_ptr<ServerStore>(new ServerStore());
    AQ_RETURN_IF_ERROR(store->InitAs(backend));
    return store;
  }
  virtual ~ServerStore() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_.parent_path(), ec);
    }
  }

  Backend backend() const { return backend_; }
  /// The SQLite data directory; empty for PostgreSQL.
  const std::filesystem::path& dir() const { return dir_; }
  /// The PostgreSQL URI; empty for SQLite.
  const std::string& url() const { return url_; }

  /// `serve` on this store with `extra_args`; nullptr on failure.
  std::unique_ptr<ServerProcess> Serve(const std::vector<std::string>& extra_args = {}) const {
    std::vector<std::string> args;
    if (backend_ == Backend::kPostgres) {
      args = {"--database", url_};
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return ServerProcess::Start(dir_, args);
  }

 protected:
  ServerStore() = default;

  /// Create the store of `backend`; the error says which step failed.
  Status InitAs(Backend backend) {
    backend_ = backend;
    if (backend == Backend::kSqlite) {
      dir_ = InitDataDir();
      if (dir_.empty()) {
        return Status::IoError("aqueducts-server init failed");
      }
      return Status::OK();
    }
    Result<std::string> url = FreshPostgresDatabase();
    if (!url.ok()) {
      return Status::IoError("PostgreSQL did not start: " + url.status().ToString());
    }
    url_ = *url;
    CommandResult r = RunServerCommand({"init", "--database", *url, "--admin", "root"}, "",
                                       {std::string("AQ_ADMIN_PASSWORD=") + kAdminPassword});
    if (r.exit_code != 0) {
      return Status::IoError("aqueducts-server init --database failed: " + r.out + r.err);
    }
    return Status::OK();
  }

 private:
  Backend backend_ = Backend::kSqlite;
  std::filesystem::path dir_;
  std::string url_;
};

}  // namespace aqueducts::server::testing

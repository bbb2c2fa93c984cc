#pragma once

// Test support for the server tests: the real aqueducts-server binary as a subprocess on
// 127.0.0.1. Header-only: only *_test.cc files include it.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor/test_harness.h"
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

/// The server's two stores: the tests that exercise the server through its API run on both.
enum class Backend { kSqlite, kPostgres };

/// "SQLite" / "PostgreSQL": the suffix of a test instantiated over ::testing::Values(kSqlite,
/// kPostgres) (INSTANTIATE_TEST_SUITE_P(Backends, Suite, ..., BackendName)).
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "SQLite" : "PostgreSQL";
}

/// \brief An initialised store with admin "root" / kAdminPassword: a SQLite data directory, or a
/// fresh database on the PostgreSQL the tests start (pg_harness.h). The directory is removed on
/// destruction.
class TestStore {
 public:
  /// nullptr (with a gtest failure) when `init` or PostgreSQL fails.
  static std::unique_ptr<TestStore> Init(Backend backend) {
    auto store = std::unique_ptr<TestStore>(new TestStore());
    store->backend_ = backend;
    if (backend == Backend::kSqlite) {
      store->dir_ = InitDataDir();
      if (store->dir_.empty()) {
        ADD_FAILURE() << "aqueducts-server init failed";
        return nullptr;
      }
      return store;
    }
    Result<std::string> url = FreshPostgresDatabase();
    if (!url.ok()) {
      ADD_FAILURE() << "PostgreSQL did not start: " << url.status().ToString();
      return nullptr;
    }
    store->url_ = *url;
    CommandResult r = RunServerCommand({"init", "--database", *url, "--admin", "root"}, "",
                                       {std::string("AQ_ADMIN_PASSWORD=") + kAdminPassword});
    if (r.exit_code != 0) {
      ADD_FAILURE() << "aqueducts-server init --database failed: " << r.out << r.err;
      return nullptr;
    }
    return store;
  }
  ~TestStore() {
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

 private:
  TestStore() = default;
  Backend backend_ = Backend::kSqlite;
  std::filesystem::path dir_;
  std::string url_;
};

/// \brief The set-up the server tests share: a server on a store of the test's Backend with the
/// admin's token, and executors registered with it (started by executor/test_harness.h and
/// waited for until the server lists them idle with an open work stream). Everything is stopped
/// and removed in TearDown.
class ServerFixture : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = TestStore::Init(GetParam());
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    executors_.clear();
    server_.reset();
    store_.reset();
  }

  /// Start the server on the store (again on the same port when it ran before: executors know
  /// only that address) and take a token of admin "root" when there is none yet.
  void StartServer(std::vector<std::string> extra_args = {}) {
    if (port_ != 0) {
      extra_args.insert(extra_args.end(), {"--port", std::to_string(port_)});
    }
    server_ = store_->Serve(extra_args);
    ASSERT_NE(server_, nullptr) << "the server did not start";
    port_ = server_->port();
    client_ = server_->Client();
    if (admin_.empty()) {
      auto res = client_->Post("/api/v1/tokens",
                               {httplib::make_basic_authentication_header("root", kAdminPassword)},
                               "", "application/json");
      ASSERT_TRUE(res && res->status == 201) << (res ? res->body : httplib::to_string(res.error()));
      admin_ = nlohmann::json::parse(res->body)["token"];
    }
  }

  std::string ServerUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::string RegistrationToken() {
    auto res = client_->Post("/api/v1/executors/registration-tokens", Bearer(admin_), "",
                             "application/json");
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
    return res && res->status == 201 ? nlohmann::json::parse(res->body)["token"].get<std::string>()
                                     : "";
  }

  /// Start an executor registered as `name` (with `extra_args`, e.g. --labels) and wait until
  /// the server lists it idle with its work stream open (a failure with the executor's log when
  /// it does not); nullptr when it did not start.
  executor::testing::ExecutorProcess* StartExecutor(const std::string& name,
                                                    std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--server-url",         ServerUrl(),
                                     "--executor-id",        name,
                                     "--registration-token", RegistrationToken()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto p = executor::testing::ExecutorProcess::Start(args);
    EXPECT_NE(p, nullptr);
    if (!p) {
      return nullptr;
    }
    executors_.push_back(std::move(p));
    bool online = WaitExecutor(name, "idle");
    EXPECT_TRUE(online) << name << " did not come online: " << Executor(name);
    if (!online) {
      for (const auto& line : executors_.back()->LogLines()) {
        ADD_FAILURE() << line;
      }
    }
    return executors_.back().get();
  }

  /// Executor `name` as GET /api/v1/executors lists it; null when not listed (a failed request
  /// is a test failure).
  nlohmann::json Executor(const std::string& name) {
    auto res = client_->Get("/api/v1/executors", Bearer(admin_));
    if (!res || res->status != 200) {
      ADD_FAILURE() << "GET /api/v1/executors: "
                    << (res ? std::to_string(res->status) + " " + res->body
                            : httplib::to_string(res.error()));
      return nlohmann::json();
    }
    // Kept in a variable: a range-for over a member of the temporary json::parse(...) would
    // iterate a destroyed object.
    nlohmann::json doc = nlohmann::json::parse(res->body);
    for (const auto& e : doc["executors"]) {
      if (e["name"] == name) {
        return e;
      }
    }
    return nlohmann::json();
  }

  /// Poll the executor list until `name` has `status` (and, unless offline, an open work stream).
  bool WaitExecutor(const std::string& name, const std::string& status,
                    std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      nlohmann::json e = Executor(name);
      if (e.is_object() && e["status"] == status &&
          (status == "offline" || e["connected"].get<bool>())) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  nlohmann::json GetRun(int64_t id) {
    auto res = client_->Get(("/api/v1/runs/" + std::to_string(id)).c_str(), Bearer(admin_));
    return res && res->status == 200 ? nlohmann::json::parse(res->body) : nlohmann::json();
  }

  /// Poll run `id` until `pred` holds; the last run object seen.
  nlohmann::json WaitRun(int64_t id, const std::function<bool(const nlohmann::json&)>& pred,
                         std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    nlohmann::json run;
    while (std::chrono::steady_clock::now() < deadline) {
      run = GetRun(id);
      if (run.is_object() && pred(run)) {
        return run;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return run;
  }

  std::unique_ptr<TestStore> store_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
  int port_ = 0;
  std::vector<std::unique_ptr<executor::testing::ExecutorProcess>> executors_;
};

}  // namespace aqueducts::server::testing

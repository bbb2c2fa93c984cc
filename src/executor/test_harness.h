#pragma once

// Test support for the executor tests: the real aqueducts-executor binary as a subprocess on
// 127.0.0.1 and a real SSE client. Header-only: only *_test.cc files include it.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
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

#include "protocol/sse.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace aqueducts::executor::testing {

inline constexpr char kKey[] = "test-key-0123456789";

using ::aqueducts::testing::MakeTempDir;

/// \brief A running aqueducts-executor; killed and cleaned up on destruction.
class ExecutorProcess {
 public:
  /// Start the binary with --port 0 and wait for its "listening" log line. nullptr on failure.
  static std::unique_ptr<ExecutorProcess> Start(std::vector<std::string> extra_args = {}) {
    // A client whose request is refused before it has sent it all meets a closed socket: that
    // must be an error, not a SIGPIPE ending the test process.
    signal(SIGPIPE, SIG_IGN);
    auto p = std::unique_ptr<ExecutorProcess>(new ExecutorProcess());
    p->dir_ = MakeTempDir("proc");
    p->log_path_ = p->dir_ / "stdout.log";
    std::vector<std::string> args = {
        AQ_EXECUTOR_BIN,  "--api-key", kKey,          "--host", "127.0.0.1", "--port", "0",
        "--read-timeout", "2",         "--log-level", "debug"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    // Everything the child needs is prepared before fork: only async-signal-safe calls after.
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

  ~ExecutorProcess() {
    if (Alive()) {
      kill(pid_, SIGKILL);
    }
    Wait(std::chrono::seconds(5));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }

  bool Alive() {
    if (exited_) {
      return false;
    }
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
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
    auto client = std::make_unique<httplib::Client>(url());
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(20, 0);
    return client;
  }

 private:
  ExecutorProcess() = default;
  std::filesystem::path dir_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  int exit_status_ = -1;
};

inline httplib::Headers Auth(const std::string& key = kKey) {
  return {{"X-API-Key", key}};
}

/// \brief What one POST /api/executions returned.
struct StreamResult {
  int status = 0;
  httplib::Error error = httplib::Error::Success;
  std::string body;  ///< non-200 answers only
  std::vector<protocol::SseMessage> messages;
  std::vector<std::string> headers_retry_after;
  bool Has(const std::string& type) const {
    for (const auto& m : messages) {
      if (m.event == type) {
        return true;
      }
    }
    return false;
  }
  std::string Last() const { return messages.empty() ? "" : messages.back().event; }
};

/// POST a body and read the SSE stream; `on_message` returning false drops the connection.
inline StreamResult Submit(httplib::Client& client, const std::string& body,
                           std::function<bool(const protocol::SseMessage&)> on_message = nullptr,
                           const std::string& key = kKey) {
  StreamResult result;
  protocol::SseParser parser;
  httplib::Request req;
  req.method = "POST";
  req.path = "/api/executions";
  req.headers = Auth(key);
  req.headers.emplace("Content-Type", "application/json");
  req.body = body;
  req.response_handler = [&](const httplib::Response& res) {
    result.status = res.status;
    if (res.has_header("Retry-After")) {
      result.headers_retry_after.push_back(res.get_header_value("Retry-After"));
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (result.status != 200) {
      result.body.append(data, size);
      return true;
    }
    for (auto& m : parser.Feed(std::string_view(data, size))) {
      result.messages.push_back(m);
      if (on_message && !on_message(m)) {
        return false;
      }
    }
    return true;
  };
  httplib::Response res;
  client.send(req, res, result.error);
  if (result.body.empty() && result.status != 200) {
    result.body = res.body;
  }
  return result;
}

/// {"pipeline": ...} with one stage per query (each its own group) and no destination.
inline std::string PipelineBody(const std::vector<std::string>& queries, int show = -1) {
  nlohmann::json stages = nlohmann::json::array();
  for (size_t i = 0; i < queries.size(); ++i) {
    nlohmann::json stage{{"name", "stage_" + std::to_string(i)}, {"query", queries[i]}};
    if (show >= 0) {
      stage["show"] = show;
    }
    stages.push_back(nlohmann::json::array({stage}));
  }
  nlohmann::json pipeline{
      {"version", "v2"}, {"sources", nlohmann::json::array()}, {"stages", stages}};
  return nlohmann::json{{"pipeline", pipeline}}.dump();
}

/// A query that runs for many minutes unless interrupted.
inline constexpr char kLongQuery[] = "SELECT sum(range % 7) AS s FROM range(1000000000000)";

}  // namespace aqueducts::executor::testing

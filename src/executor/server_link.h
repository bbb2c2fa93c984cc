#pragma once

// The executor's side of registration with an aqueducts-server (docs/server-api.md, "Executor
// registration"): every connection is outbound, so an executor inside a data network needs no
// inbound port. httplib stays inside server_link.cc.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aqueducts/status.h"

#include "executor/execution_manager.h"
#include "executor/logger.h"

namespace aqueducts::executor {

struct ServerLinkOptions {
  std::string server_url;  ///< "http://host:port" or "https://host[:port]"; empty: no link
  std::string name;        ///< the executor's name on the server (--executor-id)
  std::string registration_token;
  std::map<std::string, std::string> labels;
  int64_t memory_limit_bytes = 0;  ///< reported in heartbeats (0: DuckDB's default)
  std::string ca_cert;             ///< PEM bundle to verify an https server with
};

/// \brief Enrols with the server (the one-time registration token is exchanged for a
/// credential), heartbeats at the interval the server asks for, takes runs and cancels from a
/// long-lived SSE work stream, and posts each run's events back numbered 1, 2, 3... until the
/// server acknowledges them, so a dropped connection loses nothing. Every connection is retried
/// with backoff (0.2 s doubling to 10 s).
class ServerLink {
 public:
  ServerLink(ServerLinkOptions options, ExecutionManager* manager, Logger* logger);
  ~ServerLink();

  /// Serve until Stop(). Returns an error only when the server refuses the registration
  /// (unknown or already used token, a name taken): retrying could not help.
  Status Run();
  /// Stop: Run() returns after giving unsent run events a few seconds. Thread-safe.
  void Stop();

 private:
  struct Outgoing;  // one run's events on their way to the server

  enum class Enrolment { kOk, kRetry, kRefused };
  Enrolment Enrol(std::string* error);
  /// Enrol, retrying with backoff until enrolled, refused or stopped.
  Status EnrolWithRetry();
  void HeartbeatLoop();
  /// One work-stream connection; returns its HTTP status (0: no answer).
  int ReadWork();
  void OnWork(const std::string& event, const std::string& data);
  void StartRun(int64_t run_id, const std::string& pipeline_json);
  void Forward(std::shared_ptr<Outgoing> out);
  /// Sleep up to `d` unless stopping; false when stopping.
  bool Pause(std::chrono::milliseconds d);
  std::string Credential();

  ServerLinkOptions options_;
  ExecutionManager* manager_;
  Logger* logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_;
  std::string credential_;
  std::chrono::milliseconds heartbeat_interval_{10000};
  std::map<int64_t, std::string> active_;  ///< run id -> execution id ("" before it has one)
  std::set<int64_t> seen_;                 ///< every run id received (a resent run is ignored)
  std::vector<std::thread> forwarders_;
  std::thread heartbeat_;
};

}  // namespace aqueducts::executor

#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "aqueducts/status.h"

#include "executor/execution_manager.h"
#include "executor/logger.h"

namespace aqueducts::executor {

/// \brief Settings of the HTTP(S) surface (docs/executor-api.md).
struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 3031;       ///< 0: any free port (logged in the "listening" line)
  std::string api_key;   ///< required, compared in constant time
  std::string tls_cert;  ///< PEM files; both set: HTTPS, both empty: HTTP
  std::string tls_key;
  std::string executor_id;
  size_t max_body_bytes = 16u << 20;  ///< larger request bodies get 413
  int read_timeout_s = 5;  ///< a request's headers and body not sent by then (plus 1 s per
                           ///< 64 KiB of body received) is dropped
  int max_connections_per_client = 32;  ///< open connections from one address (more: 429)
  size_t max_connections = 512;         ///< connections served at once (more wait)
  int keepalive_ms = 500;               ///< idle SSE streams get a `: keepalive` comment this often
  int retry_after_s = 30;               ///< Retry-After of 429 answers
};

/// \brief The executor's HTTP server. httplib stays inside http_server.cc.
class HttpServer {
 public:
  /// Build the server (loads the TLS certificate; kInvalidArgument when it cannot).
  static Result<std::unique_ptr<HttpServer>> Make(const ServerOptions& options,
                                                  ExecutionManager* manager, Logger* logger);
  ~HttpServer();

  /// Bind and serve until Stop(); kIoError when the address cannot be bound.
  Status Listen();
  /// Stop serving; Listen() returns. Thread-safe.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Compare a presented key with the expected one in time independent of where they differ.
bool KeysEqual(const std::string& presented, const std::string& expected);

}  // namespace aqueducts::executor

#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "aqueducts/status.h"

#include "server/log.h"
#include "server/runs.h"
#include "server/store.h"

namespace aqueducts::server {

/// \brief Settings of the HTTP API (docs/server-api.md).
struct ApiOptions {
  std::string host = "127.0.0.1";
  int port = 3030;                   ///< 0: any free port (logged in the "listening" line)
  size_t max_body_bytes = 4u << 20;  ///< larger request bodies get 413
  int read_timeout_s = 5;            ///< a request not fully sent by then is dropped
  int threads = 32;  ///< ordinary requests served at once (streams have their own threads)
  /// SSE streams open at once (run event readers and executor work streams together). Each holds
  /// a thread for its life, so the server runs `threads + max_streams` threads; a stream asked
  /// for beyond this bound gets 503 with Retry-After, and `threads` stay free for the rest.
  int max_streams = 256;
  int keepalive_ms = 1000;       ///< idle SSE streams get a `: keepalive` comment this often
  int sign_in_max_failures = 5;  ///< failed sign-ins of one user in a row before a lockout (0: off)
  int sign_in_lockout_s = 300;   ///< how long a lockout lasts (SignInLimiter)
  /// PEM certificate (chain) and its private key: both set, the API is served over HTTPS only
  /// (checked by CheckTlsFiles when the server is made); both empty, plain HTTP.
  std::string tls_cert;
  std::string tls_key;
};

class Metrics;
class Scheduler;

/// \brief The server's HTTP API over a Store. httplib stays inside api.cc.
class ApiServer {
 public:
  /// `runs` may be null: triggering a run then answers 409. `schedules` may be null: the
  /// /api/v1/schedules endpoints are then not served. `metrics` may be null: /metrics then has
  /// no histograms. kInvalidArgument for TLS files CheckTlsFiles refuses.
  static Result<std::unique_ptr<ApiServer>> Make(const ApiOptions& options, Store* store,
                                                 RunManager* runs, Log* log,
                                                 Scheduler* schedules = nullptr,
                                                 Metrics* metrics = nullptr);
  ~ApiServer();
  /// Bind and serve until Stop(); kIoError when the address cannot be bound.
  Status Listen();
  /// Stop serving; Listen() returns. Thread-safe.
  void Stop();

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Check a pipeline text with the model's loader without parameter values. OK, or the loader's
/// error (file, field path, line). `parameters_json` receives the JSON array of the
/// `${names}` the text needs.
Status ValidatePipelineText(const std::string& text, const std::string& format,
                            std::string* parameters_json);

/// Decode standard base64 (with or without padding); false on any other character.
bool DecodeBase64(const std::string& in, std::string* out);

}  // namespace aqueducts::server

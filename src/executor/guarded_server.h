#pragma once

// The executor's defence against hostile HTTP clients, around cpp-httplib (whose own timeouts
// are per read, so a client sending a byte a second holds a thread forever). Internal to the
// executor: only http_server.cc and guarded_server.cc include it.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <httplib.h>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace aqueducts::executor {

/// \brief Limits on every connection.
struct GuardOptions {
  std::chrono::seconds request_deadline{5};  ///< whole request (headers and body) from 1st byte
  std::chrono::seconds keep_alive{2};        ///< wait for the next request on a connection
  std::chrono::seconds write_timeout{5};     ///< one write
  size_t max_body_bytes = 16u << 20;         ///< Content-Length or de-chunked body
  size_t max_header_bytes = 64u << 10;       ///< request line and headers together
  int max_connections_per_address = 32;      ///< open connections from one client address
  size_t max_connection_threads = 512;       ///< connections served at once (more wait)
  std::string tls_cert;  ///< PEM certificate chain and key: both set, every connection is TLS
  std::string tls_key;
  /// Writes an error answer's JSON body for a status (413, 400, 429, ...) and a message.
  std::function<std::string(int status, const std::string& message)> error_body;
};

/// \brief An httplib::Server (HTTP, or HTTPS when GuardOptions has a certificate) that reads
/// each request itself before httplib parses it: a deadline for the whole request (on TLS the
/// handshake included), refusal of header values with control characters, an immediate 413 for
/// a Content-Length over the limit, a byte count on chunked bodies, and a cap on connections per
/// client address. Each connection runs on its own thread (up to max_connection_threads), so
/// slow clients never starve others.
class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(GuardOptions options);
  ~GuardedServer() override;

  /// False when TLS was asked for and the certificate or key could not be loaded.
  bool is_valid() const override;

  /// True on the thread serving a request whose chunked body went over the limit (httplib then
  /// reports 400; the error handler turns it into 413).
  static bool BodyOverLimitOnThisThread();

 private:
  bool process_and_close_socket(socket_t sock) override;

  struct TlsContextFree {
    void operator()(ssl_ctx_st* ctx) const;
  };

  GuardOptions options_;
  bool tls_requested_ = false;
  std::unique_ptr<ssl_ctx_st, TlsContextFree> tls_;  // set: every connection is TLS
  std::mutex mu_;
  std::map<std::string, int> open_per_address_;
};

/// \brief A task queue that gives each connection its own thread, up to `max_threads` at once;
/// further connections wait for a free slot. Used by both the plain and the TLS server.
httplib::TaskQueue* NewConnectionThreads(size_t max_threads);

}  // namespace aqueducts::executor

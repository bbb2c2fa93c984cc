#include "executor/guarded_server.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/text.h"

namespace aqueducts::executor {
namespace {

using Clock = std::chrono::steady_clock;

thread_local bool body_over_limit = false;

// The slowest body transfer allowed beyond the request deadline (see GuardedStream::Deadline).
constexpr size_t kBodyBytesPerSecond = 64 * 1024;

int MillisUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Wait until `fd` has `events` or the deadline passes.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, MillisUntil(deadline));
    if (n > 0) {
      return true;
    }
    if (n == 0 || errno != EINTR) {
      return false;
    }
  }
}

std::string PeerAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "?";
  }
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof(text));
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof(text));
  }
  return text;
}

void AddressAndPort(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) {
    return;
  }
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof(text));
    port = ntohs(in->sin6_port);
  }
  ip = text;
}

// One connection's bytes: the socket itself, or a TLS session over it. Every wait is bounded by
// a deadline, including the TLS handshake and a TLS record that arrives a byte at a time (the
// socket of a TLS connection is non-blocking, so OpenSSL never waits on its own).
class Transport {
 public:
  explicit Transport(int fd) : fd_(fd) {}
  ~Transport() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
    }
  }
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int fd() const { return fd_; }

  /// Start TLS over the socket and complete the server side of the handshake by `deadline`.
  bool AcceptTls(SSL_CTX* ctx, Clock::time_point deadline) {
    int flags = fcntl(fd_, F_GETFL, 0);
    if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
      return false;
    }
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
      return false;
    }
    while (true) {
      ERR_clear_error();
      int rc = SSL_accept(ssl_);
      if (rc == 1) {
        return true;
      }
      if (!WaitForTls(rc, deadline)) {
        return false;
      }
    }
  }

  /// Bytes (decrypted on TLS) are ready to read, or the deadline passed (false).
  bool WaitReadable(Clock::time_point deadline) const {
    if (ssl_ != nullptr && SSL_has_pending(ssl_) == 1) {
      return true;
    }
    return WaitFor(fd_, POLLIN, deadline);
  }

  /// Read up to `size` bytes by `deadline`: the count, 0 when the peer closed, -1 on error or
  /// timeout.
  ssize_t Recv(char* buf, size_t size, Clock::time_point deadline) {
    if (ssl_ == nullptr) {
      if (!WaitFor(fd_, POLLIN, deadline)) {
        return -1;
      }
      return recv(fd_, buf, size, 0);
    }
    int want = static_cast<int>(std::min<size_t>(size, 1 << 30));
    while (true) {
      ERR_clear_error();
      int n = SSL_read(ssl_, buf, want);
      if (n > 0) {
        return n;
      }
      if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN) {
        return 0;
      }
      if (!WaitForTls(n, deadline)) {
        return -1;
      }
    }
  }

  /// Write all of `size` bytes by `deadline`: `size`, or -1.
  ssize_t Send(const char* data, size_t size, Clock::time_point deadline) {
    size_t sent = 0;
    while (sent < size) {
      ssize_t n = 0;
      if (ssl_ == nullptr) {
        if (!WaitFor(fd_, POLLOUT, deadline)) {
          return -1;
        }
        n = send(fd_, data + sent, size - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          continue;
        }
      } else {
        ERR_clear_error();
        int chunk = static_cast<int>(std::min<size_t>(size - sent, 1 << 30));
        int rc = SSL_write(ssl_, data + sent, chunk);
        if (rc <= 0) {
          if (!WaitForTls(rc, deadline)) {
            return -1;
          }
          continue;
        }
        n = rc;
      }
      if (n <= 0) {
        return -1;
      }
      sent += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(size);
  }

  /// Tell the peer nothing more comes (a TLS close_notify, or the socket's write side closed),
  /// so it sees the end of an answer at once; reading stays possible.
  void EndWriting() {
    if (ssl_ == nullptr) {
      ::shutdown(fd_, SHUT_WR);
    } else if (!goodbye_sent_ && SSL_is_init_finished(ssl_) == 1) {
      goodbye_sent_ = true;
      ERR_clear_error();
      SSL_shutdown(ssl_);  // sends close_notify; the peer's is not awaited
    }
  }

  /// End the connection (saying goodbye on TLS first).
  void Close() {
    EndWriting();
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
  }

 private:
  // After an OpenSSL call returned `rc`: wait for what it needs (readable or writable socket)
  // by `deadline`; false when it failed for good or time ran out.
  bool WaitForTls(int rc, Clock::time_point deadline) {
    switch (SSL_get_error(ssl_, rc)) {
      case SSL_ERROR_WANT_READ:
        return WaitFor(fd_, POLLIN, deadline);
      case SSL_ERROR_WANT_WRITE:
        return WaitFor(fd_, POLLOUT, deadline);
      default:
        return false;
    }
  }

  int fd_;
  SSL* ssl_ = nullptr;
  bool goodbye_sent_ = false;
};

// Counts the payload bytes of a chunked body as they pass (RFC 9112 7.1 framing: hex size,
// optional extensions, CRLF, data, CRLF; a zero size ends it, followed by trailers).
class ChunkCounter {
 public:
  /// Feed bytes; false once the payload exceeds `limit`.
  bool Feed(const char* data, size_t size, size_t limit) {
    for (size_t i = 0; i < size; ++i) {
      char c = data[i];
      switch (state_) {
        case State::kSize:
          if (std::isxdigit(static_cast<unsigned char>(c))) {
            int digit = std::isdigit(static_cast<unsigned char>(c))
                            ? c - '0'
                            : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
            if (chunk_ > (limit + 1) / 16 + 1) {
              return false;  // a chunk size that alone exceeds the limit
            }
            chunk_ = chunk_ * 16 + static_cast<size_t>(digit);
          } else if (c == '\n') {
            state_ = chunk_ == 0 ? State::kTrailer : State::kData;
            if (chunk_ > limit || total_ + chunk_ > limit) {
              return false;
            }
          }  // extensions and '\r' are skipped
          break;
        case State::kData: {
          size_t take = std::min(chunk_, size - i);
          total_ += take;
          chunk_ -= take;
          i += take - 1;
          if (chunk_ == 0) {
            state_ = State::kDataEnd;
          }
          break;
        }
        case State::kDataEnd:
          if (c == '\n') {
            state_ = State::kSize;
          }
          break;
        case State::kTrailer:
          break;
      }
    }
    return total_ <= limit;
  }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer };
  State state_ = State::kSize;
  size_t chunk_ = 0;
  size_t total_ = 0;
};

// A connection stream for httplib: bytes already read (the request head) first, then the
// connection. Reads fail at the request's deadline or when a chunked body passes the limit.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(Transport& transport, std::string buffered, Clock::time_point deadline,
                std::chrono::seconds write_timeout, bool chunked, size_t max_body)
      : transport_(transport),
        fd_(transport.fd()),
        buffered_(std::move(buffered)),
        deadline_(deadline),
        write_timeout_(write_timeout),
        chunked_(chunked),
        max_body_(max_body) {}

  bool is_readable() const override {
    return offset_ < buffered_.size() || transport_.WaitReadable(Deadline());
  }
  bool is_writable() const override { return WaitFor(fd_, POLLOUT, Clock::now() + write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (offset_ < buffered_.size()) {
      size_t n = std::min(size, buffered_.size() - offset_);
      std::copy_n(buffered_.data() + offset_, n, ptr);
      offset_ += n;
      return Count(ptr, n, n - std::min(n, head_left_));
    }
    ssize_t n = transport_.Recv(ptr, size, Deadline());
    if (n <= 0) {
      return n;
    }
    return Count(ptr, static_cast<size_t>(n), static_cast<size_t>(n));
  }

  ssize_t write(const char* ptr, size_t size) override {
    return transport_.Send(ptr, size, Clock::now() + write_timeout_);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    AddressAndPort(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    AddressAndPort(fd_, false, ip, port);
  }
  socket_t socket() const override { return fd_; }

  /// How many leading bytes of the buffer are the request head (not counted as body).
  void set_head_size(size_t size) { head_left_ = size; }

  /// Buffered bytes httplib did not read (the start of a pipelined next request).
  std::string TakeUnread() { return buffered_.substr(std::min(offset_, buffered_.size())); }

 private:
  // The request deadline, moved on by one second for every kBodyBytesPerSecond body bytes
  // received: a large body on a slow link gets the time it needs, a drip gains nothing.
  Clock::time_point Deadline() const {
    return deadline_ + std::chrono::microseconds(body_bytes_ * 1000000 / kBodyBytesPerSecond);
  }

  // Count the body bytes among the last `n` read (the final `body` of them); -1 when a chunked
  // body went over the limit.
  ssize_t Count(const char* ptr, size_t n, size_t body) {
    head_left_ -= std::min(head_left_, n - body);
    body_bytes_ += body;
    if (chunked_ && body > 0 && !chunks_.Feed(ptr + (n - body), body, max_body_)) {
      body_over_limit = true;
      return -1;
    }
    return static_cast<ssize_t>(n);
  }

  Transport& transport_;
  int fd_;
  std::string buffered_;
  size_t offset_ = 0;
  size_t head_left_ = 0;
  size_t body_bytes_ = 0;
  Clock::time_point deadline_;
  std::chrono::seconds write_timeout_;
  bool chunked_;
  size_t max_body_;
  ChunkCounter chunks_;
};

void SendRaw(Transport& transport, int status, const char* reason, const std::string& body,
             std::chrono::seconds write_timeout) {
  std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + reason +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  transport.Send(response.data(), response.size(), Clock::now() + write_timeout);
}

// What the guard learns from a request head before httplib parses it.
struct Head {
  int status = 0;  // non-zero: refuse with this status and `message`
  std::string message;
  bool chunked = false;
  size_t content_length = 0;
};

Head CheckHead(const std::string& head, size_t max_body) {
  Head out;
  size_t pos = head.find("\r\n");  // the request line is httplib's to judge
  while (pos != std::string::npos && pos + 2 < head.size()) {
    size_t start = pos + 2;
    size_t end = head.find("\r\n", start);
    if (end == std::string::npos || end == start) {
      break;
    }
    std::string line = head.substr(start, end - start);
    pos = end;
    for (char c : line) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7F) {
        out.status = 400;
        out.message = "Bad request: a header contains a control character";
        return out;
      }
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = ToLowerAscii(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    if (name == "transfer-encoding" && ToLowerAscii(value).find("chunked") != std::string::npos) {
      out.chunked = true;
    } else if (name == "content-length") {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
          value.size() > 19) {
        if (value.size() > 19 && value.find_first_not_of("0123456789") == std::string::npos) {
          out.status = 413;
        } else {
          out.status = 400;
          out.message = "Bad request: invalid Content-Length";
        }
        return out;
      }
      out.content_length = std::stoull(value);
      if (out.content_length > max_body) {
        out.status = 413;
        return out;
      }
    }
  }
  return out;
}

// Read until the end of the request head ("\r\n\r\n"). Returns the bytes read (the head and any
// body bytes after it) and sets `*head_size`; empty on timeout, close or an oversized head.
std::string ReadHead(Transport& transport, Clock::time_point deadline, size_t max_head,
                     std::string pending, size_t* head_size, bool* too_large) {
  std::string buffer = std::move(pending);
  char chunk[4096];
  size_t scanned = 0;
  while (true) {
    size_t end = buffer.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0);
    if (end != std::string::npos) {
      *head_size = end + 4;
      return buffer;
    }
    scanned = buffer.size();
    if (buffer.size() > max_head) {
      *too_large = true;
      return {};
    }
    ssize_t n = transport.Recv(chunk, sizeof(chunk), deadline);
    if (n <= 0) {
      return {};
    }
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

// After an answer that refused a request whose body is still coming: tell the client nothing
// more comes, then read and discard what it still sends (until it stops, closes or `deadline`),
// so it can finish writing and read the answer instead of meeting a reset (which can make its
// system drop the answer unread). Nothing is kept (raw bytes, not decrypted).
void EndAfterRefusal(Transport& transport, Clock::time_point deadline) {
  transport.EndWriting();
  char discard[16384];
  while (WaitFor(transport.fd(), POLLIN, deadline) &&
         recv(transport.fd(), discard, sizeof(discard), 0) > 0) {
  }
}

class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max_threads) : max_threads_(max_threads) {}

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (running_ < max_threads_) {
      ++running_;
      std::thread([this, fn = std::move(fn)]() mutable { Run(std::move(fn)); }).detach();
    } else {
      waiting_.push_back(std::move(fn));
    }
  }

  void shutdown() override {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return running_ == 0; });
  }

 private:
  void Run(std::function<void()> fn) {
    while (true) {
      fn();
      std::unique_lock<std::mutex> lock(mu_);
      if (waiting_.empty()) {
        --running_;
        done_.notify_all();
        return;
      }
      fn = std::move(waiting_.front());
      waiting_.pop_front();
    }
  }

  size_t max_threads_;
  std::mutex mu_;
  std::condition_variable done_;
  std::deque<std::function<void()>> waiting_;
  size_t running_ = 0;
};

}  // namespace

httplib::TaskQueue* NewConnectionThreads(size_t max_threads) {
  return new ConnectionThreads(max_threads);
}

GuardedServer::GuardedServer(GuardOptions options) : options_(std::move(options)) {
  size_t threads = options_.max_connection_threads;
  new_task_queue = [threads] { return NewConnectionThreads(threads); };
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    tls_requested_ = true;
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) {
      return;
    }
    tls_.reset(ctx);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // No renegotiation (a client could make the server repeat handshake work at will) and no
    // compression (CRIME).
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, options_.tls_cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, options_.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      tls_.reset();
    }
  }
}

GuardedServer::~GuardedServer() = default;

void GuardedServer::TlsContextFree::operator()(ssl_ctx_st* ctx) const {
  SSL_CTX_free(ctx);
}

bool GuardedServer::is_valid() const {
  return !tls_requested_ || tls_ != nullptr;
}

bool GuardedServer::BodyOverLimitOnThisThread() {
  return body_over_limit;
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  std::string address = PeerAddress(sock);
  bool admitted = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int& open = open_per_address_[address];
    if (open < options_.max_connections_per_address) {
      ++open;
      admitted = true;
    }
  }
  Transport transport(sock);
  // The TLS handshake is part of the first request: it must be done by the same deadline.
  bool connected =
      tls_ == nullptr || transport.AcceptTls(tls_.get(), Clock::now() + options_.request_deadline);
  if (!connected) {
    // A failed or unfinished handshake: nothing to answer.
  } else if (!admitted) {
    SendRaw(transport, 429, "Too Many Requests",
            options_.error_body(429, "Too many connections from " + address + " (limit " +
                                         std::to_string(options_.max_connections_per_address) +
                                         ", executor flag --max-connections-per-client)"),
            options_.write_timeout);
  } else {
    std::string pending;
    for (size_t served = 0; served < keep_alive_max_count_; ++served) {
      // The first request may take the whole deadline to start; later ones the keep-alive wait.
      auto wait = served == 0 ? options_.request_deadline : options_.keep_alive;
      if (pending.empty() && !transport.WaitReadable(Clock::now() + wait)) {
        break;
      }
      auto deadline = Clock::now() + options_.request_deadline;
      size_t head_size = 0;
      bool too_large = false;
      std::string bytes = ReadHead(transport, deadline, options_.max_header_bytes,
                                   std::move(pending), &head_size, &too_large);
      if (too_large) {
        SendRaw(transport, 431, "Request Header Fields Too Large",
                options_.error_body(431, "Request headers too large"), options_.write_timeout);
        break;
      }
      if (bytes.empty()) {
        break;  // closed, or not sent in time
      }
      Head head = CheckHead(bytes.substr(0, head_size), options_.max_body_bytes);
      if (head.status != 0) {
        SendRaw(transport, head.status, head.status == 413 ? "Payload Too Large" : "Bad Request",
                options_.error_body(head.status, head.message), options_.write_timeout);
        EndAfterRefusal(transport, deadline);
        break;
      }
      // Bytes past this request (pipelining) stay for the next round; httplib reads exactly
      // Content-Length bytes, or the chunks up to the terminating one.
      GuardedStream stream(transport, std::move(bytes), deadline, options_.write_timeout,
                           head.chunked, options_.max_body_bytes);
      stream.set_head_size(head_size);
      body_over_limit = false;
      bool connection_closed = false;
      bool last = served + 1 == keep_alive_max_count_;
      bool ok = process_request(stream, last || head.chunked, connection_closed, nullptr);
      if (body_over_limit) {
        EndAfterRefusal(transport, deadline);  // the 413 is sent; the client may still be sending
        break;
      }
      if (!ok || connection_closed || last || head.chunked) {
        break;
      }
      pending = stream.TakeUnread();
    }
  }
  transport.Close();
  if (admitted) {
    std::lock_guard<std::mutex> lock(mu_);
    if (--open_per_address_[address] == 0) {
      open_per_address_.erase(address);
    }
  }
  return true;
}

}  // namespace aqueducts::executor

// The executor under hostile clients, with real sockets against the real binary, over plain
// HTTP and over HTTPS alike: slow clients that drip bytes (on TLS also into the handshake), many
// connections from one address, bodies over the limit in every transfer encoding, and header
// values with control characters.

#include <atomic>
#include <iostream>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include "executor/test_harness.h"

namespace aqueducts::executor::testing {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
}

// A TCP connection to the executor from `source` (any 127.x.y.z address reaches it on Linux).
int ConnectTcp(int port, const std::string& source) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The client side of the tests' TLS: any certificate is accepted (the test made it).
SSL_CTX* ClientTls() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  return ctx;
}

// A TLS ClientHello as a client would send it first: dripped into a TLS port, it stalls the
// server's handshake.
std::string ClientHello() {
  SSL* ssl = SSL_new(ClientTls());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_connect(ssl);  // wants to read the server's answer: the hello is in `out`
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(size));
  SSL_free(ssl);
  return hello;
}

// \brief A client connection, plain or TLS (handshake done on Open).
class Conn {
 public:
  static std::unique_ptr<Conn> Open(int port, bool tls, const std::string& source = "127.0.0.1") {
    int fd = ConnectTcp(port, source);
    if (fd < 0) {
      return nullptr;
    }
    auto conn = std::unique_ptr<Conn>(new Conn(fd));
    if (tls) {
      conn->ssl_ = SSL_new(ClientTls());
      SSL_set_fd(conn->ssl_, fd);
      if (SSL_connect(conn->ssl_) != 1) {
        ERR_clear_error();
        return nullptr;
      }
    }
    return conn;
  }

  ~Conn() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
    }
    close(fd_);
  }

  int fd() const { return fd_; }

  /// Send all of `data`; false when the server closed the connection first.
  bool Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = 0;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        n = SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
      } else {
        n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      }
      if (n <= 0) {
        return false;
      }
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  /// Everything the server sends (decrypted) until it closes the connection or `wait_ms` pass.
  std::string ReadUntilClosed(int wait_ms) {
    std::string out;
    char buf[4096];
    auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      bool buffered = ssl_ != nullptr && SSL_has_pending(ssl_) == 1;
      if (!buffered && (MillisLeft(deadline) == 0 || poll(&p, 1, MillisLeft(deadline)) != 1)) {
        return out;
      }
      ssize_t n = 0;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        n = SSL_read(ssl_, buf, sizeof(buf));
      } else {
        n = recv(fd_, buf, sizeof(buf), 0);
      }
      if (n <= 0) {
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  explicit Conn(int fd) : fd_(fd) {}
  int fd_;
  SSL* ssl_ = nullptr;
};

// Whether the server closed `fd` by `deadline` (raw bytes such as a TLS alert are skipped).
bool ClosedByServer(int fd, Clock::time_point deadline) {
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (MillisLeft(deadline) == 0 || poll(&p, 1, MillisLeft(deadline)) != 1) {
      return false;
    }
    if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0) {
      return true;
    }
  }
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) {
    return 0;
  }
  return std::stoi(response.substr(9, 3));
}

// Every case runs against a plain-HTTP executor and an HTTPS one (certificate made by openssl).
class HostileClientTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    cert_dir_ = MakeTempDir("hostile-tls");
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        (cert_dir_ / "key.pem").string() + " -out " + (cert_dir_ / "cert.pem").string() +
        " >/dev/null 2>&1";
    cert_made_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(cert_dir_, ec);
  }

  bool tls() const { return GetParam(); }

  std::unique_ptr<ExecutorProcess> Start(std::vector<std::string> args = {}) {
    if (tls()) {
      EXPECT_TRUE(cert_made_) << "openssl could not make a certificate";
      args.insert(args.end(), {"--tls-cert", (cert_dir_ / "cert.pem").string(), "--tls-key",
                               (cert_dir_ / "key.pem").string()});
    }
    return ExecutorProcess::Start(args);
  }

  std::unique_ptr<Conn> Connect(int port, const std::string& source = "127.0.0.1") {
    return Conn::Open(port, tls(), source);
  }

  // GET /api/health on a fresh connection; the time until the whole answer arrived.
  double HealthSeconds(int port, int* status) {
    auto start = Clock::now();
    *status = 0;
    auto conn = Connect(port);
    if (conn == nullptr) {
      return -1;
    }
    conn->Send("GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    *status = StatusOf(conn->ReadUntilClosed(30000));
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  static inline std::filesystem::path cert_dir_;
  static inline bool cert_made_ = false;
};

INSTANTIATE_TEST_SUITE_P(Transports, HostileClientTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Https" : "Http";
                         });

TEST_P(HostileClientTest, HealthAnswersQuicklyWith100SlowClientsAndTheyAreDropped) {
  // Slow clients come from 100 different addresses, so the per-address cap is not what saves
  // the executor here: each connection has its own thread and a whole-request deadline.
  auto executor = Start({"--read-timeout", "4"});
  ASSERT_NE(executor, nullptr);
  const int kSlow = 100;
  // Over HTTPS every other slow client drips its TLS ClientHello instead (a stalled handshake).
  const std::string hello = tls() ? ClientHello() : "";
  std::vector<std::unique_ptr<Conn>> slow;
  std::vector<int> raw;  // handshake drippers
  for (int i = 0; i < kSlow; ++i) {
    std::string source = "127.0.1." + std::to_string(i + 1);
    if (tls() && i % 2 == 1) {
      int fd = ConnectTcp(executor->port(), source);
      ASSERT_GE(fd, 0) << i;
      ASSERT_EQ(send(fd, hello.data(), 1, MSG_NOSIGNAL), 1);
      raw.push_back(fd);
      continue;
    }
    auto conn = Connect(executor->port(), source);
    ASSERT_NE(conn, nullptr) << i;
    ASSERT_TRUE(conn->Send("POST /api/executions HTTP/1.1\r\nHost: x\r\n"));
    slow.push_back(std::move(conn));
  }
  // Drip one more byte into every slow connection every 300 ms (a per-read timeout never fires).
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    for (size_t sent = 1; !stop; ++sent) {
      for (auto& conn : slow) {
        conn->Send("X");
      }
      for (int fd : raw) {
        send(fd, hello.data() + sent % hello.size(), 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  double worst = 0;
  for (int i = 0; i < 10; ++i) {
    int status = 0;
    double seconds = HealthSeconds(executor->port(), &status);
    EXPECT_EQ(status, 200);
    worst = std::max(worst, seconds);
  }
  std::cout << "/api/health" << (tls() ? " over HTTPS" : "") << " with " << kSlow
            << " slow clients connected: worst of 10 " << worst * 1000 << " ms\n";
  // Generous, so that a loaded CI machine (the suite runs two tests at a time) does not fail
  // it: before the fix health timed out for 10 s at a time. Quiet, it answers in 3-8 ms (the
  // issue's target is 100 ms; the figure above is printed for the record).
  EXPECT_LT(worst, 4.0);
  // The deadline (4 s for the whole request, TLS handshake included) drops every dripping
  // client although it keeps sending: each sees the connection closed.
  int closed = 0;
  auto deadline = Clock::now() + std::chrono::seconds(15);
  for (auto& conn : slow) {
    closed += ClosedByServer(conn->fd(), deadline) ? 1 : 0;
  }
  for (int fd : raw) {
    closed += ClosedByServer(fd, deadline) ? 1 : 0;
  }
  stop = true;
  drip.join();
  for (int fd : raw) {
    close(fd);
  }
  EXPECT_EQ(closed, kSlow);
  EXPECT_TRUE(executor->Alive());
}

TEST_P(HostileClientTest, ConnectionsPerAddressAreCapped) {
  auto executor = Start({"--max-connections-per-client", "8"});
  ASSERT_NE(executor, nullptr);
  // 12 silent connections from one address: 8 are admitted (and dropped at the request
  // deadline), 4 are refused at once. Which ones is up to thread timing.
  std::vector<std::unique_ptr<Conn>> held;
  for (int i = 0; i < 12; ++i) {
    auto conn = Connect(executor->port(), "127.0.2.1");
    ASSERT_NE(conn, nullptr);
    held.push_back(std::move(conn));
  }
  // Another address is served meanwhile.
  int status = 0;
  HealthSeconds(executor->port(), &status);
  EXPECT_EQ(status, 200);
  int refused = 0;
  std::string response;
  for (auto& conn : held) {
    std::string r = conn->ReadUntilClosed(10000);
    if (StatusOf(r) == 429) {
      ++refused;
      response = r;
    }
  }
  EXPECT_EQ(refused, 4);
  EXPECT_NE(response.find("Too many connections from 127.0.2.1"), std::string::npos) << response;
}

TEST_P(HostileClientTest, HugeContentLengthWithoutBodyGets413AtOnce) {
  // A long read timeout: the answer must not wait for it.
  auto executor = Start({"--read-timeout", "30"});
  ASSERT_NE(executor, nullptr);
  auto conn = Connect(executor->port());
  ASSERT_NE(conn, nullptr);
  auto start = Clock::now();
  ASSERT_TRUE(conn->Send(std::string("POST /api/executions HTTP/1.1\r\nHost: x\r\nX-API-Key: ") +
                         kKey + "\r\nContent-Length: 10737418240\r\n\r\n"));
  std::string response = conn->ReadUntilClosed(20000);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(StatusOf(response), 413) << response;
  EXPECT_NE(response.find("too large"), std::string::npos) << response;
  EXPECT_LT(seconds, 10.0);  // before: only after the read timeout
}

TEST_P(HostileClientTest, ChunkedBodyOverTheLimitGets413) {
  auto executor = Start({"--max-body-mb", "1"});
  ASSERT_NE(executor, nullptr);
  auto conn = Connect(executor->port());
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Send(std::string("POST /api/executions HTTP/1.1\r\nHost: x\r\nX-API-Key: ") +
                         kKey + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk(64 * 1024, 'x');
  char size[32];
  snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
  // 4 MB in 64 KiB chunks; the executor may close before all of it is sent.
  for (int i = 0; i < 64; ++i) {
    if (!conn->Send(size + chunk + "\r\n")) {
      break;
    }
  }
  conn->Send("0\r\n\r\n");
  std::string response = conn->ReadUntilClosed(10000);
  EXPECT_EQ(StatusOf(response), 413) << response.substr(0, 300);
  // A chunked body under the limit is still accepted.
  auto ok = Connect(executor->port());
  ASSERT_NE(ok, nullptr);
  std::string body = PipelineBody({"SELECT 1"});
  char body_size[32];
  snprintf(body_size, sizeof(body_size), "%zx\r\n", body.size());
  ASSERT_TRUE(ok->Send(std::string("POST /api/executions HTTP/1.1\r\nHost: x\r\nX-API-Key: ") +
                       kKey + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body_size + body +
                       "\r\n0\r\n\r\n"));
  std::string accepted = ok->ReadUntilClosed(20000);
  EXPECT_EQ(StatusOf(accepted), 200) << accepted.substr(0, 300);
  EXPECT_NE(accepted.find("event: completed"), std::string::npos) << accepted;
}

TEST_P(HostileClientTest, HeaderValuesWithControlCharactersAreRefused) {
  auto executor = Start();
  ASSERT_NE(executor, nullptr);
  for (const std::string& bad : {std::string(kKey) + std::string("\0xyz", 4),
                                 std::string(kKey) + "\x01", std::string(kKey) + "\x7f"}) {
    auto conn = Connect(executor->port());
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(conn->Send("GET /api/status HTTP/1.1\r\nHost: x\r\nX-API-Key: " + bad +
                           "\r\nConnection: close\r\n\r\n"));
    std::string response = conn->ReadUntilClosed(10000);
    EXPECT_EQ(StatusOf(response), 400) << response;
    EXPECT_NE(response.find("control character"), std::string::npos) << response;
  }
  // The key itself still works.
  auto conn = Connect(executor->port());
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Send(std::string("GET /api/status HTTP/1.1\r\nHost: x\r\nX-API-Key: ") + kKey +
                         "\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(StatusOf(conn->ReadUntilClosed(10000)), 200);
}

}  // namespace
}  // namespace aqueducts::executor::testing

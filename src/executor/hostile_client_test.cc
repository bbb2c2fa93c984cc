// The executor under hostile clients, with real sockets against the real binary: slow clients
// that drip bytes, many connections from one address, bodies over the limit in every transfer
// encoding, and header values with control characters.

#include <atomic>
#include <iostream>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>

#include "executor/test_harness.h"

namespace aqueducts::executor::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A TCP connection to the executor from `source` (any 127.x.y.z address reaches it on Linux).
int Connect(int port, const std::string& source = "127.0.0.1") {
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

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Everything the server sends until it closes the connection or `wait_ms` pass.
std::string ReadUntilClosed(int fd, int wait_ms) {
  std::string out;
  char buf[4096];
  auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) != 1) {
      return out;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) {
    return 0;
  }
  return std::stoi(response.substr(9, 3));
}

// GET /api/health on a fresh connection; the time until the whole answer arrived.
double HealthSeconds(int port, int* status) {
  auto start = Clock::now();
  int fd = Connect(port);
  *status = 0;
  if (fd < 0) {
    return -1;
  }
  SendAll(fd, "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string response = ReadUntilClosed(fd, 30000);
  close(fd);
  *status = StatusOf(response);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(HostileClientTest, HealthAnswersQuicklyWith100SlowClientsAndTheyAreDropped) {
  // Slow clients come from 100 different addresses, so the per-address cap is not what saves
  // the executor here: each connection has its own thread and a whole-request deadline.
  auto executor = ExecutorProcess::Start({"--read-timeout", "4"});
  ASSERT_NE(executor, nullptr);
  const int kSlow = 100;
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    int fd = Connect(executor->port(), "127.0.1." + std::to_string(i + 1));
    ASSERT_GE(fd, 0) << i;
    ASSERT_TRUE(SendAll(fd, "POST /api/executions HTTP/1.1\r\nHost: x\r\n"));
    slow.push_back(fd);
  }
  // Drip one more byte into every slow connection every 300 ms (a per-read timeout never fires).
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    while (!stop) {
      for (int fd : slow) {
        send(fd, "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
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
  std::cout << "/api/health with " << kSlow << " slow clients connected: worst of 10 "
            << worst * 1000 << " ms\n";
  // Generous, so that a loaded CI machine (the suite runs two tests at a time) does not fail
  // it: before the fix health timed out for 10 s at a time. Quiet, it answers in 3-8 ms (the
  // issue's target is 100 ms; the figure above is printed for the record).
  EXPECT_LT(worst, 4.0);
  // The deadline (4 s for the whole request) drops every dripping client although it keeps
  // sending: each sees the connection closed.
  int closed = 0;
  for (int fd : slow) {
    ReadUntilClosed(fd, 15000);
    pollfd p{fd, POLLIN, 0};
    char c;
    if (poll(&p, 1, 0) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0) {
      ++closed;
    }
  }
  stop = true;
  drip.join();
  for (int fd : slow) {
    close(fd);
  }
  EXPECT_EQ(closed, kSlow);
  EXPECT_TRUE(executor->Alive());
}

TEST(HostileClientTest, ConnectionsPerAddressAreCapped) {
  auto executor = ExecutorProcess::Start({"--max-connections-per-client", "8"});
  ASSERT_NE(executor, nullptr);
  // 12 silent connections from one address: 8 are admitted (and dropped at the request
  // deadline), 4 are refused at once. Which ones is up to thread timing.
  std::vector<int> held;
  for (int i = 0; i < 12; ++i) {
    int fd = Connect(executor->port(), "127.0.2.1");
    ASSERT_GE(fd, 0);
    held.push_back(fd);
  }
  // Another address is served meanwhile.
  int status = 0;
  HealthSeconds(executor->port(), &status);
  EXPECT_EQ(status, 200);
  int refused = 0;
  std::string response;
  for (int fd : held) {
    std::string r = ReadUntilClosed(fd, 10000);
    if (StatusOf(r) == 429) {
      ++refused;
      response = r;
    }
  }
  EXPECT_EQ(refused, 4);
  EXPECT_NE(response.find("Too many connections from 127.0.2.1"), std::string::npos) << response;
  for (int fd : held) {
    close(fd);
  }
}

TEST(HostileClientTest, HugeContentLengthWithoutBodyGets413AtOnce) {
  // A long read timeout: the answer must not wait for it.
  auto executor = ExecutorProcess::Start({"--read-timeout", "30"});
  ASSERT_NE(executor, nullptr);
  int fd = Connect(executor->port());
  ASSERT_GE(fd, 0);
  auto start = Clock::now();
  ASSERT_TRUE(SendAll(fd, std::string("POST /api/executions HTTP/1.1\r\nHost: x\r\nX-API-Key: ") +
                              kKey + "\r\nContent-Length: 10737418240\r\n\r\n"));
  std::string response = ReadUntilClosed(fd, 20000);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  close(fd);
  EXPECT_EQ(StatusOf(response), 413) << response;
  EXPECT_NE(response.find("too large"), std::string::npos) << response;
  EXPECT_LT(seconds, 10.0);  // before: only after the read timeout
}

TEST(HostileClientTest, ChunkedBodyOverTheLimitGets413) {
  auto executor = ExecutorProcess::Start({"--max-body-mb", "1"});
  ASSERT_NE(executor, nullptr);
  int fd = Connect(executor->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, std::string("POST /api/executions HTTP/1.1\r\nHost: x\r\nX-API-Key: ") +
                              kKey + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk(64 * 1024, 'x');
  char size[32];
  snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
  // 4 MB in 64 KiB chunks; the executor may close before all of it is sent.
  for (int i = 0; i < 64; ++i) {
    if (!SendAll(fd, size + chunk + "\r\n")) {
      break;
    }
  }
  SendAll(fd, "0\r\n\r\n");
  std::string response = ReadUntilClosed(fd, 10000);
  close(fd);
  EXPECT_EQ(StatusOf(response), 413) << response.substr(0, 300);
  // A chunked body under the limit is still accepted.
  int ok = Connect(executor->port());
  ASSERT_GE(ok, 0);
  std::string body = PipelineBody({"SELECT 1"});
  char body_size[32];
  snprintf(body_size, sizeof(body_size), "%zx\r\n", body.size());
  ASSERT_TRUE(SendAll(ok, std::string("POST /api/executions HTTP/1.1\r\nHost: x\r\nX-API-Key: ") +
                              kKey + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body_size + body +
                              "\r\n0\r\n\r\n"));
  std::string accepted = ReadUntilClosed(ok, 20000);
  close(ok);
  EXPECT_EQ(StatusOf(accepted), 200) << accepted.substr(0, 300);
  EXPECT_NE(accepted.find("event: completed"), std::string::npos) << accepted;
}

TEST(HostileClientTest, HeaderValuesWithControlCharactersAreRefused) {
  auto executor = ExecutorProcess::Start();
  ASSERT_NE(executor, nullptr);
  for (const std::string& bad : {std::string(kKey) + std::string("\0xyz", 4),
                                 std::string(kKey) + "\x01", std::string(kKey) + "\x7f"}) {
    int fd = Connect(executor->port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /api/status HTTP/1.1\r\nHost: x\r\nX-API-Key: " + bad +
                                "\r\nConnection: close\r\n\r\n"));
    std::string response = ReadUntilClosed(fd, 10000);
    close(fd);
    EXPECT_EQ(StatusOf(response), 400) << response;
    EXPECT_NE(response.find("control character"), std::string::npos) << response;
  }
  // The key itself still works.
  int fd = Connect(executor->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, std::string("GET /api/status HTTP/1.1\r\nHost: x\r\nX-API-Key: ") + kKey +
                              "\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(StatusOf(ReadUntilClosed(fd, 10000)), 200);
  close(fd);
}

}  // namespace
}  // namespace aqueducts::executor::testing

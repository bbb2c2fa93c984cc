// The executor under hostile or heavy input: huge bodies, half-sent requests, TLS, memory limit.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>

#include "cli/remote_client.h"
#include "executor/test_harness.h"
#include "protocol/events.h"

namespace aqueducts::executor::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool Healthy(ExecutorProcess& executor) {
  auto res = executor.Client()->Get("/api/health");
  return res && res->status == 200;
}

TEST(ExecutorRobustnessTest, BodyOverTheLimitIs413AndTheExecutorLives) {
  auto executor = ExecutorProcess::Start({"--max-body-mb", "16"});
  ASSERT_NE(executor, nullptr);
  auto client = executor->Client();
  std::string huge = R"({"pipeline": {"sources": [], "stages": [], "pad": ")" +
                     std::string(64u << 20, 'x') + "\"}}";
  StreamResult r = Submit(*client, huge);
  // The executor may answer 413 before the client finishes sending; a reset is also a refusal.
  if (r.status != 0) {
    EXPECT_EQ(r.status, 413);
    json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_NE(body["error"].get<std::string>().find("too large"), std::string::npos);
  }
  EXPECT_TRUE(executor->Alive());
  EXPECT_TRUE(Healthy(*executor));
  EXPECT_EQ(Submit(*client, PipelineBody({"SELECT 1"})).Last(), "completed");
}

TEST(ExecutorRobustnessTest, HalfSentRequestTimesOutAndOthersAreServed) {
  auto executor = ExecutorProcess::Start();
  ASSERT_NE(executor, nullptr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(executor->port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string partial = "POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  // Meanwhile everyone else is served.
  EXPECT_TRUE(Healthy(*executor));
  EXPECT_EQ(Submit(*executor->Client(), PipelineBody({"SELECT 1"})).Last(), "completed");
  // The executor gives up on the stalled request (read timeout 2 s): we see EOF or a reset.
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 8000), 1) << "the half-sent request was never closed";
  char buf[512];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  EXPECT_LE(n, static_cast<ssize_t>(sizeof(buf)));
  close(fd);
  EXPECT_TRUE(executor->Alive());
  EXPECT_TRUE(Healthy(*executor));
}

TEST(ExecutorRobustnessTest, GarbageRequestsNeverCrashIt) {
  auto executor = ExecutorProcess::Start();
  ASSERT_NE(executor, nullptr);
  auto client = executor->Client();
  std::vector<std::string> bodies = {
      "",
      "null",
      "\"str\"",
      "{\"pipeline\": null}",
      "{\"pipeline\": []}",
      R"({"pipeline": {"version": 3, "sources": [{"type": "nope"}], "stages": 1}})",
      R"({"pipeline": {"sources": [], "stages": [[{"name": 1, "query": "SELECT 1"}]]}})",
      R"({"pipeline": {"sources": [], "stages": [[]], "destination": {"type": "file"}}})",
      std::string("{\"pipeline\": \"\xff\xfe\"}"),
      std::string(100000, '['),
      // Deep but well-formed nesting inside the pipeline (4 MB).
      R"({"pipeline": {"sources": [], "stages": [], "x": )" + std::string(2000000, '[') +
          std::string(2000000, ']') + "}}",
  };
  for (const auto& body : bodies) {
    StreamResult r = Submit(*client, body);
    EXPECT_TRUE(r.status == 400 || r.status == 200) << body.substr(0, 80) << " -> " << r.status;
  }
  auto res = client->Get("/api/nope", Auth());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = client->Post("/api/executions/x/y/cancel", Auth(), "", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(executor->Alive());
  EXPECT_TRUE(Healthy(*executor));
}

TEST(ExecutorRobustnessTest, HttpsWithACertificateMadeForTheTest) {
  auto dir = MakeTempDir("tls");
  // Removed however the test ends.
  std::shared_ptr<void> cleanup(nullptr, [dir](void*) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  std::string cert = (dir / "cert.pem").string();
  std::string key = (dir / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto executor = ExecutorProcess::Start({"--tls-cert", cert, "--tls-key", key});
  ASSERT_NE(executor, nullptr);

  httplib::Client trusted(executor->url("https"));
  trusted.set_ca_cert_path(cert);
  trusted.enable_server_certificate_verification(true);
  auto res = trusted.Get("/api/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  StreamResult r = Submit(trusted, PipelineBody({"SELECT 1 AS one"}, 0));
  EXPECT_EQ(r.Last(), "completed");
  EXPECT_TRUE(r.Has("stage_output"));

  // Without trusting the certificate the handshake fails; plain HTTP gets nothing useful.
  httplib::Client untrusted(executor->url("https"));
  untrusted.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusted.Get("/api/health"));
  httplib::Client plain(executor->url("http"));
  plain.set_read_timeout(3, 0);
  auto plain_res = plain.Get("/api/health");
  EXPECT_TRUE(!plain_res || plain_res->status != 200);

  // The CLI's remote mode: trusted through --ca-cert, or --insecure; refused otherwise.
  std::string address = "https://127.0.0.1:" + std::to_string(executor->port());
  cli::RemoteOptions with_ca{address, kKey, cert, false};
  auto status_text = cli::RemoteStatus(with_ca);
  ASSERT_TRUE(status_text.ok()) << status_text.status().ToString();
  EXPECT_NE(status_text->find("idle"), std::string::npos);
  cli::RemoteOptions insecure{address, kKey, "", true};
  EXPECT_TRUE(cli::RemoteStatus(insecure).ok());
  cli::RemoteOptions untrusting{address, kKey, "", false};
  auto refused = cli::RemoteStatus(untrusting);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--ca-cert"), std::string::npos)
      << refused.status().ToString();
  Aqueduct aqueduct;
  aqueduct.stages = {{Stage{"one", "SELECT 1 AS one"}}};
  RecordingSink sink;
  Status run = cli::RunRemote(with_ca, aqueduct, sink, nullptr);
  EXPECT_TRUE(run.ok()) << run.ToString();
  EXPECT_TRUE(executor->Alive());
}

TEST(ExecutorRobustnessTest, MemoryLimitSpillsOrFailsCleanlyAndTheExecutorSurvives) {
  auto executor = ExecutorProcess::Start({"--max-memory", "0.05"});  // ~51 MB
  ASSERT_NE(executor, nullptr);
  auto client = executor->Client();
  // A window over 8M rows sorts ~130 MB of rows: more than the limit.
  StreamResult r = Submit(
      *client,
      PipelineBody({"SELECT max(rn) AS m FROM (SELECT row_number() OVER "
                    "(ORDER BY hash(range)) AS rn, range || 'x' AS s FROM range(8000000))"}));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string last = r.Last();
  ASSERT_TRUE(last == "completed" || last == "failed") << last;
  if (last == "completed") {
    EXPECT_TRUE(r.Has("spill")) << "completed over the limit without a spill event";
  } else {
    auto d = protocol::Decode(r.messages.back());
    ASSERT_TRUE(d.ok());
    std::string message = d->event.message;
    EXPECT_TRUE(message.find("emory") != std::string::npos) << message;
  }
  EXPECT_TRUE(executor->Alive());
  EXPECT_EQ(Submit(*client, PipelineBody({"SELECT 1"})).Last(), "completed");
}

}  // namespace
}  // namespace aqueducts::executor::testing

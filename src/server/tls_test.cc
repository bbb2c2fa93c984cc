// `aqueducts-server serve --tls-cert --tls-key`: the real server over HTTPS with a certificate
// made for the test by the openssl CLI (never a committed key), a real executor registering with
// it over https and running a pipeline, the CLI running through it, and the errors for wrong
// files and for certificates a client does not trust.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "executor/test_harness.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A self-signed certificate for 127.0.0.1 and its key, written to `dir` as <name>.pem and
// <name>.key; false when openssl fails.
bool MakeCertificate(const std::filesystem::path& dir, const std::string& name) {
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=aqueducts-test "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      (dir / (name + ".key")).string() + " -out " + (dir / (name + ".pem")).string() +
      " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

class TlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = MakeTempDir("tls");
    ASSERT_TRUE(MakeCertificate(certs_, "server"));
    ASSERT_TRUE(MakeCertificate(certs_, "other"));
    cert_ = (certs_ / "server.pem").string();
    key_ = (certs_ / "server.key").string();
    dir_ = InitDataDir();
    ASSERT_FALSE(dir_.empty());
    work_ = MakeTempDir("work");
  }
  void TearDown() override {
    executors_.clear();
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(certs_, ec);
    std::filesystem::remove_all(dir_.parent_path(), ec);
    std::filesystem::remove_all(work_, ec);
  }

  void StartServer() {
    server_ = ServerProcess::Start(
        dir_, {"--tls-cert", cert_, "--tls-key", key_, "--heartbeat-interval-ms", "1000"});
    ASSERT_NE(server_, nullptr);
    client_ = Https(cert_);
    auto res = client_->Post("/api/v1/tokens",
                             {httplib::make_basic_authentication_header("root", kAdminPassword)},
                             "", "application/json");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    ASSERT_EQ(res->status, 201) << res->body;
    admin_ = json::parse(res->body)["token"];
  }

  std::string Url(const std::string& scheme = "https") const {
    return scheme + "://127.0.0.1:" + std::to_string(server_->port());
  }

  // An https client of the server trusting `ca` ("": the system's CAs only).
  std::unique_ptr<httplib::Client> Https(const std::string& ca) const {
    auto client = std::make_unique<httplib::Client>(Url());
    if (!ca.empty()) {
      client->set_ca_cert_path(ca.c_str());
    }
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(30, 0);
    return client;
  }

  std::string RegistrationToken() {
    auto res = client_->Post("/api/v1/executors/registration-tokens", Bearer(admin_), "",
                             "application/json");
    EXPECT_TRUE(res && res->status == 201);
    return res && res->status == 201 ? json::parse(res->body)["token"].get<std::string>() : "";
  }

  // Executor `name` as GET /api/v1/executors lists it; null when it is not listed, with the
  // reason kept in poll_error_ (a failed request, or the list it got).
  json Executor(const std::string& name) {
    auto res = client_->Get("/api/v1/executors", Bearer(admin_));
    if (!res || res->status != 200) {
      poll_error_ = res ? "HTTP " + std::to_string(res->status) + ": " + res->body
                        : httplib::to_string(res.error());
      return json();
    }
    // The parsed document is kept in a variable: a range-for over a member of the temporary
    // json::parse(...) would iterate a destroyed object.
    json doc = json::parse(res->body, nullptr, false);
    if (doc.is_object() && doc["executors"].is_array()) {
      for (const auto& e : doc["executors"]) {
        if (e["name"] == name) {
          return e;
        }
      }
    }
    poll_error_ = "not listed: " + res->body;
    return json();
  }

  bool WaitIdle(const std::string& name) {
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      json e = Executor(name);
      if (e.is_object() && e["status"] == "idle" && e["connected"]) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::filesystem::path certs_;
  std::string cert_;
  std::string key_;
  std::filesystem::path dir_;
  std::filesystem::path work_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
  std::string poll_error_;
  std::vector<std::unique_ptr<executor::testing::ExecutorProcess>> executors_;
};

TEST_F(TlsServer, ServesOnlyHttpsAndClientsMustTrustTheCertificate) {
  StartServer();
  bool tls_logged = false;
  for (const auto& line : server_->LogLines()) {
    json doc = json::parse(line, nullptr, false);
    if (doc.is_object() && doc.value("msg", "") == "listening") {
      tls_logged = doc["fields"].value("tls", "") == "true";
    }
  }
  EXPECT_TRUE(tls_logged);

  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");

  // A client that does not trust the certificate, or trusts another one, gets no answer.
  auto untrusting = Https("");
  auto refused = untrusting->Get("/healthz");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), httplib::Error::SSLServerVerification);
  auto other = Https((certs_ / "other.pem").string());
  auto refused_other = other->Get("/healthz");
  ASSERT_FALSE(refused_other);
  EXPECT_EQ(refused_other.error(), httplib::Error::SSLServerVerification);
  // Plain HTTP on the TLS port gets nothing useful.
  httplib::Client plain(Url("http"));
  plain.set_read_timeout(3, 0);
  auto plain_res = plain.Get("/healthz");
  EXPECT_TRUE(!plain_res || plain_res->status != 200);
  EXPECT_TRUE(server_->Alive());

  // Browser sessions over the server's own TLS get the Secure cookie attribute.
  auto session = client_->Post("/api/v1/sessions",
                               {httplib::make_basic_authentication_header("root", kAdminPassword)},
                               "", "application/json");
  ASSERT_TRUE(session);
  ASSERT_EQ(session->status, 201) << session->body;
  std::string cookie = session->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
}

TEST_F(TlsServer, AnExecutorRegistersOverHttpsAndRunsThroughTheApiAndTheCli) {
  StartServer();
  auto executor = executor::testing::ExecutorProcess::Start(
      {"--server-url", Url(), "--server-ca-cert", cert_, "--executor-id", "tls-1",
       "--registration-token", RegistrationToken(), "--labels", "net=tls"});
  ASSERT_NE(executor, nullptr);
  executors_.push_back(std::move(executor));
  ASSERT_TRUE(WaitIdle("tls-1")) << poll_error_;

  // A stored pipeline triggered through the API; its events relayed over the TLS SSE stream.
  std::string yaml =
      "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT '${word}' AS w, 42 "
      "AS n\n      show: 1\n";
  auto created = client_->Post("/api/v1/pipelines", Bearer(admin_),
                               json{{"name", "hello"}, {"format", "yaml"}, {"text", yaml}}.dump(),
                               "application/json");
  ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "");
  int64_t pipeline = json::parse(created->body)["id"];
  auto trigger = client_->Post(
      ("/api/v1/pipelines/" + std::to_string(pipeline) + "/runs").c_str(), Bearer(admin_),
      json{{"parameters", {{"word", "über-tls"}}}, {"label", "net=tls"}}.dump(),
      "application/json");
  ASSERT_TRUE(trigger && trigger->status == 201) << (trigger ? trigger->body : "");
  int64_t run = json::parse(trigger->body)["id"];
  std::string stream;
  auto events = client_->Get(("/api/v1/runs/" + std::to_string(run) + "/events").c_str(),
                             Bearer(admin_), [&](const char* data, size_t size) {
                               stream.append(data, size);
                               return true;
                             });
  ASSERT_TRUE(events) << httplib::to_string(events.error());
  EXPECT_EQ(events->status, 200);
  EXPECT_NE(stream.find("event: stage_output"), std::string::npos) << stream;
  EXPECT_NE(stream.find("über-tls"), std::string::npos) << stream;
  EXPECT_NE(stream.find(R"("state":"succeeded")"), std::string::npos) << stream;
  auto done = client_->Get(("/api/v1/runs/" + std::to_string(run)).c_str(), Bearer(admin_));
  ASSERT_TRUE(done && done->status == 200);
  json run_doc = json::parse(done->body);
  EXPECT_EQ(run_doc["state"], "succeeded") << run_doc;
  EXPECT_EQ(run_doc["executor"], "tls-1");

  // The CLI through the https server, trusting the certificate with --ca-cert: the rows it
  // writes equal a local run's.
  std::filesystem::path file = work_ / "copy.yml";
  std::ofstream(file) << "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT "
                         "range AS i, 'row ' || range AS label FROM range(5)\ndestination:\n  "
                         "type: file\n  name: out\n  format:\n    type: csv\n    options: {}\n  "
                         "location: ${out}\n";
  std::string local_out = (work_ / "local.csv").string();
  CommandResult local =
      RunCommand(AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "out=" + local_out});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  std::string remote_out = (work_ / "remote.csv").string();
  CommandResult remote =
      RunCommand(AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "out=" + remote_out, "--server",
                              Url(), "--token", admin_, "--ca-cert", cert_});
  ASSERT_EQ(remote.exit_code, 0) << remote.out << remote.err;
  EXPECT_NE((remote.out + remote.err).find("on executor tls-1"), std::string::npos)
      << remote.out << remote.err;
  EXPECT_EQ(Slurp(remote_out), Slurp(local_out));
  EXPECT_NE(Slurp(local_out).find("row 4"), std::string::npos);

  // Without trusting the certificate the CLI stops before submitting anything and says how
  // to fix it; a --ca-cert that does not exist is a usage error naming the flag.
  std::string refused_out = (work_ / "refused.csv").string();
  CommandResult untrusted =
      RunCommand(AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "out=" + refused_out, "--server",
                              Url(), "--token", admin_});
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.out << untrusted.err;
  EXPECT_NE(untrusted.err.find("Cannot reach server at '" + Url() + "'"), std::string::npos)
      << untrusted.err;
  EXPECT_NE(untrusted.err.find("not trusted: pass --ca-cert FILE"), std::string::npos)
      << untrusted.err;
  EXPECT_FALSE(std::filesystem::exists(refused_out));
  std::string missing = (certs_ / "missing.pem").string();
  CommandResult no_file =
      RunCommand(AQ_CLI_BIN, {"run", "-f", file.string(), "-p", "out=" + refused_out, "--server",
                              Url(), "--token", admin_, "--ca-cert", missing});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find("--ca-cert"), std::string::npos) << no_file.err;
  EXPECT_NE(no_file.err.find(missing), std::string::npos) << no_file.err;
}

TEST_F(TlsServer, AnExecutorThatDoesNotTrustTheServerStopsAndSaysWhichFlagFixesIt) {
  StartServer();
  // Not trusting the certificate: a final refusal (exit 1), not an endless retry. (Without
  // --api-key the executor opens no port: it only talks to the server.)
  CommandResult untrusting =
      RunCommand(AQ_EXECUTOR_BIN, {"--server-url", Url(), "--executor-id", "tls-2",
                                   "--registration-token", RegistrationToken()});
  EXPECT_EQ(untrusting.exit_code, 1) << untrusting.out << untrusting.err;
  EXPECT_NE(untrusting.err.find("Cannot register executor 'tls-2' with the server at " + Url() +
                                ": the server's TLS certificate is not trusted"),
            std::string::npos)
      << untrusting.err;
  EXPECT_NE(untrusting.err.find("--server-ca-cert FILE"), std::string::npos) << untrusting.err;
  EXPECT_TRUE(Executor("tls-2").is_null()) << "the executor never reached the server";

  // Bad flags are refused before anything connects.
  std::string missing = (certs_ / "missing.pem").string();
  CommandResult no_file =
      RunCommand(AQ_EXECUTOR_BIN, {"--server-url", Url(), "--server-ca-cert", missing,
                                   "--executor-id", "x", "--registration-token", "aqr_x"});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find("--server-ca-cert"), std::string::npos) << no_file.err;
  EXPECT_NE(no_file.err.find(missing), std::string::npos) << no_file.err;
  CommandResult plain_with_ca =
      RunCommand(AQ_EXECUTOR_BIN, {"--server-url", Url("http"), "--server-ca-cert", cert_,
                                   "--executor-id", "x", "--registration-token", "aqr_x"});
  EXPECT_EQ(plain_with_ca.exit_code, 1);
  EXPECT_NE(plain_with_ca.err.find("--server-ca-cert is for an https --server-url"),
            std::string::npos)
      << plain_with_ca.err;
  CommandResult no_scheme = RunCommand(
      AQ_EXECUTOR_BIN,
      {"--server-url", "127.0.0.1:3030", "--executor-id", "x", "--registration-token", "aqr_x"});
  EXPECT_EQ(no_scheme.exit_code, 1);
  EXPECT_NE(no_scheme.err.find("must start with http:// or https://"), std::string::npos)
      << no_scheme.err;
}

TEST_F(TlsServer, WrongCertificateOrKeyFilesAreRefusedNamingTheFlagAndTheFile) {
  auto serve = [&](const std::vector<std::string>& tls) {
    std::vector<std::string> args = {"serve", "--data-dir", dir_.string(), "--port", "0"};
    args.insert(args.end(), tls.begin(), tls.end());
    return RunServerCommand(args);
  };
  std::string missing = (certs_ / "nope.pem").string();
  CommandResult no_cert = serve({"--tls-cert", missing, "--tls-key", key_});
  EXPECT_EQ(no_cert.exit_code, 1);
  EXPECT_NE(no_cert.err.find("Cannot read --tls-cert '" + missing + "'"), std::string::npos)
      << no_cert.err;
  CommandResult no_key = serve({"--tls-cert", cert_, "--tls-key", missing});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("Cannot read --tls-key '" + missing + "'"), std::string::npos)
      << no_key.err;
  // A directory cannot be read as a file (the tests may run as root, who reads every file).
  CommandResult directory = serve({"--tls-cert", certs_.string(), "--tls-key", key_});
  EXPECT_EQ(directory.exit_code, 1);
  EXPECT_NE(directory.err.find("--tls-cert '" + certs_.string() + "' is a directory"),
            std::string::npos)
      << directory.err;
  // Cert and key swapped: each file is of the wrong kind.
  CommandResult swapped = serve({"--tls-cert", key_, "--tls-key", cert_});
  EXPECT_EQ(swapped.exit_code, 1);
  EXPECT_NE(swapped.err.find("--tls-cert '" + key_ + "' holds no PEM certificate"),
            std::string::npos)
      << swapped.err;
  CommandResult cert_as_key = serve({"--tls-cert", cert_, "--tls-key", cert_});
  EXPECT_EQ(cert_as_key.exit_code, 1);
  EXPECT_NE(cert_as_key.err.find("--tls-key '" + cert_ + "' holds no PEM private key"),
            std::string::npos)
      << cert_as_key.err;
  // The key of another certificate.
  std::string other_key = (certs_ / "other.key").string();
  CommandResult mismatch = serve({"--tls-cert", cert_, "--tls-key", other_key});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("--tls-key '" + other_key +
                              "' is not the private key of the certificate in --tls-cert '" +
                              cert_ + "'"),
            std::string::npos)
      << mismatch.err;
  // An encrypted key: refused with the reason, never a passphrase prompt.
  std::string encrypted = (certs_ / "encrypted.key").string();
  ASSERT_EQ(std::system(("openssl pkey -in " + key_ + " -aes256 -passout pass:secret-pass -out " +
                         encrypted + " >/dev/null 2>&1")
                            .c_str()),
            0);
  CommandResult locked = serve({"--tls-cert", cert_, "--tls-key", encrypted});
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_NE(locked.err.find("--tls-key '" + encrypted + "' holds an encrypted private key"),
            std::string::npos)
      << locked.err;
  // One flag without the other is a usage error.
  CommandResult only_cert = serve({"--tls-cert", cert_});
  EXPECT_EQ(only_cert.exit_code, 2);
  EXPECT_NE(only_cert.err.find("--tls-key"), std::string::npos) << only_cert.err;
}

}  // namespace
}  // namespace aqueducts::server::testing

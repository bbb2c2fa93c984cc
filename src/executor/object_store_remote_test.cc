// Object stores on an executor: the credentials come from the executor's own environment, so no
// secret travels in the pipeline. The CLI sends a pipeline whose storage_config names only the
// endpoint; the executor's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY sign the requests.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "emulator.h"
#include "executor/test_harness.h"
#include "testing.h"

namespace aqueducts::executor::testing {
namespace {

namespace fs = std::filesystem;
using aqueducts::testing::Emulator;

struct Output {
  int exit_code = -1;
  std::string text;
};

Output RunIn(const fs::path& dir, const std::string& command) {
  std::string full = "cd '" + dir.string() + "' && " + command + " 2>&1";
  Output out;
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.text.append(buf, n);
  }
  int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(ObjectStoreRemoteTest, TheExecutorsEnvironmentCredentialsSignItsRequests) {
  auto s3 = Emulator::Start(Emulator::Kind::kS3);
  ASSERT_NE(s3, nullptr);
  fs::path dir = MakeTempDir("objstore");
  // A CSV on S3 (written locally with explicit credentials), then a pipeline that names only
  // the endpoint: the secret is not in it.
  std::string input = "a,b\n1,x\n2,y\n3,z\n";
  std::ofstream(dir / "in.csv") << input;
  std::string creds = "{aws_access_key_id: S3RVER, aws_secret_access_key: S3RVER, aws_endpoint: '" +
                      s3->endpoint() + "', aws_allow_http: true}";
  std::ofstream(dir / "upload.yml")
      << "sources: [{type: file, name: f, format: {type: csv, options: {}}, location: in.csv}]\n"
         "stages: [[{name: s, query: 'SELECT * FROM f'}]]\n"
         "destination: {type: file, name: o, format: {type: csv, options: {}},\n"
         "  location: 's3://bucket/remote/in.csv', storage_config: "
      << creds << "}\n";
  Output up = RunIn(dir, std::string(AQ_CLI_BIN) + " run -f upload.yml");
  ASSERT_EQ(up.exit_code, 0) << up.text;
  std::string endpoint_only = "{aws_endpoint: '" + s3->endpoint() + "', aws_allow_http: true}";
  std::ofstream(dir / "remote.yml")
      << "sources: [{type: file, name: f, format: {type: csv, options: {}},\n"
         "  location: 's3://bucket/remote/in.csv', storage_config: "
      << endpoint_only
      << "}]\n"
         "stages: [[{name: s, query: 'SELECT sum(a) AS total, string_agg(b, '''' ORDER BY b) "
         "AS bs FROM f', show: 1}]]\n";

  // Without credentials anywhere the request is refused: the emulator really checks them.
  Output anonymous = RunIn(dir, std::string(AQ_CLI_BIN) + " run -f remote.yml");
  EXPECT_NE(anonymous.exit_code, 0) << anonymous.text;
  EXPECT_NE(anonymous.text.find("403"), std::string::npos) << anonymous.text;

  // The executor has them in its environment (the child inherits it at start).
  setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  auto executor = ExecutorProcess::Start();
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_NE(executor, nullptr);
  Output remote = RunIn(dir, std::string(AQ_CLI_BIN) + " run -f remote.yml --executor 127.0.0.1:" +
                                 std::to_string(executor->port()) + " --api-key " + kKey);
  EXPECT_EQ(remote.exit_code, 0) << remote.text;
  EXPECT_NE(remote.text.find("6"), std::string::npos) << remote.text;    // 1 + 2 + 3
  EXPECT_NE(remote.text.find("xyz"), std::string::npos) << remote.text;  // every row read
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace aqueducts::executor::testing

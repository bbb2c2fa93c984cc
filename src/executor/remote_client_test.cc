// The CLI's remote mode against the real executor: same output as a local run, cancel, errors.
#include "cli/remote_client.h"

#include <future>

#include <gtest/gtest.h>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "executor/test_harness.h"
#include "testing.h"

namespace aqueducts::executor::testing {
namespace {

using std::chrono::seconds;

// The simple example for January, writing to `output`.
Result<Aqueduct> SimpleExample(const std::string& output) {
  std::string root = aqueducts::testing::FixturesDir() + "/aqueducts-examples";
  LoadOptions options;
  options.base_dir = root;
  AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct,
                      LoadAqueductFromFile(root + "/examples/aqueduct_pipeline_simple.yml",
                                           {{"month", "jan"}, {"year", "2024"}}, options));
  auto& destination = std::get<FileDestination>(*aqueduct.destination);
  destination.location = ParseLocation(output);
  return aqueduct;
}

cli::RemoteOptions Remote(const ExecutorProcess& executor) {
  return cli::RemoteOptions{"127.0.0.1:" + std::to_string(executor.port()), kKey, "", false};
}

TEST(RemoteClientTest, RemoteRunWritesTheSameOutputAsALocalRun) {
  auto executor = ExecutorProcess::Start();
  ASSERT_NE(executor, nullptr);
  auto dir = MakeTempDir("remote");
  std::shared_ptr<void> cleanup(nullptr, [dir](void*) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  std::string local_out = (dir / "local.parquet").string();
  std::string remote_out = (dir / "remote.parquet").string();

  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct local, SimpleExample(local_out));
  RecordingSink local_sink;
  AQ_ASSERT_OK(RunPipeline(local, RunOptions{}, &local_sink));

  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct remote, SimpleExample(remote_out));
  RecordingSink remote_sink;
  // With an explicit scheme too: the CLI accepts both spellings.
  cli::RemoteOptions options = Remote(*executor);
  options.executor = "http://" + options.executor + "/";
  AQ_ASSERT_OK(cli::RunRemote(options, remote, remote_sink, std::make_shared<CancelToken>()));

  AQ_ASSERT_OK_AND_ASSIGN(auto db, Database::Open());
  auto read = [&](const std::string& path) {
    return db->Query("SELECT * FROM read_parquet('" + path + "') ORDER BY ALL");
  };
  AQ_ASSERT_OK_AND_ASSIGN(Database::Rows a, read(local_out));
  AQ_ASSERT_OK_AND_ASSIGN(Database::Rows b, read(remote_out));
  EXPECT_EQ(a.rows.size(), 237u);
  EXPECT_EQ(a.columns, b.columns);
  EXPECT_EQ(a.types, b.types);
  EXPECT_EQ(a.rows, b.rows);

  // The renderer got the same kinds of events and the same stage outputs as locally.
  auto outputs = remote_sink.outputs();
  ASSERT_EQ(outputs.size(), local_sink.outputs().size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(outputs[i].stage_name, local_sink.outputs()[i].stage_name);
    EXPECT_EQ(outputs[i].kind, local_sink.outputs()[i].kind);
  }
  bool completed = false;
  int stage_completed = 0;
  for (const auto& e : remote_sink.events()) {
    completed |= e.type == ProgressEvent::Type::kCompleted;
    stage_completed += e.type == ProgressEvent::Type::kStageCompleted;
  }
  EXPECT_TRUE(completed);
  EXPECT_EQ(stage_completed, 2);
}

TEST(RemoteClientTest, CancelTokenCancelsTheRemoteRun) {
  auto executor = ExecutorProcess::Start();
  ASSERT_NE(executor, nullptr);
  Aqueduct aqueduct;
  aqueduct.stages = {{Stage{"long", kLongQuery}}};
  auto cancel = std::make_shared<CancelToken>();
  RecordingSink sink;
  auto run = std::async(std::launch::async,
                        [&] { return cli::RunRemote(Remote(*executor), aqueduct, sink, cancel); });
  // Cancel once the query is running.
  for (int i = 0; i < 300; ++i) {
    bool started = false;
    for (const auto& e : sink.events()) {
      started |= e.type == ProgressEvent::Type::kStageStarted;
    }
    if (started) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  cancel->Cancel();
  ASSERT_EQ(run.wait_for(seconds(10)), std::future_status::ready);
  Status status = run.get();
  EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
  AQ_ASSERT_OK_AND_ASSIGN(std::string text, cli::RemoteStatus(Remote(*executor)));
  EXPECT_NE(text.find("idle"), std::string::npos) << text;
}

TEST(RemoteClientTest, ErrorsAreClear) {
  auto executor = ExecutorProcess::Start();
  ASSERT_NE(executor, nullptr);
  Aqueduct aqueduct;
  aqueduct.stages = {{Stage{"bad", "SELECT * FROM missing_table_q"}}};
  RecordingSink sink;
  Status failed = cli::RunRemote(Remote(*executor), aqueduct, sink, nullptr);
  EXPECT_EQ(failed.code(), StatusCode::kExecutionError);
  EXPECT_NE(failed.message().find("missing_table_q"), std::string::npos) << failed.ToString();

  cli::RemoteOptions wrong_key = Remote(*executor);
  wrong_key.api_key = "wrong";
  Status denied = cli::RunRemote(wrong_key, aqueduct, sink, nullptr);
  EXPECT_NE(denied.message().find("API key"), std::string::npos) << denied.ToString();
  EXPECT_FALSE(cli::RemoteStatus(wrong_key).ok());

  EXPECT_EQ(cli::RemoteCancel(Remote(*executor), "not-a-uuid").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      cli::RemoteCancel(Remote(*executor), "00000000-0000-4000-8000-000000000000").status().code(),
      StatusCode::kNotFound);

  cli::RemoteOptions nowhere{"127.0.0.1:1", kKey, "", false};
  Status unreachable = cli::RunRemote(nowhere, aqueduct, sink, nullptr);
  EXPECT_EQ(unreachable.code(), StatusCode::kIoError) << unreachable.ToString();
}

}  // namespace
}  // namespace aqueducts::executor::testing

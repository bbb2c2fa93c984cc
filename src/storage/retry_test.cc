// Retries against the S3 emulator behind the failure stand-in of tests/emulators/start.js
// (injectedFailures): throttling (429, 503 with Retry-After) and server errors on reads,
// multipart writes and create-only puts; the configured number of retries (max_retries) is what
// is made; a request that keeps failing gives up naming the location; a create-only put retried
// after a failure that the store had in fact applied is recognised as this write's own.

#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "emulator.h"
#include "storage/http_client.h"
#include "storage/object_url.h"
#include "storage/store_options.h"
#include "storage/store_registry.h"
#include "testing.h"

namespace aqueducts::storage {
namespace {

using testing::Emulator;

EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

class S3RetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = Emulator::Start(Emulator::Kind::kS3);
    ASSERT_NE(emulator_, nullptr);
  }

  // A store of s3://bucket/ making `retries` retries of each request.
  std::shared_ptr<ObjectStore> Store(int retries) {
    auto config = emulator_->Config();
    config["aws_max_retries"] = std::to_string(retries);
    auto url = ParseObjectUrl("s3://bucket/");
    EXPECT_TRUE(url.ok());
    auto store = OpenStore(*url, config, NoEnv());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? *store : nullptr;
  }

  // Adds a failure rule (the query string of start.js's /_aqueducts_test/faults).
  void AddFault(const std::string& rule) {
    HttpRequest request;
    request.method = "PUT";
    request.url = emulator_->endpoint() + "/_aqueducts_test/faults?" + rule;
    auto response = HttpSend(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_EQ(response->status, 204);
  }

  // The rules with the requests each matched ("seen") and failed ("failed").
  nlohmann::json Faults() {
    HttpRequest request;
    request.url = emulator_->endpoint() + "/_aqueducts_test/faults";
    auto response = HttpSend(request);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return nlohmann::json::parse(response.ok() ? response->body : "[]");
  }

  std::unique_ptr<Emulator> emulator_;
};

TEST_F(S3RetryTest, ReadsAndMultipartWritesGetThroughThrottlingAndServerErrors) {
  auto store = Store(3);
  ASSERT_NE(store, nullptr);
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>('a' + i % 26);
  }
  AQ_ASSERT_OK(store->Put("retry/read.bin", data));

  // Two 503 SlowDown answers asking to wait a second each, then the read goes through: three
  // GETs reach the stand-in, and the client waited at least the two seconds it was asked to.
  AddFault("prefix=/bucket/retry/read.bin&method=GET&count=2&status=503&retry_after=1");
  auto started = std::chrono::steady_clock::now();
  std::string part(1000, '\0');
  auto n = store->GetRange("retry/read.bin", 500, 1000, part.data());
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1000u);
  EXPECT_EQ(part, data.substr(500, 1000));
  EXPECT_GE(waited, std::chrono::seconds(2));
  auto faults = Faults();
  EXPECT_EQ(faults[0]["seen"], 3);
  EXPECT_EQ(faults[0]["failed"], 2);

  // A multipart upload: three 429s on the parts (all on the first, which then succeeds at its
  // fourth attempt: the three retries configured) and a 500 on the completion.
  AddFault("prefix=/bucket/retry/big.bin&method=PUT&query=partNumber&count=3&status=429");
  AddFault("prefix=/bucket/retry/big.bin&method=POST&query=uploadId&count=1&status=500");
  std::string big(11u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>(i * 7 % 251);
  }
  AQ_ASSERT_OK_AND_ASSIGN(auto upload, store->StartUpload("retry/big.bin"));
  AQ_ASSERT_OK(upload->UploadPart(std::string_view(big).substr(0, 6u << 20)));
  AQ_ASSERT_OK(upload->UploadPart(std::string_view(big).substr(6u << 20)));
  AQ_ASSERT_OK(upload->Complete());
  auto back = store->Get("retry/big.bin");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == big);
  faults = Faults();
  EXPECT_EQ(faults[1]["seen"], 2 + 3);  // two parts, three failures
  EXPECT_EQ(faults[1]["failed"], 3);
  EXPECT_EQ(faults[2]["seen"], 2);
  EXPECT_EQ(faults[2]["failed"], 1);
}

TEST_F(S3RetryTest, ARequestThatKeepsFailingGivesUpAfterTheConfiguredAttempts) {
  AddFault("prefix=/bucket/retry/down.bin&method=GET&count=1000&status=503");
  auto store = Store(2);
  ASSERT_NE(store, nullptr);
  auto read = store->Get("retry/down.bin");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kIoError);
  const std::string& message = read.status().message();
  EXPECT_NE(message.find("s3://bucket/retry/down.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 503"), std::string::npos) << message;
  EXPECT_NE(message.find("SlowDown"), std::string::npos) << message;
  EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
  EXPECT_EQ(Faults()[0]["seen"], 3);
  // A ranged read of fewer bytes than the error's body: the error is still the store's answer
  // (the body is not taken for range data).
  char tiny[8];
  auto range = store->GetRange("retry/down.bin", 0, sizeof tiny, tiny);
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("HTTP 503 (SlowDown"), std::string::npos)
      << range.status().message();
  EXPECT_EQ(Faults()[0]["seen"], 6);

  // No retries at all: one attempt.
  auto once = Store(0);
  ASSERT_NE(once, nullptr);
  EXPECT_FALSE(once->Get("retry/down.bin").ok());
  EXPECT_EQ(Faults()[0]["seen"], 7);

  // No answer at all (nothing listens on the port): the same number of attempts, and the error
  // names the location.
  auto config = emulator_->Config();
  config["aws_endpoint"] = "http://127.0.0.1:1";
  config["aws_max_retries"] = "1";
  auto url = ParseObjectUrl("s3://bucket/");
  ASSERT_TRUE(url.ok());
  AQ_ASSERT_OK_AND_ASSIGN(auto unreachable, OpenStore(*url, config, NoEnv()));
  auto refused = unreachable->Head("retry/x.bin");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("s3://bucket/retry/x.bin"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("2 attempts"), std::string::npos)
      << refused.status().message();

  // The setting's value is checked, naming the key and not accepting nonsense.
  for (const char* bad : {"-1", "many", "21"}) {
    auto options = ResolveS3Options({{"aws_max_retries", bad}}, NoEnv());
    ASSERT_FALSE(options.ok()) << bad;
    EXPECT_NE(options.status().message().find("max_retries"), std::string::npos)
        << options.status().message();
  }
  auto azure = ResolveAzureOptions({{"azure_max_retries", "7"}}, "acct", NoEnv());
  ASSERT_TRUE(azure.ok()) << azure.status().ToString();
  EXPECT_EQ(azure->max_retries, 7);
  auto gcs = ResolveGcsOptions({{"google_max_retries", "0"}}, "bucket", NoEnv());
  ASSERT_TRUE(gcs.ok()) << gcs.status().ToString();
  EXPECT_EQ(gcs->max_retries, 0);
  EXPECT_EQ(ResolveS3Options({}, NoEnv())->max_retries, 4);
}

// The rule for a create-only put (a Delta commit) that was retried: when the retry finds the key
// taken, the object is read back; this write's own bytes mean an earlier attempt succeeded,
// anything else is someone else's object (a conflict).
TEST_F(S3RetryTest, ARetriedCreateOnlyPutRecognisesItsOwnWriteAndOnlyThat) {
  auto store = Store(3);
  ASSERT_NE(store, nullptr);
  // The store creates the object, but the client is told 503: its retry gets 412, reads the
  // object back and finds its own bytes.
  AddFault("prefix=/bucket/log/1.json&method=PUT&count=1&status=503&mode=after");
  AQ_ASSERT_OK(store->PutIfAbsent("log/1.json", "commit one"));
  EXPECT_EQ(*store->Get("log/1.json"), "commit one");
  EXPECT_EQ(Faults()[0]["seen"], 2);

  // Someone else's object is there; the first attempt fails before reaching the store, and
  // the retry's 412 is a conflict: the bytes differ. The object is untouched.
  AQ_ASSERT_OK(store->Put("log/2.json", "someone else's commit"));
  AddFault("prefix=/bucket/log/2.json&method=PUT&count=1&status=500");
  Status taken = store->PutIfAbsent("log/2.json", "commit two");
  EXPECT_EQ(taken.code(), StatusCode::kConflict) << taken.ToString();
  EXPECT_EQ(*store->Get("log/2.json"), "someone else's commit");
  EXPECT_EQ(Faults()[1]["seen"], 2);

  // Without a retry, a taken key is a conflict even with the same bytes (the first attempt
  // cannot have been this write's).
  Status same = store->PutIfAbsent("log/1.json", "commit one");
  EXPECT_EQ(same.code(), StatusCode::kConflict) << same.ToString();
}

}  // namespace
}  // namespace aqueducts::storage

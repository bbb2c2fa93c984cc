// The object-store clients against real emulators on 127.0.0.1 (s3rver, azurite, and our GCS
// XML API emulator tests/emulators/gcs.js, which checks RS256-signed service-account tokens).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "emulator.h"
#include "fault_store.h"
#include "storage/azure_store.h"
#include "storage/crypto.h"
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

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) {
    c = static_cast<char>(rng() & 0xFF);
  }
  return out;
}

TEST(ObjectUrlTest, ParsesEveryForm) {
  auto s3 = ParseObjectUrl("s3://bucket/dir/k=v/a.parquet");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->kind, StoreKind::kS3);
  EXPECT_EQ(s3->bucket, "bucket");
  EXPECT_EQ(s3->key, "dir/k=v/a.parquet");
  auto az = ParseObjectUrl("az://container/x.csv");
  ASSERT_TRUE(az.ok());
  EXPECT_EQ(az->kind, StoreKind::kAzure);
  EXPECT_EQ(az->bucket, "container");
  EXPECT_EQ(az->account, "");
  auto abfss = ParseObjectUrl("abfss://data@acct.dfs.core.windows.net/t/y.parquet");
  ASSERT_TRUE(abfss.ok());
  EXPECT_EQ(abfss->bucket, "data");
  EXPECT_EQ(abfss->account, "acct");
  EXPECT_EQ(abfss->key, "t/y.parquet");
  EXPECT_EQ(abfss->WithKey("z"), "abfss://data@acct.dfs.core.windows.net/z");
  auto host = ParseObjectUrl("az://acct.blob.core.windows.net/data/t");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->account, "acct");
  EXPECT_EQ(host->bucket, "data");
  EXPECT_EQ(host->key, "t");
  EXPECT_FALSE(ParseObjectUrl("s3:///key").ok());
  EXPECT_FALSE(ParseObjectUrl("file:///tmp/x").ok());
}

TEST(ObjectUrlTest, CredentialsInUrlAreRefusedAndRedacted) {
  auto parsed = ParseObjectUrl("s3://user:hunter2@bucket/x");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().find("hunter2"), std::string::npos)
      << parsed.status().message();
  EXPECT_EQ(RedactUrl("https://user:pw@host/x"), "https://***@host/x");
  EXPECT_EQ(RedactUrl("abfss://c@acct.dfs.core.windows.net/x"),
            "abfss://c@acct.dfs.core.windows.net/x");
}

TEST(StoreOptionsTest, KeysAreCaseInsensitiveWithAliasesAndOverrideTheEnvironment) {
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "AWS_ACCESS_KEY_ID") {
      return "from-env";
    }
    if (name == "AWS_REGION") {
      return "eu-west-1";
    }
    return std::nullopt;
  };
  auto options =
      ResolveS3Options({{"ACCESS_KEY_ID", "from-config"}, {"Aws_Secret_Access_Key", "s"}}, env);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->access_key_id, "from-config");
  EXPECT_EQ(options->secret_access_key, "s");
  EXPECT_EQ(options->region, "eu-west-1");
}

TEST(StoreOptionsTest, UnknownKeysAndUnsupportedOnesAreErrorsThatNeverShowValues) {
  auto unknown = ResolveS3Options({{"aws_secret_acess_key", "topsecret"}}, NoEnv());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("aws_secret_acess_key"), std::string::npos);
  EXPECT_EQ(unknown.status().message().find("topsecret"), std::string::npos);
  auto locking = ResolveS3Options({{"AWS_S3_LOCKING_PROVIDER", "dynamodb"}}, NoEnv());
  ASSERT_FALSE(locking.ok());
  EXPECT_EQ(locking.status().code(), StatusCode::kUnsupported);
  auto http = ResolveS3Options({{"aws_endpoint", "http://127.0.0.1:1"}}, NoEnv());
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.status().message().find("aws_allow_http"), std::string::npos);
  auto azure = ResolveAzureOptions({{"azure_storage_client_secret", "x"}}, "acct", NoEnv());
  ASSERT_FALSE(azure.ok());
  EXPECT_EQ(azure.status().code(), StatusCode::kUnsupported);
}

TEST(StoreOptionsTest, AzureConnectionStrings) {
  auto options = ResolveAzureOptions({{"connection_string",
                                       "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey="
                                       "a2V5;BlobEndpoint=http://h:1/acct;"},
                                      {"azure_allow_http", "true"}},
                                     "", NoEnv());
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->account, "acct");
  EXPECT_EQ(options->account_key, "a2V5");
  EXPECT_EQ(options->endpoint, "http://h:1/acct");
  auto dev =
      ResolveAzureOptions({{"connection_string", "UseDevelopmentStorage=true"}}, "", NoEnv());
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->account, "devstoreaccount1");
  EXPECT_EQ(dev->endpoint, "http://127.0.0.1:10000/devstoreaccount1");
}

TEST(CryptoTest, KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::string decoded;
  ASSERT_TRUE(Base64Decode(Base64Encode("ab"), &decoded));
  EXPECT_EQ(decoded, "ab");
  EXPECT_EQ(UriEncode("a b/k=v%", true), "a%20b/k%3Dv%25");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");  // RFC 4648 URL-safe alphabet, no padding
  EXPECT_FALSE(RsaSha256Sign("not a key", "data").ok());
}

// The same contract on every backend.
class StoreContractTest : public ::testing::TestWithParam<Emulator::Kind> {
 protected:
  void SetUp() override {
    emulator_ = Emulator::Start(GetParam());
    ASSERT_NE(emulator_, nullptr);
    std::string url = std::string(Emulator::Scheme(GetParam())) + "://bucket/";
    auto parsed = ParseObjectUrl(url);
    ASSERT_TRUE(parsed.ok());
    if (GetParam() == Emulator::Kind::kAzure) {
      auto options = ResolveAzureOptions(emulator_->Config(), "", NoEnv());
      ASSERT_TRUE(options.ok()) << options.status().ToString();
      AQ_ASSERT_OK(CreateAzureContainer(*parsed, *options));
    }
    auto store = OpenStore(*parsed, emulator_->Config(), NoEnv());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *store;
  }

  std::unique_ptr<Emulator> emulator_;
  std::shared_ptr<ObjectStore> store_;
};

TEST_P(StoreContractTest, PutHeadGetRangeDelete) {
  std::string data = RandomBytes(100000, 1);
  std::string key = "dir/k=a%2Fb/sp ace/ü.bin";  // hive escapes, spaces, non-ASCII
  AQ_ASSERT_OK(store_->Put(key, data));
  auto meta = store_->Head(key);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->size, data.size());
  EXPECT_FALSE(meta->etag.empty());
  auto whole = store_->Get(key);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*whole, data);
  std::string part(1000, '\0');
  auto n = store_->GetRange(key, 99500, 1000, part.data());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 500u);
  EXPECT_EQ(part.substr(0, 500), data.substr(99500));
  AQ_ASSERT_OK(store_->Delete(key));
  auto gone = store_->Head(key);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  AQ_EXPECT_OK(store_->Delete(key));  // deleting a missing object is fine
}

TEST_P(StoreContractTest, ListsWithPrefixDelimiterAndPagination) {
  // More than one page (s3rver and the GCS emulator answer 1000 keys a page, azurite 5000).
  int count = GetParam() == Emulator::Kind::kAzure ? 40 : 1005;
  for (int i = 0; i < count; ++i) {
    AQ_ASSERT_OK(store_->Put("many/f" + std::to_string(i), "x"));
  }
  AQ_ASSERT_OK(store_->Put("many/sub/a", "y"));
  AQ_ASSERT_OK(store_->Put("manyother", "z"));
  auto all = store_->List("many/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->objects.size(), static_cast<size_t>(count + 1));
  auto shallow = store_->List("many/", "/");
  ASSERT_TRUE(shallow.ok()) << shallow.status().ToString();
  EXPECT_EQ(shallow->objects.size(), static_cast<size_t>(count));
  ASSERT_EQ(shallow->prefixes.size(), 1u);
  EXPECT_EQ(shallow->prefixes[0], "many/sub/");
}

TEST_P(StoreContractTest, MultipartUploadAppearsOnlyOnComplete) {
  std::string a = RandomBytes(store_->MinPartSize() > 1 ? store_->MinPartSize() : 300000, 2);
  std::string b = RandomBytes(1234, 3);
  {
    auto upload = store_->StartUpload("big.bin");
    ASSERT_TRUE(upload.ok()) << upload.status().ToString();
    AQ_ASSERT_OK((*upload)->UploadPart(a));
    AQ_ASSERT_OK((*upload)->UploadPart(b));
    EXPECT_FALSE(store_->Head("big.bin").ok());  // nothing visible yet
    AQ_ASSERT_OK((*upload)->Complete());
  }
  auto whole = store_->Get("big.bin");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, a + b);
  {
    auto upload = store_->StartUpload("abandoned.bin");
    ASSERT_TRUE(upload.ok());
    AQ_ASSERT_OK((*upload)->UploadPart(b));
    // Destroyed without Complete: aborted.
  }
  EXPECT_EQ(store_->Head("abandoned.bin").status().code(), StatusCode::kNotFound);
}

// CopyObject copies inside the store (S3 CopyObject, GCS's x-goog-copy-source, Azure Copy
// Blob): no byte passes through this process. A store that cannot (kUnsupported) is copied
// through this process instead, in ranged parts for objects over 8 MiB.
TEST_P(StoreContractTest, CopyIsServerSideAndFallsBackToReadingAndWriting) {
  using testing::FaultStore;
  using testing::StoreOp;
  std::string small = RandomBytes(300000, 4);
  std::string source = "copy/k=a%2Fb/sp ace/ü.bin";  // the copy source header is encoded
  AQ_ASSERT_OK(store_->Put(source, small));
  AQ_ASSERT_OK(store_->Put("copy/target.bin", "to be replaced"));
  std::vector<StoreOp> ops;
  bool refuse_copy = false;
  auto store = std::make_shared<FaultStore>(store_, [&](StoreOp op, const std::string&) {
    ops.push_back(op);
    return refuse_copy && op == StoreOp::kCopy ? Status::Unsupported("no copy here") : Status::OK();
  });
  AQ_ASSERT_OK(CopyObject(*store, source, "copy/target.bin"));
  EXPECT_EQ(ops, (std::vector<StoreOp>{StoreOp::kHead, StoreOp::kCopy}));
  auto copied = store_->Get("copy/target.bin");
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, small);
  EXPECT_TRUE(store_->Head(source).ok());  // a copy, not a move
  auto missing = store_->Copy("copy/missing.bin", "copy/never.bin", 1);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("copy/never.bin"), std::string::npos) << missing.ToString();
  EXPECT_EQ(store_->Head("copy/never.bin").status().code(), StatusCode::kNotFound);

  // The fallback: refused copies go through this process, a large object in parts.
  refuse_copy = true;
  std::string large = RandomBytes((9u << 20) + 12345, 5);
  AQ_ASSERT_OK(store_->Put("copy/large.bin", large));
  ops.clear();
  AQ_ASSERT_OK(CopyObject(*store, "copy/large.bin", "copy/large-copy.bin"));
  EXPECT_NE(std::find(ops.begin(), ops.end(), StoreOp::kUpload), ops.end());
  EXPECT_EQ(std::count(ops.begin(), ops.end(), StoreOp::kGet), 2);  // two ranged reads
  auto large_copy = store_->Get("copy/large-copy.bin");
  ASSERT_TRUE(large_copy.ok()) << large_copy.status().ToString();
  EXPECT_EQ(*large_copy == large, true);
  ops.clear();
  AQ_ASSERT_OK(CopyObject(*store, source, "copy/small-copy.bin"));
  EXPECT_EQ(ops,
            (std::vector<StoreOp>{StoreOp::kHead, StoreOp::kCopy, StoreOp::kGet, StoreOp::kPut}));
  auto small_copy = store_->Get("copy/small-copy.bin");
  ASSERT_TRUE(small_copy.ok());
  EXPECT_EQ(*small_copy, small);
}

TEST_P(StoreContractTest, WrongCredentialsNameTheLocationNeverTheSecret) {
  auto config = emulator_->Config();
  std::string secret;
  std::string expected = "403";
  if (GetParam() == Emulator::Kind::kS3) {
    secret = "WrongSecretValue123";
    config["aws_secret_access_key"] = secret;
  } else if (GetParam() == Emulator::Kind::kGcs) {
    // A key of the same service account that the emulator does not know: its token request is
    // refused, and the message must not show any part of the private key.
    config["google_service_account"] = emulator_->dir() + "/wrong-service-account.json";
    secret = "PRIVATE KEY";
    expected = "invalid_grant";
  } else {
    secret = Base64Encode("not the emulator key at all");
    config["azure_storage_account_key"] = secret;
  }
  auto parsed = ParseObjectUrl(std::string(Emulator::Scheme(GetParam())) + "://bucket/x");
  auto store = OpenStore(*parsed, config, NoEnv());
  ASSERT_TRUE(store.ok());
  Status put = (*store)->Put("x", "data");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.message().find(expected), std::string::npos) << put.message();
  EXPECT_NE(put.message().find("bucket/x"), std::string::npos) << put.message();
  EXPECT_EQ(put.message().find(secret), std::string::npos) << put.message();
}

// Create-only writes, as Delta commits use them (S3 and Azure If-None-Match: *, GCS
// x-goog-if-generation-match: 0): of racing writers of one key exactly one wins, every time.
TEST_P(StoreContractTest, PutIfAbsentLetsExactlyOneRacingWriterWin) {
  AQ_ASSERT_OK(store_->PutIfAbsent("_delta_log/00000.json", "first"));
  Status second = store_->PutIfAbsent("_delta_log/00000.json", "second");
  EXPECT_EQ(second.code(), StatusCode::kConflict) << second.ToString();
  EXPECT_EQ(*store_->Get("_delta_log/00000.json"), "first");
  for (int round = 1; round <= 10; ++round) {
    std::string key = "_delta_log/" + std::to_string(round) + ".json";
    std::vector<Status> results(4);
    std::vector<std::thread> writers;
    for (size_t w = 0; w < results.size(); ++w) {
      writers.emplace_back(
          [&, w] { results[w] = store_->PutIfAbsent(key, "writer " + std::to_string(w)); });
    }
    for (auto& writer : writers) {
      writer.join();
    }
    int won = 0;
    std::string winner;
    for (size_t w = 0; w < results.size(); ++w) {
      if (results[w].ok()) {
        ++won;
        winner = "writer " + std::to_string(w);
      } else {
        EXPECT_EQ(results[w].code(), StatusCode::kConflict) << results[w].ToString();
      }
    }
    EXPECT_EQ(won, 1) << "round " << round;
    EXPECT_EQ(*store_->Get(key), winner);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest,
                         ::testing::Values(Emulator::Kind::kS3, Emulator::Kind::kAzure,
                                           Emulator::Kind::kGcs),
                         [](const ::testing::TestParamInfo<Emulator::Kind>& param_info) {
                           return std::string(Emulator::Name(param_info.param));
                         });

TEST(GcsCredentialsTest, AuthorizedUserRefreshTokenAndEnvironmentVariables) {
  auto emulator = Emulator::Start(Emulator::Kind::kGcs);
  ASSERT_NE(emulator, nullptr);
  auto parsed = ParseObjectUrl("gs://bucket/");
  // gcloud's authorized-user file, found through GOOGLE_APPLICATION_CREDENTIALS.
  std::string path = emulator->dir() + "/authorized-user.json";
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "GOOGLE_APPLICATION_CREDENTIALS") {
      return path;
    }
    return std::nullopt;
  };
  auto store = OpenStore(
      *parsed, {{"google_endpoint", emulator->endpoint()}, {"google_allow_http", "true"}}, env);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  AQ_ASSERT_OK((*store)->Put("user.txt", "hello"));
  EXPECT_EQ(*(*store)->Get("user.txt"), "hello");
  // The service account's JSON given as text (google_service_account_key) works as well.
  std::ifstream in(emulator->dir() + "/service-account.json");
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto keyed = OpenStore(*parsed,
                         {{"google_service_account_key", json},
                          {"google_endpoint", emulator->endpoint()},
                          {"google_allow_http", "true"}},
                         NoEnv());
  ASSERT_TRUE(keyed.ok()) << keyed.status().ToString();
  EXPECT_EQ(*(*keyed)->Get("user.txt"), "hello");
}

// Credentials are read at the first request (an executor may have them where the CLI has not):
// then missing or malformed ones are clear errors naming the location, never the key.
TEST(GcsCredentialsTest, MissingOrMalformedCredentialsAreClearErrorsAtTheFirstRequest) {
  auto parsed = ParseObjectUrl("gs://bucket/x");
  auto none = OpenStore(*parsed, {}, NoEnv());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  Status no_credentials = (*none)->Head("x").status();
  EXPECT_NE(no_credentials.message().find("no Google credentials"), std::string::npos)
      << no_credentials.message();
  EXPECT_NE(no_credentials.message().find("gs://bucket/x"), std::string::npos);
  auto missing = OpenStore(*parsed, {{"google_service_account", "/nonexistent/sa.json"}}, NoEnv());
  ASSERT_TRUE(missing.ok());
  Status unreadable = (*missing)->Get("x").status();
  EXPECT_NE(unreadable.message().find("/nonexistent/sa.json"), std::string::npos)
      << unreadable.message();
  std::string secret_json = R"({"type": "service_account", "private_key": "TopSecretKeyText"})";
  auto malformed = OpenStore(*parsed, {{"google_service_account_key", secret_json}}, NoEnv());
  ASSERT_TRUE(malformed.ok());
  Status bad = (*malformed)->Put("x", "data");
  EXPECT_NE(bad.message().find("client_email"), std::string::npos) << bad.message();
  EXPECT_EQ(bad.message().find("TopSecretKeyText"), std::string::npos);
  // Keys are checked when the store is opened (and so by `aqueducts validate`).
  auto other_bucket = OpenStore(
      *parsed, {{"google_bucket", "elsewhere"}, {"google_skip_signature", "true"}}, NoEnv());
  ASSERT_FALSE(other_bucket.ok());
  EXPECT_NE(other_bucket.status().message().find("elsewhere"), std::string::npos);
  auto typo = OpenStore(*parsed, {{"google_service_acount", "x"}}, NoEnv());
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("google_service_acount"), std::string::npos);
}

// AWS_CONTAINER_CREDENTIALS_FULL_URI with its authorization token: the store signs with the
// credentials the endpoint serves (the emulator checks the signature). A refused token is an
// error naming the endpoint and the location, never the token.
TEST(S3ContainerCredentialsTest, CredentialsComeFromTheContainerEndpoint) {
  auto emulator = Emulator::Start(Emulator::Kind::kS3);
  ASSERT_NE(emulator, nullptr);
  std::map<std::string, std::string> env = {
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI",
       emulator->endpoint() + "/_aqueducts_test/container-credentials"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "test-container-token"}};
  EnvLookup lookup = [&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  std::map<std::string, std::string> config = {{"aws_endpoint", emulator->endpoint()},
                                               {"aws_allow_http", "true"},
                                               {"aws_region", "us-east-1"}};
  auto url = ParseObjectUrl("s3://bucket/");
  ASSERT_TRUE(url.ok());
  auto store = OpenStore(*url, config, lookup);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  AQ_ASSERT_OK((*store)->Put("container/x.txt", "from the container's credentials"));
  auto back = (*store)->Get("container/x.txt");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "from the container's credentials");

  env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "not-the-token-42";
  auto refused = OpenStore(*url, config, lookup);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  Status put = (*refused)->Put("container/y.txt", "never");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.message().find("container endpoint"), std::string::npos) << put.ToString();
  EXPECT_NE(put.message().find("s3://bucket/"), std::string::npos) << put.ToString();
  EXPECT_NE(put.message().find("401"), std::string::npos) << put.ToString();
  EXPECT_EQ(put.message().find("not-the-token-42"), std::string::npos) << put.ToString();

  // Configured keys win over the endpoint (these are wrong: the emulator refuses them).
  config["aws_access_key_id"] = "S3RVER";
  config["aws_secret_access_key"] = "wrong-secret";
  env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "test-container-token";
  auto configured = OpenStore(*url, config, lookup);
  ASSERT_TRUE(configured.ok());
  EXPECT_FALSE((*configured)->Put("container/z.txt", "never").ok());
}

// AWS_PROFILE selects a profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE) and
// of the config file (AWS_CONFIG_FILE, "[profile name]" sections): the emulator, which checks
// signatures, accepts only the right profile's keys. Plain variables override the profile; a
// wrong profile is a 403 naming the location, never its secret.
TEST(S3ProfileCredentialsTest, AwsProfileSelectsTheSharedCredentialsAndConfigSections) {
  auto emulator = Emulator::Start(Emulator::Kind::kS3);
  ASSERT_NE(emulator, nullptr);
  std::string dir = emulator->dir() + "/aws";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/credentials")
      << "[default]\naws_access_key_id = S3RVER\naws_secret_access_key = WrongDefaultSecret7\n"
         "\n# the emulator's keys\n[emulator]\naws_access_key_id = S3RVER\n"
         "aws_secret_access_key = S3RVER\n";
  std::ofstream(dir + "/config") << "[default]\nregion = eu-west-1\n\n[profile emulator]\n"
                                    "region = us-east-1\n";
  std::map<std::string, std::string> env = {{"AWS_SHARED_CREDENTIALS_FILE", dir + "/credentials"},
                                            {"AWS_CONFIG_FILE", dir + "/config"},
                                            {"AWS_PROFILE", "emulator"}};
  EnvLookup lookup = [&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  std::map<std::string, std::string> config = {{"aws_endpoint", emulator->endpoint()},
                                               {"aws_allow_http", "true"}};
  AQ_ASSERT_OK_AND_ASSIGN(auto options, ResolveS3Options(config, lookup));
  EXPECT_EQ(options.region, "us-east-1");
  auto url = ParseObjectUrl("s3://bucket/");
  ASSERT_TRUE(url.ok());
  AQ_ASSERT_OK_AND_ASSIGN(auto store, OpenStore(*url, config, lookup));
  AQ_ASSERT_OK(store->Put("profile/x.txt", "signed with the profile's keys"));
  AQ_ASSERT_OK_AND_ASSIGN(auto back, store->Get("profile/x.txt"));
  EXPECT_EQ(back, "signed with the profile's keys");

  // The default profile's secret is wrong: refused, and the message never shows it.
  env.erase("AWS_PROFILE");
  AQ_ASSERT_OK_AND_ASSIGN(auto by_default, OpenStore(*url, config, lookup));
  auto refused = by_default->Get("profile/x.txt");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("403"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("s3://bucket/profile/x.txt"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(refused.status().message().find("WrongDefaultSecret7"), std::string::npos);

  // Variables win over the profile.
  env["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
  AQ_ASSERT_OK_AND_ASSIGN(auto by_variable, OpenStore(*url, config, lookup));
  AQ_ASSERT_OK_AND_ASSIGN(auto again, by_variable->Get("profile/x.txt"));
  EXPECT_EQ(again, "signed with the profile's keys");
}

TEST(StoreRegistryTest, LongestRegisteredLocationWins) {
  StoreRegistry registry(NoEnv());
  AQ_ASSERT_OK(registry.Register("s3://bucket/a", {{"aws_region", "eu-west-1"}}));
  AQ_ASSERT_OK(registry.Register("s3://bucket/a/b/", {{"aws_region", "us-west-2"}}));
  auto deep = registry.Resolve("s3://bucket/a/b/c.csv");
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->key, "a/b/c.csv");
  auto shallow = registry.Resolve("s3://bucket/a/x.csv");
  ASSERT_TRUE(shallow.ok());
  EXPECT_NE(deep->store, shallow->store);
  auto sibling = registry.Resolve("s3://bucket/ab.csv");  // not under "s3://bucket/a"
  ASSERT_TRUE(sibling.ok());
  EXPECT_NE(sibling->store, shallow->store);
  Status bad = registry.Register("s3://bucket/z", {{"nope", "1"}});
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("s3://bucket/z"), std::string::npos) << bad.message();
  auto gcs = registry.Resolve("gs://bucket/x");
  EXPECT_TRUE(gcs.ok()) << gcs.status().ToString();
}

}  // namespace
}  // namespace aqueducts::storage

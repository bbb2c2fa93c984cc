// Rate-limited sign-in: the limiter through a fake clock (no waiting out lockouts), then the real
// server binary answering 429 with Retry-After.

#include "server/sign_in_limit.h"

#include <string>

#include <gtest/gtest.h>

#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

class SignInLimiterClock : public ::testing::Test {
 protected:
  SignInLimiter Make(int max_failures) {
    SignInLimiter::Options options;
    options.max_failures = max_failures;
    options.lockout = seconds(300);
    options.now = [this] { return now_; };
    return SignInLimiter(options);
  }
  std::chrono::steady_clock::time_point now_{};
};

TEST_F(SignInLimiterClock, FiveFailuresOfOneUserLockItForTheLockoutOnly) {
  SignInLimiter limiter = Make(5);
  for (int i = 0; i < 4; ++i) {
    limiter.Failure("root", "10.0.0.1");
  }
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 0);
  limiter.Failure("root", "10.0.0.1");
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 300);
  // The user is locked from every address; other users are not, from the same address.
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.9"), 300);
  EXPECT_EQ(limiter.RetryAfter("otto", "10.0.0.1"), 0);
  now_ += seconds(100);
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 200);
  now_ += std::chrono::milliseconds(199500);
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 1);  // rounded up, never 0 while locked
  now_ += std::chrono::milliseconds(500);
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 0);
  // After the lockout the count starts again: one more failure does not lock.
  limiter.Failure("root", "10.0.0.1");
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 0);
}

TEST_F(SignInLimiterClock, ASuccessOrTimeResetsTheUsersCount) {
  SignInLimiter limiter = Make(5);
  for (int i = 0; i < 4; ++i) {
    limiter.Failure("root", "10.0.0.1");
  }
  limiter.Success("root");
  for (int i = 0; i < 4; ++i) {
    limiter.Failure("root", "10.0.0.1");
  }
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 0);
  // Failures further apart than a lockout period do not add up.
  now_ += seconds(301);
  for (int i = 0; i < 4; ++i) {
    limiter.Failure("root", "10.0.0.1");
  }
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 0);
  limiter.Failure("root", "10.0.0.1");
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 300);
}

TEST_F(SignInLimiterClock, TwentyFailuresFromOneClientLockThatClientOnly) {
  SignInLimiter limiter = Make(5);
  for (int i = 0; i < 20; ++i) {
    limiter.Failure("guess" + std::to_string(i), "10.0.0.1");
  }
  EXPECT_EQ(limiter.RetryAfter("otto", "10.0.0.1"), 300);
  EXPECT_EQ(limiter.RetryAfter("otto", "10.0.0.2"), 0);
  // A success does not unlock the client (one valid account must not reopen the guessing).
  limiter.Success("otto");
  EXPECT_EQ(limiter.RetryAfter("vera", "10.0.0.1"), 300);
}

TEST_F(SignInLimiterClock, ZeroMaxFailuresTurnsTheLimitOff) {
  SignInLimiter limiter = Make(0);
  for (int i = 0; i < 100; ++i) {
    limiter.Failure("root", "10.0.0.1");
  }
  EXPECT_EQ(limiter.RetryAfter("root", "10.0.0.1"), 0);
}

// POST /api/v1/tokens from a given local address (127.0.0.x: the whole of 127/8 is loopback).
httplib::Result SignIn(int port, const std::string& from, const std::string& user,
                       const std::string& password) {
  httplib::Client client("127.0.0.1", port);
  client.set_interface(from);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(20, 0);
  return client.Post("/api/v1/tokens", {httplib::make_basic_authentication_header(user, password)},
                     "", "application/json");
}

TEST(SignInLimit, RepeatedFailuresGet429WithRetryAfterAndOthersStillSignIn) {
  std::filesystem::path dir = InitDataDir();
  ASSERT_FALSE(dir.empty());
  auto server = ServerProcess::Start(dir);
  ASSERT_NE(server, nullptr);
  int port = server->port();
  auto admin_res = SignIn(port, "127.0.0.1", "root", kAdminPassword);
  ASSERT_TRUE(admin_res && admin_res->status == 201);
  std::string admin = json::parse(admin_res->body)["token"];
  auto client = server->Client();
  auto otto = client->Post("/api/v1/users", Bearer(admin),
                           R"({"name":"otto","password":"otto-password","role":"viewer"})",
                           "application/json");
  ASSERT_TRUE(otto && otto->status == 201);

  // Five wrong passwords for root: 401 each; then 429, even with the right password.
  for (int i = 0; i < 5; ++i) {
    auto res = SignIn(port, "127.0.0.1", "root", "guess-" + std::to_string(i));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << i;
  }
  for (const std::string password : {"guess-5", kAdminPassword}) {
    auto res = SignIn(port, "127.0.0.1", "root", password);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 429);
    std::string retry_after = res->get_header_value("Retry-After");
    int retry = retry_after.empty() ? 0 : std::stoi(retry_after);
    EXPECT_GE(retry, 1);
    EXPECT_LE(retry, 300);
    EXPECT_NE(json::parse(res->body)["error"].get<std::string>().find("Too many failed sign-ins"),
              std::string::npos);
  }
  // Another user signs in from the same client; the admin's token keeps working.
  auto other = SignIn(port, "127.0.0.1", "otto", "otto-password");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 201);
  EXPECT_EQ(client->Get("/api/v1/me", Bearer(admin))->status, 200);

  // Twenty failures from 127.0.0.2 (a different name each time) lock that client, for every
  // name; 127.0.0.1 still signs in.
  for (int i = 0; i < 20; ++i) {
    auto res = SignIn(port, "127.0.0.2", "guess" + std::to_string(i), "x");
    ASSERT_TRUE(res) << "connecting from 127.0.0.2: " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 401) << i;
  }
  auto locked = SignIn(port, "127.0.0.2", "otto", "otto-password");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 429);
  auto elsewhere = SignIn(port, "127.0.0.1", "otto", "otto-password");
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->status, 201);

  // --sign-in-max-failures 0 turns the limit off.
  server.reset();
  server = ServerProcess::Start(dir, {"--sign-in-max-failures", "0"});
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 7; ++i) {
    auto res = SignIn(server->port(), "127.0.0.1", "root", "guess");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << i;
  }
  server.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir.parent_path(), ec);
}

}  // namespace
}  // namespace aqueducts::server::testing

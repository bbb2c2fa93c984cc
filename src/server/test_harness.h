#pragma once

// Test support for the server tests: the real aqueducts-server binary as a subprocess on
// 127.0.0.1 (server_process.h) and the gtest fixture around it. Header-only: only *_test.cc files
// include it.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "executor/test_harness.h"
#include "server/server_process.h"

namespace aqueducts::server::testing {

/// "SQLite" / "PostgreSQL": the suffix of a test instantiated over ::testing::Values(kSqlite,
/// kPostgres) (INSTANTIATE_TEST_SUITE_P(Backends, Suite, ..., BackendName)).
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "SQLite" : "PostgreSQL";
}

/// \brief ServerStore (server_process.h) for the tests: a failure to initialise is a gtest
/// failure.
class TestStore : public ServerStore {
 public:
  /// nullptr (with a gtest failure) when `init` or PostgreSQL fails.
  static std::unique_ptr<TestStore> Init(Backend backend) {
    auto store = std::unique_ptr<TestStore>(new TestStore());
    Status s = store->InitAs(backend);
    if (!s.ok()) {
      ADD_FAILURE() << s.message();
      return nullptr;
    }
    return store;
  }

 private:
  TestStore() = default;
};

/// \brief The set-up the server tests share: a server on a store of the test's Backend with the
/// admin's token, and executors registered with it (started by executor/test_harness.h and
/// waited for until the server lists them idle with an open work stream). Everything is stopped
/// and removed in TearDown.
class ServerFixture : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = TestStore::Init(GetParam());
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    executors_.clear();
    server_.reset();
    store_.reset();
  }

  /// Start the server on the store (again on the same port when it ran before: executors know
  /// only that address) and take a token of admin "root" when there is none yet.
  void StartServer(std::vector<std::string> extra_args = {}) {
    if (port_ != 0) {
      extra_args.insert(extra_args.end(), {"--port", std::to_string(port_)});
    }
    server_ = store_->Serve(extra_args);
    ASSERT_NE(server_, nullptr) << "the server did not start";
    port_ = server_->port();
    client_ = server_->Client();
    if (admin_.empty()) {
      auto res = client_->Post("/api/v1/tokens",
                               {httplib::make_basic_authentication_header("root", kAdminPassword)},
                               "", "application/json");
      ASSERT_TRUE(res && res->status == 201) << (res ? res->body : httplib::to_string(res.error()));
      admin_ = nlohmann::json::parse(res->body)["token"];
    }
  }

  std::string ServerUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::string RegistrationToken() {
    auto res = client_->Post("/api/v1/executors/registration-tokens", Bearer(admin_), "",
                             "application/json");
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
    return res && res->status == 201 ? nlohmann::json::parse(res->body)["token"].get<std::string>()
                                     : "";
  }

  /// Start an executor registered as `name` (with `extra_args`, e.g. --labels) and wait until
  /// the server lists it idle with its work stream open (a failure with the executor's log when
  /// it does not); nullptr when it did not start.
  executor::testing::ExecutorProcess* StartExecutor(const std::string& name,
                                                    std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--server-url",         ServerUrl(),
                                     "--executor-id",        name,
                                     "--registration-token", RegistrationToken()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto p = executor::testing::ExecutorProcess::Start(args);
    EXPECT_NE(p, nullptr);
    if (!p) {
      return nullptr;
    }
    executors_.push_back(std::move(p));
    bool online = WaitExecutor(name, "idle");
    EXPECT_TRUE(online) << name << " did not come online: " << Executor(name);
    if (!online) {
      for (const auto& line : executors_.back()->LogLines()) {
        ADD_FAILURE() << line;
      }
    }
    return executors_.back().get();
  }

  /// Executor `name` as GET /api/v1/executors lists it; null when not listed (a failed request
  /// is a test failure).
  nlohmann::json Executor(const std::string& name) {
    auto res = client_->Get("/api/v1/executors", Bearer(admin_));
    if (!res || res->status != 200) {
      ADD_FAILURE() << "GET /api/v1/executors: "
                    << (res ? std::to_string(res->status) + " " + res->body
                            : httplib::to_string(res.error()));
      return nlohmann::json();
    }
    // Kept in a variable: a range-for over a member of the temporary json::parse(...) would
    // iterate a destroyed object.
    nlohmann::json doc = nlohmann::json::parse(res->body);
    for (const auto& e : doc["executors"]) {
      if (e["name"] == name) {
        return e;
      }
    }
    return nlohmann::json();
  }

  /// Poll the executor list until `name` has `status` (and, unless offline, an open work stream).
  bool WaitExecutor(const std::string& name, const std::string& status,
                    std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      nlohmann::json e = Executor(name);
      if (e.is_object() && e["status"] == status &&
          (status == "offline" || e["connected"].get<bool>())) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  nlohmann::json GetRun(int64_t id) {
    auto res = client_->Get(("/api/v1/runs/" + std::to_string(id)).c_str(), Bearer(admin_));
    return res && res->status == 200 ? nlohmann::json::parse(res->body) : nlohmann::json();
  }

  /// Poll run `id` until `pred` holds; the last run object seen.
  nlohmann::json WaitRun(int64_t id, const std::function<bool(const nlohmann::json&)>& pred,
                         std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    nlohmann::json run;
    while (std::chrono::steady_clock::now() < deadline) {
      run = GetRun(id);
      if (run.is_object() && pred(run)) {
        return run;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return run;
  }

  std::unique_ptr<TestStore> store_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
  int port_ = 0;
  std::vector<std::unique_ptr<executor::testing::ExecutorProcess>> executors_;
};

}  // namespace aqueducts::server::testing

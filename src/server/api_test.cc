// The HTTP API of the real aqueducts-server binary: tokens, roles, pipelines, bad input.

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

constexpr char kExamples[] = "tests/fixtures/aqueducts-examples/examples/";

class ServerApi : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = TestStore::Init(GetParam());
    ASSERT_NE(store_, nullptr);
    server_ = store_->Serve();
    ASSERT_NE(server_, nullptr);
    client_ = server_->Client();
    admin_ = TokenFor("root", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
  }

  // The secret_sha256 column of every API token, read from the store's database directly.
  std::vector<std::string> StoredTokenHashes() {
    std::vector<std::string> out;
    if (store_->backend() == Backend::kSqlite) {
      sqlite3* db = nullptr;
      EXPECT_EQ(sqlite3_open_v2((store_->dir() / "aqueducts.db").c_str(), &db, SQLITE_OPEN_READONLY,
                                nullptr),
                SQLITE_OK);
      sqlite3_stmt* stmt = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT secret_sha256 FROM api_tokens", -1, &stmt, nullptr),
                SQLITE_OK);
      while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
        out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
      }
      sqlite3_finalize(stmt);
      sqlite3_close(db);
      return out;
    }
    PGconn* conn = PQconnectdb(store_->url().c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* res = PQexec(conn, "SELECT secret_sha256 FROM api_tokens");
    EXPECT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); ++i) {
      out.emplace_back(PQgetvalue(res, i, 0));
    }
    PQclear(res);
    PQfinish(conn);
    return out;
  }

  // A token of `user` (with the user's role unless `body` asks for another); "" on failure.
  std::string TokenFor(const std::string& user, const std::string& password,
                       const std::string& body = "") {
    auto res =
        client_->Post("/api/v1/tokens", {httplib::make_basic_authentication_header(user, password)},
                      body, "application/json");
    if (!res || res->status != 201) {
      return "";
    }
    return json::parse(res->body).value("token", "");
  }

  void CreateUser(const std::string& name, const std::string& role) {
    auto res =
        client_->Post("/api/v1/users", Bearer(admin_),
                      json{{"name", name}, {"password", name + "-password"}, {"role", role}}.dump(),
                      "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 201) << res->body;
  }

  httplib::Result Send(const std::string& method, const std::string& path, const std::string& token,
                       const std::string& body = "") {
    httplib::Headers h = token.empty() ? httplib::Headers{} : Bearer(token);
    if (method == "GET") {
      return client_->Get(path.c_str(), h);
    }
    if (method == "POST") {
      return client_->Post(path.c_str(), h, body, "application/json");
    }
    if (method == "PUT") {
      return client_->Put(path.c_str(), h, body, "application/json");
    }
    if (method == "PATCH") {
      return client_->Patch(path.c_str(), h, body, "application/json");
    }
    return client_->Delete(path.c_str(), h);
  }

  json CreatePipeline(const std::string& name, const std::string& format, const std::string& text,
                      int expect = 201) {
    auto res = Send("POST", "/api/v1/pipelines", admin_,
                    json{{"name", name}, {"format", format}, {"text", text}}.dump());
    EXPECT_TRUE(res);
    if (!res) {
      return json();
    }
    EXPECT_EQ(res->status, expect) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return json::parse(res->body);
  }

  std::unique_ptr<TestStore> store_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
};

TEST_P(ServerApi, TokensComeFromBasicAuthAndAreStoredHashed) {
  auto bad = client_->Post("/api/v1/tokens",
                           {httplib::make_basic_authentication_header("root", "wrong-password")},
                           "", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(json::parse(bad->body)["error"],
            "Authentication failed: unknown user or wrong password");
  EXPECT_EQ(bad->get_header_value("WWW-Authenticate"), "Basic realm=\"aqueducts\"");
  auto nobody =
      client_->Post("/api/v1/tokens", {httplib::make_basic_authentication_header("ghost", "x")}, "",
                    "application/json");
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->status, 401);
  auto none = client_->Post("/api/v1/tokens", "", "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);

  auto res = client_->Post("/api/v1/tokens",
                           {httplib::make_basic_authentication_header("root", kAdminPassword)},
                           R"({"name": "ci", "role": "viewer"})", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  json body = json::parse(res->body);
  std::string token = body["token"];
  EXPECT_EQ(body["role"], "viewer");
  EXPECT_EQ(body["name"], "ci");
  EXPECT_EQ(token.rfind("aqt_", 0), 0u);
  EXPECT_EQ(token.size(), 4u + 64u);

  auto me = Send("GET", "/api/v1/me", token);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200);
  EXPECT_EQ(json::parse(me->body)["role"], "viewer");
  EXPECT_EQ(json::parse(me->body)["user"], "root");

  // The database holds no token secret, only hashes of them.
  int rows = 0;
  for (const std::string& stored : StoredTokenHashes()) {
    EXPECT_EQ(stored.size(), 64u);
    EXPECT_EQ(stored.find(token.substr(4)), std::string::npos);
    ++rows;
  }
  EXPECT_EQ(rows, 2);  // the fixture's admin token and this one
}

TEST_P(ServerApi, BearerTokensAreRequiredAndChecked) {
  for (const std::string& header :
       {std::string(""), std::string("Bearer "), std::string("Bearer aqt_0000"),
        std::string("Basic abc"), "Bearer " + admin_ + "x"}) {
    httplib::Headers h;
    if (!header.empty()) {
      h.emplace("Authorization", header);
    }
    auto res = client_->Get("/api/v1/pipelines", h);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << header;
    EXPECT_TRUE(json::parse(res->body).contains("error"));
  }
}

TEST_P(ServerApi, RoleMatrix) {
  CreateUser("vera", "viewer");
  CreateUser("otto", "operator");
  std::map<std::string, std::string> tokens = {
      {"viewer", TokenFor("vera", "vera-password")},
      {"operator", TokenFor("otto", "otto-password")},
      {"admin", admin_},
      // An admin's token scoped down to viewer has a viewer's rights.
      {"admin-as-viewer", TokenFor("root", kAdminPassword, R"({"role":"viewer"})")}};
  for (const auto& [role, token] : tokens) {
    ASSERT_FALSE(token.empty()) << role;
  }
  // A user cannot mint a token above their role.
  auto up = client_->Post("/api/v1/tokens",
                          {httplib::make_basic_authentication_header("vera", "vera-password")},
                          R"({"role":"admin"})", "application/json");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 403);

  std::string text = ReadFile(std::string(kExamples) + "aqueduct_pipeline_simple.yml");
  json created = CreatePipeline("matrix", "yaml", text);
  std::string id = std::to_string(created["id"].get<int>());
  std::string pipeline = json{{"name", "p"}, {"format", "yaml"}, {"text", text}}.dump();

  struct Case {
    std::string method, path, body, min_role;
    int ok_status;
  };
  int n = 0;
  auto fresh = [&] {  // a new pipeline name for each allowed POST
    return json{{"name", "p" + std::to_string(++n)}, {"format", "yaml"}, {"text", text}}.dump();
  };
  std::vector<std::string> order = {"viewer", "admin-as-viewer", "operator", "admin"};
  auto rank = [](const std::string& r) { return r == "admin" ? 2 : r == "operator" ? 1 : 0; };
  for (const std::string& who : order) {
    int have = rank(who == "admin-as-viewer" ? "viewer" : who);
    std::vector<Case> cases = {
        {"GET", "/api/v1/me", "", "viewer", 200},
        {"GET", "/api/v1/pipelines", "", "viewer", 200},
        {"GET", "/api/v1/pipelines/" + id, "", "viewer", 200},
        {"GET", "/api/v1/pipelines/" + id + "/versions", "", "viewer", 200},
        {"POST", "/api/v1/pipelines", fresh(), "admin", 201},
        {"PUT", "/api/v1/pipelines/" + id, json{{"text", text}}.dump(), "admin", 200},
        {"GET", "/api/v1/users", "", "admin", 200},
        {"POST", "/api/v1/users",
         json{{"name", "u-" + who}, {"password", "password-1"}, {"role", "viewer"}}.dump(), "admin",
         201},
    };
    for (const auto& c : cases) {
      auto res = Send(c.method, c.path, tokens[who], c.body);
      ASSERT_TRUE(res) << c.method << " " << c.path;
      int expected = have >= rank(c.min_role) ? c.ok_status : 403;
      EXPECT_EQ(res->status, expected)
          << who << ": " << c.method << " " << c.path << " -> " << res->body;
      if (expected == 403) {
        EXPECT_NE(json::parse(res->body)["error"].get<std::string>().find("needs role"),
                  std::string::npos);
      }
    }
  }
  // DELETE last: viewer and operator are refused, the admin removes it.
  for (const std::string& who : order) {
    auto res = Send("DELETE", "/api/v1/pipelines/" + id, tokens[who]);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, who == "admin" ? 204 : 403) << who;
  }
  (void)pipeline;
}

TEST_P(ServerApi, PipelineTextsAreKeptVerbatimAndVersioned) {
  std::string yaml = ReadFile(std::string(kExamples) + "aqueduct_pipeline_simple.yml");
  json v1 = CreatePipeline("simple", "yaml", yaml);
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["created_by"], "root");
  EXPECT_EQ(v1["parameters"], json::array({"month", "year"}));
  int id = v1["id"];
  std::string path = "/api/v1/pipelines/" + std::to_string(id);

  auto got = Send("GET", path, admin_);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(json::parse(got->body)["text"], yaml);  // comments and layout kept byte for byte

  // Version 2 by another admin, in another format and under a new name.
  CreateUser("ada", "admin");
  std::string ada = TokenFor("ada", "ada-password");
  std::string toml = ReadFile(std::string(kExamples) + "aqueduct_pipeline_example.toml");
  auto put =
      Send("PUT", path, ada, json{{"text", toml}, {"format", "toml"}, {"name", "example"}}.dump());
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 200) << put->body;
  json v2 = json::parse(put->body);
  EXPECT_EQ(v2["version"], 2);
  EXPECT_EQ(v2["created_by"], "ada");
  EXPECT_EQ(v2["name"], "example");

  auto latest = Send("GET", path, admin_);
  EXPECT_EQ(json::parse(latest->body)["text"], toml);
  auto old = Send("GET", path + "?version=1", admin_);
  ASSERT_EQ(old->status, 200);
  EXPECT_EQ(json::parse(old->body)["text"], yaml);
  EXPECT_EQ(json::parse(old->body)["format"], "yaml");
  EXPECT_EQ(Send("GET", path + "?version=3", admin_)->status, 404);
  EXPECT_EQ(Send("GET", path + "?version=x", admin_)->status, 400);

  auto versions = Send("GET", path + "/versions", admin_);
  json vs = json::parse(versions->body)["versions"];
  ASSERT_EQ(vs.size(), 2u);
  EXPECT_EQ(vs[0]["created_by"], "root");
  EXPECT_EQ(vs[1]["created_by"], "ada");
  EXPECT_FALSE(vs[0].contains("text"));

  // JSON texts too; the list gives id, name, latest version, updated_at.
  std::string json_text = ReadFile(std::string(kExamples) + "aqueduct_pipeline_example.json");
  json other = CreatePipeline("from-json", "json", json_text);
  auto list = Send("GET", "/api/v1/pipelines", admin_);
  json items = json::parse(list->body)["pipelines"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["id"], id);
  EXPECT_EQ(items[0]["name"], "example");
  EXPECT_EQ(items[0]["latest_version"], 2);
  EXPECT_EQ(items[0]["updated_at"], v2["created_at"]);
  EXPECT_EQ(items[1]["name"], "from-json");
  EXPECT_EQ(items[1]["latest_version"], 1);

  // Names are unique; deletion removes every version.
  auto dup = Send("POST", "/api/v1/pipelines", admin_,
                  json{{"name", "from-json"}, {"format", "json"}, {"text", json_text}}.dump());
  EXPECT_EQ(dup->status, 409);
  EXPECT_EQ(json::parse(dup->body)["error"], "A pipeline named 'from-json' already exists");
  auto rename = Send("PUT", path, admin_,
                     json{{"text", toml}, {"format", "toml"}, {"name", "from-json"}}.dump());
  EXPECT_EQ(rename->status, 409);
  EXPECT_EQ(Send("DELETE", path, admin_)->status, 204);
  EXPECT_EQ(Send("GET", path, admin_)->status, 404);
  EXPECT_EQ(Send("GET", path + "/versions", admin_)->status, 404);
  EXPECT_EQ(Send("DELETE", path, admin_)->status, 404);
  EXPECT_EQ(Send("PUT", path, admin_, json{{"text", toml}}.dump())->status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/pipelines/abc", admin_)->status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/pipelines/99999999999999999999999", admin_)->status, 404);
}

TEST_P(ServerApi, InvalidPipelinesGetTheLoadersErrorIn422) {
  std::string bad_format =
      "version: v2\n"
      "sources:\n"
      "  - type: file\n"
      "    name: x\n"
      "    format:\n"
      "      type: xls\n"
      "    location: a.csv\n"
      "stages: []\n";
  json err = CreatePipeline("bad", "yaml", bad_format, 422);
  EXPECT_EQ(err["error"],
            "Invalid pipeline: pipeline:6: sources[0].format.type: unknown file format 'xls' "
            "(expected parquet, csv, json)");
  json syntax = CreatePipeline("bad", "yaml", "version: v2\nsources: [\n", 422);
  EXPECT_NE(syntax["error"].get<std::string>().find("pipeline:"), std::string::npos) << syntax;
  json toml = CreatePipeline("bad", "toml", "version = \"v2\"\nsources = []\nstages = 3\n", 422);
  EXPECT_NE(toml["error"].get<std::string>().find("stages"), std::string::npos) << toml;
  json fmt = CreatePipeline("bad", "xml", "<a/>", 400);
  EXPECT_EQ(fmt["error"], "Field \"format\" must be yaml, json or toml, not 'xml'");
  // Nothing invalid was stored, and a failed update leaves the latest version in place.
  std::string good = "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT ${x}\n";
  json ok = CreatePipeline("good", "yaml", good);
  EXPECT_EQ(ok["parameters"], json::array({"x"}));
  std::string path = "/api/v1/pipelines/" + std::to_string(ok["id"].get<int>());
  auto put = Send("PUT", path, admin_, json{{"text", bad_format}}.dump());
  EXPECT_EQ(put->status, 422);
  auto list = Send("GET", "/api/v1/pipelines", admin_);
  json items = json::parse(list->body)["pipelines"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["latest_version"], 1);
  // A parameter in a numeric field is valid once it has a value.
  std::string typed =
      "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n      show: "
      "${rows}\n";
  json t = CreatePipeline("typed", "yaml", typed);
  EXPECT_EQ(t["parameters"], json::array({"rows"}));
}

TEST_P(ServerApi, BadRequestsGetJsonErrors) {
  struct Case {
    std::string body;
    int status;
    std::string error;
  };
  std::vector<Case> cases = {
      {"{bad", 400, "Request body is not valid JSON"},
      {"", 400, "Request body is not valid JSON"},
      {"[1,2]", 400, "Request body must be a JSON object"},
      {std::string(100, '[') + std::string(100, ']'), 400,
       "Request body nests arrays/objects deeper than 64 levels"},
      {R"({"format":"yaml","text":"x"})", 400, "Field \"name\" is required"},
      {R"({"name":5,"format":"yaml","text":"x"})", 400,
       "Field \"name\" must be a string, not number"},
      {R"({"name":"","format":"yaml","text":"x"})", 400,
       "Field \"name\": a pipeline name has 1 to 200 bytes"},
      {R"({"name":"a\u0001","format":"yaml","text":"x"})", 400,
       "Field \"name\": a pipeline name has no control characters"},
  };
  for (const auto& c : cases) {
    auto res = Send("POST", "/api/v1/pipelines", admin_, c.body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.body;
    EXPECT_EQ(json::parse(res->body)["error"], c.error) << c.body;
  }
  // Oversized bodies are refused before they are read (default limit 4 MiB).
  std::string big =
      json{{"name", "big"}, {"format", "yaml"}, {"text", std::string(5 << 20, 'a')}}.dump();
  auto res = Send("POST", "/api/v1/pipelines", admin_, big);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(json::parse(res->body)["error"],
            "Request body too large: the limit is 4194304 bytes (server flag --max-body-kb)");
  auto unknown = client_->Get("/api/v1/nothing-here");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["error"], "Not found: GET /api/v1/nothing-here");
  auto users =
      Send("POST", "/api/v1/users", admin_, R"({"name":"x","password":"short","role":"viewer"})");
  EXPECT_EQ(users->status, 400);
  auto role = Send("POST", "/api/v1/users", admin_,
                   R"({"name":"x","password":"long-enough","role":"root"})");
  EXPECT_EQ(role->status, 400);
  EXPECT_EQ(json::parse(role->body)["error"],
            "Field \"role\": Unknown role 'root': expected viewer, operator or admin");
  auto dup = Send("POST", "/api/v1/users", admin_,
                  R"({"name":"root","password":"long-enough","role":"viewer"})");
  EXPECT_EQ(dup->status, 409);
  // The server is still up and serving after all of that.
  EXPECT_TRUE(server_->Alive());
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_P(ServerApi, ASmallerBodyLimitIsHonoured) {
  server_.reset();
  server_ = store_->Serve({"--max-body-kb", "1"});
  ASSERT_NE(server_, nullptr);
  client_ = server_->Client();
  std::string body =
      json{{"name", "b"}, {"format", "yaml"}, {"text", std::string(2000, '#')}}.dump();
  auto res = Send("POST", "/api/v1/pipelines", admin_, body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  // The store survived the restart: the token made before it still works.
  EXPECT_EQ(Send("GET", "/api/v1/pipelines", admin_)->status, 200);
}

// GET /api/v1/runs filters by pipeline, executor and creation time and pages with `before`
// (the web UI's runs list). No executor is registered: every run stays queued.
TEST_P(ServerApi, RunsAreFilteredAndPaged) {
  const std::string text =
      "version: v2\nsources: []\nstages:\n  - - name: s\n      query: SELECT 1\n";
  int64_t a = CreatePipeline("a", "yaml", text)["id"];
  int64_t b = CreatePipeline("b", "yaml", text)["id"];
  std::vector<int64_t> a_runs;
  for (int64_t p : {a, b, a, b, a}) {
    auto res = Send("POST", "/api/v1/pipelines/" + std::to_string(p) + "/runs", admin_,
                    R"({"executor":"nowhere"})");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 201) << res->body;
    if (p == a) {
      a_runs.push_back(json::parse(res->body)["id"]);
    }
  }
  auto ids = [&](const std::string& query) {
    auto res = Send("GET", "/api/v1/runs" + query, admin_);
    std::vector<int64_t> out;
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    json doc = res && res->status == 200 ? json::parse(res->body) : json::object();
    for (const auto& r : doc["runs"]) {
      out.push_back(r["id"]);
    }
    return out;
  };
  const std::string pa = "?pipeline_id=" + std::to_string(a);
  EXPECT_EQ(ids(pa), (std::vector<int64_t>{a_runs[2], a_runs[1], a_runs[0]}));
  EXPECT_EQ(ids(pa + "&limit=2"), (std::vector<int64_t>{a_runs[2], a_runs[1]}));
  EXPECT_EQ(ids(pa + "&limit=2&before=" + std::to_string(a_runs[1])),
            (std::vector<int64_t>{a_runs[0]}));
  EXPECT_EQ(ids("?pipeline_id=" + std::to_string(b) + "&state=queued").size(), 2u);
  EXPECT_EQ(ids("?state=running").size(), 0u);
  EXPECT_EQ(ids("?since=2000-01-01T00:00:00.000Z").size(), 5u);
  EXPECT_EQ(ids("?since=2999-01-01T00:00:00.000Z").size(), 0u);
  EXPECT_EQ(ids("?executor=nowhere").size(), 0u);  // queued runs have gone to no executor yet
  auto bad = Send("GET", "/api/v1/runs?pipeline_id=x", admin_);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"],
            "Query parameter \"pipeline_id\" must be a positive integer");
}

// DELETE /api/v1/tokens/current (the web UI's sign-out) deletes the token it is sent with, and
// only that one.
TEST_P(ServerApi, SigningOutDeletesTheTokenUsed) {
  std::string other = TokenFor("root", kAdminPassword);
  ASSERT_FALSE(other.empty());
  EXPECT_EQ(Send("GET", "/api/v1/me", admin_)->status, 200);
  auto res = Send("DELETE", "/api/v1/tokens/current", admin_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204) << res->body;
  auto me = Send("GET", "/api/v1/me", admin_);
  EXPECT_EQ(me->status, 401);
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/current", admin_)->status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/me", other)->status, 200);
}

// The web UI's files come from the binary itself, with a policy that allows no other origin.
// Admins list every token (never a secret), create one for any user (at most the user's role;
// Browser sessions: POST /api/v1/sessions sets an HttpOnly, SameSite=Strict cookie (Secure
// behind a TLS proxy) and answers a CSRF token instead of the secret; the cookie authenticates
// reads alone and changes only with the CSRF token; signing out clears it; a wrong password gets
// no Basic challenge. API tokens in the Authorization header need no CSRF token.
TEST_P(ServerApi, BrowserSessionsUseAnHttpOnlyCookieAndACsrfToken) {
  auto signin = [&](const std::string& password, httplib::Headers extra = {}) {
    extra.insert(httplib::make_basic_authentication_header("root", password));
    return client_->Post("/api/v1/sessions", extra, R"({"name": "web ui"})", "application/json");
  };
  auto bad = signin("wrong-password");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_FALSE(bad->has_header("WWW-Authenticate"));
  EXPECT_FALSE(bad->has_header("Set-Cookie"));

  auto res = signin(kAdminPassword);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_EQ(cookie.rfind("aq_session=aqt_", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Path=/api/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << cookie;
  json body = json::parse(res->body);
  EXPECT_FALSE(body.contains("token")) << res->body;
  EXPECT_EQ(res->body.find("aqt_"), std::string::npos) << res->body;
  EXPECT_EQ(body["user"], "root");
  EXPECT_EQ(body["role"], "admin");
  std::string csrf = body["csrf_token"];
  EXPECT_EQ(csrf.size(), 64u);
  std::string secret = cookie.substr(std::string("aq_session=").size());
  secret = secret.substr(0, secret.find(';'));
  httplib::Headers with_cookie{{"Cookie", "theme=dark; aq_session=" + secret}};

  // Reads with the cookie alone; changes need the CSRF token too.
  auto me = client_->Get("/api/v1/me", with_cookie);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(json::parse(me->body)["token_name"], "web ui");
  json user{{"name", "cora"}, {"password", "cora-password"}, {"role", "viewer"}};
  auto forged = client_->Post("/api/v1/users", with_cookie, user.dump(), "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  EXPECT_EQ(json::parse(forged->body)["error"],
            "Forbidden: POST /api/v1/users with the browser session cookie needs the session's "
            "CSRF token in the X-CSRF-Token header");
  httplib::Headers wrong = with_cookie;
  wrong.insert({"X-CSRF-Token", std::string(64, '0')});
  EXPECT_EQ(client_->Post("/api/v1/users", wrong, user.dump(), "application/json")->status, 403);
  httplib::Headers right = with_cookie;
  right.insert({"X-CSRF-Token", csrf});
  auto created = client_->Post("/api/v1/users", right, user.dump(), "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(client_->Get("/api/v1/users", {{"Cookie", "aq_session=aqt_unknown"}})->status, 401);
  // An API token needs no CSRF token, and the Authorization header wins over a cookie.
  httplib::Headers bearer = Bearer(admin_);
  bearer.insert({"Cookie", "aq_session=aqt_unknown"});
  json other{{"name", "cyd"}, {"password", "cyd-password"}, {"role", "viewer"}};
  EXPECT_EQ(client_->Post("/api/v1/users", bearer, other.dump(), "application/json")->status, 201);

  // Behind a TLS proxy the cookie is Secure.
  auto tls = signin(kAdminPassword, {{"X-Forwarded-Proto", "https"}});
  ASSERT_TRUE(tls);
  EXPECT_NE(tls->get_header_value("Set-Cookie").find("; Secure"), std::string::npos);

  // Signing out deletes the session's token and clears the cookie.
  EXPECT_EQ(client_->Delete("/api/v1/tokens/current", with_cookie)->status, 403);  // no CSRF
  auto out = client_->Delete("/api/v1/tokens/current", right);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("aq_session=; Path=/api/; Max-Age=0"),
            std::string::npos)
      << out->get_header_value("Set-Cookie");
  EXPECT_EQ(client_->Get("/api/v1/me", with_cookie)->status, 401);
}

// the secret shown once) and revoke one; the revoked secret is refused at once.
TEST_P(ServerApi, AdminsListCreateAndRevokeTokens) {
  CreateUser("vera", "viewer");
  CreateUser("otto", "operator");
  json users = json::parse(Send("GET", "/api/v1/users", admin_)->body);
  int64_t vera = 0;
  for (const auto& u : users["users"]) {
    if (u["name"] == "vera") {
      vera = u["id"];
    }
  }
  ASSERT_GT(vera, 0);
  std::string tokens_of_vera = "/api/v1/users/" + std::to_string(vera) + "/tokens";

  auto created = Send("POST", tokens_of_vera, admin_, R"({"name": "ci"})");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  json token = json::parse(created->body);
  EXPECT_EQ(token["user"], "vera");
  EXPECT_EQ(token["role"], "viewer");  // the user's role when none is asked for
  EXPECT_EQ(token["name"], "ci");
  std::string secret = token["token"];
  EXPECT_EQ(secret.rfind("aqt_", 0), 0u);
  json me = json::parse(Send("GET", "/api/v1/me", secret)->body);
  EXPECT_EQ(me["user"], "vera");
  EXPECT_EQ(me["token_name"], "ci");

  // Above the user's role, a bad role, a bad body, an unknown user.
  auto too_high = Send("POST", tokens_of_vera, admin_, R"({"role": "admin"})");
  EXPECT_EQ(too_high->status, 400);
  EXPECT_EQ(json::parse(too_high->body)["error"],
            "Field \"role\": user 'vera' has role viewer; a token of theirs cannot have role "
            "admin");
  EXPECT_EQ(Send("POST", tokens_of_vera, admin_, R"({"role": "root"})")->status, 400);
  EXPECT_EQ(Send("POST", tokens_of_vera, admin_, R"({"name": 5})")->status, 400);
  EXPECT_EQ(Send("POST", tokens_of_vera, admin_, R"({"name": ""})")->status, 400);
  EXPECT_EQ(Send("POST", tokens_of_vera, admin_, "[1]")->status, 400);
  auto ghost = Send("POST", "/api/v1/users/999/tokens", admin_, "{}");
  EXPECT_EQ(ghost->status, 404);
  EXPECT_EQ(json::parse(ghost->body)["error"], "No user with id 999");

  // Only admins: an operator's token is refused on all three.
  std::string operator_token = TokenFor("otto", "otto-password");
  ASSERT_FALSE(operator_token.empty());
  EXPECT_EQ(Send("GET", "/api/v1/tokens", operator_token)->status, 403);
  EXPECT_EQ(Send("POST", tokens_of_vera, operator_token, "{}")->status, 403);
  int64_t id = token["id"];
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/" + std::to_string(id), operator_token)->status, 403);
  EXPECT_EQ(Send("GET", "/api/v1/tokens", "")->status, 401);

  // The list: every token with its user and role, and no secret.
  auto listed = Send("GET", "/api/v1/tokens", admin_);
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_EQ(listed->body.find("aqt_"), std::string::npos) << listed->body;
  std::map<std::string, std::string> users_of;
  json listed_body = json::parse(listed->body);
  for (const auto& t : listed_body["tokens"]) {
    EXPECT_FALSE(t.contains("token"));
    users_of[t["name"].get<std::string>() + "/" + t["user"].get<std::string>()] =
        t["role"].get<std::string>();
  }
  EXPECT_EQ(users_of["ci/vera"], "viewer");
  EXPECT_EQ(users_of["api token/otto"], "operator");
  EXPECT_EQ(users_of["api token/root"], "admin");

  // Revoked: the secret is refused at once, the token leaves the list, a second revoke is 404.
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/" + std::to_string(id), admin_)->status, 204);
  EXPECT_EQ(Send("GET", "/api/v1/me", secret)->status, 401);
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/" + std::to_string(id), admin_)->status, 404);
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/tokens", admin_)->body)["tokens"].size(), 2u);
  // DELETE /api/v1/tokens/current still signs out the token used, not a numbered one.
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/current", operator_token)->status, 204);
  EXPECT_EQ(Send("GET", "/api/v1/me", operator_token)->status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/me", admin_)->status, 200);
}

// The id of user `name` in GET /api/v1/users; 0 when absent.
int64_t UserId(httplib::Client* client, const std::string& admin, const std::string& name) {
  auto res = client->Get("/api/v1/users", Bearer(admin));
  if (!res || res->status != 200) {
    return 0;
  }
  json users = json::parse(res->body);
  for (const auto& u : users["users"]) {
    if (u["name"] == name) {
      return u["id"].get<int64_t>();
    }
  }
  return 0;
}

TEST_P(ServerApi, AdminsChangeRolesAndPasswordsAndRemoveUsers) {
  CreateUser("otto", "operator");
  int64_t otto = UserId(client_.get(), admin_, "otto");
  ASSERT_GT(otto, 0);
  std::string otto_path = "/api/v1/users/" + std::to_string(otto);
  std::string otto_token = TokenFor("otto", "otto-password");
  ASSERT_FALSE(otto_token.empty());
  auto session = client_->Post("/api/v1/sessions",
                               {httplib::make_basic_authentication_header("otto", "otto-password")},
                               R"({"name": "web ui"})", "application/json");
  ASSERT_TRUE(session);
  ASSERT_EQ(session->status, 201) << session->body;
  std::string cookie = session->get_header_value("Set-Cookie");
  httplib::Headers otto_cookie{{"Cookie", cookie.substr(0, cookie.find(';'))}};
  ASSERT_EQ(client_->Get("/api/v1/me", otto_cookie)->status, 200);
  // As an operator, otto may start runs (this body is wrong, but the role is not refused).
  auto as_operator = Send("POST", "/api/v1/runs", otto_token, R"({"pipeline": "x"})");
  EXPECT_NE(as_operator->status, 403) << as_operator->body;
  EXPECT_NE(as_operator->status, 401) << as_operator->body;

  // Lowered to viewer: the user and every token of theirs (the session too) are viewers now.
  auto lowered = Send("PATCH", otto_path, admin_, R"({"role": "viewer"})");
  ASSERT_TRUE(lowered);
  ASSERT_EQ(lowered->status, 200) << lowered->body;
  json lowered_body = json::parse(lowered->body);
  EXPECT_EQ(lowered_body["name"], "otto");
  EXPECT_EQ(lowered_body["role"], "viewer");
  EXPECT_EQ(lowered_body["id"], otto);
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/me", otto_token)->body)["role"], "viewer");
  EXPECT_EQ(json::parse(client_->Get("/api/v1/me", otto_cookie)->body)["role"], "viewer");
  auto run = Send("POST", "/api/v1/runs", otto_token, R"({"pipeline": "x"})");
  EXPECT_EQ(run->status, 403) << run->body;
  json tokens = json::parse(Send("GET", "/api/v1/tokens", admin_)->body);
  for (const auto& t : tokens["tokens"]) {
    if (t["user"] == "otto") {
      EXPECT_EQ(t["role"], "viewer") << t.dump();
    }
  }
  // Raised again: the user may have operator tokens; the old ones keep the role they have.
  ASSERT_EQ(Send("PATCH", otto_path, admin_, R"({"role": "operator"})")->status, 200);
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/me", otto_token)->body)["role"], "viewer");
  EXPECT_FALSE(TokenFor("otto", "otto-password", R"({"role": "operator"})").empty());

  // A new password: the old one is refused at once, the new one works, tokens are kept.
  ASSERT_EQ(Send("PATCH", otto_path, admin_, R"({"password": "new-otto-password"})")->status, 200);
  EXPECT_TRUE(TokenFor("otto", "otto-password").empty());
  EXPECT_FALSE(TokenFor("otto", "new-otto-password").empty());
  EXPECT_EQ(Send("GET", "/api/v1/me", otto_token)->status, 200);

  // Bad requests change nothing.
  for (const char* body : {"{}", R"({"role": "root"})", R"({"password": "short"})",
                           R"({"name": "x"})", R"({"role": 2})", "[1]", "not json"}) {
    auto res = Send("PATCH", otto_path, admin_, body);
    EXPECT_EQ(res->status, 400) << body << ": " << res->body;
    EXPECT_TRUE(json::parse(res->body).contains("error")) << res->body;
  }
  EXPECT_EQ(
      json::parse(Send("PATCH", otto_path, admin_, R"({"password": "short"})")->body)["error"],
      "Field \"password\": a password has at least 8 characters");
  EXPECT_EQ(json::parse(Send("PATCH", otto_path, admin_, R"({"name": "x"})")->body)["error"],
            "Field \"name\" is not known: a user's \"role\" and \"password\" can be changed");
  EXPECT_FALSE(TokenFor("otto", "new-otto-password").empty());
  EXPECT_EQ(Send("PATCH", "/api/v1/users/999", admin_, R"({"role": "viewer"})")->status, 404);
  EXPECT_EQ(Send("PATCH", "/api/v1/users/abc", admin_, R"({"role": "viewer"})")->status, 404);
  EXPECT_EQ(Send("DELETE", "/api/v1/users/999", admin_)->status, 404);
  // Only admins.
  EXPECT_EQ(Send("PATCH", otto_path, otto_token, R"({"role": "admin"})")->status, 403);
  EXPECT_EQ(Send("DELETE", otto_path, otto_token)->status, 403);
  EXPECT_EQ(Send("DELETE", otto_path, "")->status, 401);

  // The last admin can neither lose the role nor be removed; with a second admin, both can.
  int64_t root = UserId(client_.get(), admin_, "root");
  std::string root_path = "/api/v1/users/" + std::to_string(root);
  auto last = Send("PATCH", root_path, admin_, R"({"role": "operator"})");
  EXPECT_EQ(last->status, 409);
  EXPECT_EQ(json::parse(last->body)["error"],
            "User 'root' is the last admin: making them operator would leave no admin (make "
            "another user admin first)");
  auto last_delete = Send("DELETE", root_path, admin_);
  EXPECT_EQ(last_delete->status, 409);
  EXPECT_EQ(json::parse(last_delete->body)["error"],
            "User 'root' is the last admin: removing them would leave no admin (make another "
            "user admin first)");
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/me", admin_)->body)["role"], "admin");
  CreateUser("ada", "admin");
  std::string ada_token = TokenFor("ada", "ada-password");
  ASSERT_FALSE(ada_token.empty());

  // Removed: the user's tokens and session stop working at once; the name is free again.
  EXPECT_EQ(Send("DELETE", otto_path, admin_)->status, 204);
  EXPECT_EQ(Send("GET", "/api/v1/me", otto_token)->status, 401);
  EXPECT_EQ(client_->Get("/api/v1/me", otto_cookie)->status, 401);
  EXPECT_TRUE(TokenFor("otto", "new-otto-password").empty());
  EXPECT_EQ(UserId(client_.get(), admin_, "otto"), 0);
  json left = json::parse(Send("GET", "/api/v1/tokens", admin_)->body);
  for (const auto& t : left["tokens"]) {
    EXPECT_NE(t["user"], "otto") << t.dump();
  }
  EXPECT_EQ(Send("DELETE", otto_path, admin_)->status, 404);
  CreateUser("otto", "viewer");

  // An admin removes themselves while another admin remains; then ada is the last one.
  EXPECT_EQ(Send("DELETE", root_path, admin_)->status, 204);
  EXPECT_EQ(Send("GET", "/api/v1/me", admin_)->status, 401);
  std::string ada_path = "/api/v1/users/" + std::to_string(UserId(client_.get(), ada_token, "ada"));
  EXPECT_EQ(Send("DELETE", ada_path, ada_token)->status, 409);
  EXPECT_EQ(Send("PATCH", ada_path, ada_token, R"({"role": "viewer"})")->status, 409);
  EXPECT_EQ(json::parse(Send("GET", "/api/v1/me", ada_token)->body)["role"], "admin");
}

TEST_P(ServerApi, ServesTheEmbeddedWebUi) {
  auto index = client_->Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<script type=\"module\" src=\"/ui/main.js\">"), std::string::npos);
  EXPECT_EQ(index->get_header_value("Content-Security-Policy").rfind("default-src 'self';", 0), 0u);
  EXPECT_EQ(index->get_header_value("X-Content-Type-Options"), "nosniff");
  for (const char* path : {"/ui/main.js", "/ui/lib.js", "/ui/style.css", "/ui/vendor/preact.js",
                           "/ui/vendor/htm.js", "/ui/vendor/hooks.js"}) {
    auto res = client_->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_GT(res->body.size(), 100u) << path;
  }
  // A browser cannot resolve the bare import "preact" without an import map: the embedded hooks
  // module imports the file beside it.
  std::string hooks = client_->Get("/ui/vendor/hooks.js")->body;
  EXPECT_NE(hooks.find("from\"./preact.js\""), std::string::npos);
  EXPECT_EQ(hooks.find("from\"preact\""), std::string::npos);
  EXPECT_EQ(client_->Get("/ui/vendor/preact.js")->get_header_value("Content-Type"),
            "text/javascript; charset=utf-8");
  // The editor bundle (esbuild at build time) and the schema it completes and lints with.
  auto editor = client_->Get("/ui/editor.js");
  ASSERT_TRUE(editor);
  EXPECT_EQ(editor->status, 200);
  EXPECT_NE(editor->body.find("createEditor"), std::string::npos);
  auto schema = client_->Get("/ui/schema.json");
  ASSERT_TRUE(schema);
  EXPECT_EQ(schema->status, 200);
  json schema_doc = json::parse(schema->body, nullptr, false);
  ASSERT_TRUE(schema_doc.is_object());
  EXPECT_TRUE(schema_doc["properties"].contains("destination"));
  auto missing = client_->Get("/ui/no-such-file.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error"], "Not found: GET /ui/no-such-file.js");
  // No path outside the embedded set is served, however it is spelled.
  EXPECT_EQ(client_->Get("/ui/../aqueducts.db")->status, 404);
  EXPECT_EQ(client_->Get("/ui/%2e%2e/aqueducts.db")->status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerApi,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace aqueducts::server::testing

// The OpenAPI document docs/openapi.json against the real server: every route the server
// registers is documented and every documented operation is served; real answers of the
// aqueducts-server binary (with a real aqueducts-executor running the runs) are checked against
// the document's response schemas by ajv (tests/js/check_openapi.js).

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "executor/test_harness.h"
#include "server/test_harness.h"

namespace aqueducts::server::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::filesystem::path kSourceDir = AQ_SOURCE_DIR;

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

json OpenApiDocument() {
  return json::parse(Slurp(kSourceDir / "docs" / "openapi.json"), nullptr, false);
}

// "METHOD /path/{id}" for every route the server's sources register on its httplib::Server
// (s.Get("/path"...), s.Post(R"(/path/([^/]+))"...)), each regex group written as {id}. The web
// UI's files ("/" and "/ui/...") are not part of the API.
std::set<std::string> RegisteredRoutes() {
  std::set<std::string> routes;
  const std::regex registration(
      R"re(\.\s*(Get|Post|Put|Delete|Patch|Options)\(\s*(?:R"\((/[^"]*)\)"|"(/[^"]*)"))re");
  const std::regex group(R"(\([^)]*\))");
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir / "src" / "server")) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".cc" || name.ends_with("_test.cc")) {
      continue;
    }
    std::string text = Slurp(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), registration), end; it != end; ++it) {
      std::string method = (*it)[1];
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      std::string path = (*it)[2].matched ? (*it)[2].str() : (*it)[3].str();
      if (path == "/" || path.starts_with("/ui/")) {
        continue;
      }
      routes.insert(method + " " + std::regex_replace(path, group, "{id}"));
    }
  }
  return routes;
}

// "METHOD /path/{id}" for every operation of the document (parameter names written as id).
std::set<std::string> DocumentedRoutes(const json& doc) {
  std::set<std::string> routes;
  const std::regex param(R"(\{[^}]*\})");
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const char* method : {"get", "put", "post", "delete", "patch", "options"}) {
      if (item.contains(method)) {
        std::string m = method;
        std::transform(m.begin(), m.end(), m.begin(), ::toupper);
        routes.insert(m + " " + std::regex_replace(path, param, "{id}"));
      }
    }
  }
  return routes;
}

// What differs between the routes served and the routes documented, one line each.
std::vector<std::string> RouteDifferences(const std::set<std::string>& registered,
                                          const std::set<std::string>& documented) {
  std::vector<std::string> out;
  for (const auto& r : registered) {
    if (!documented.contains(r)) {
      out.push_back("served but not in docs/openapi.json: " + r);
    }
  }
  for (const auto& r : documented) {
    if (!registered.contains(r)) {
      out.push_back("in docs/openapi.json but not served: " + r);
    }
  }
  return out;
}

TEST(OpenApi, EveryServedRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  json doc = OpenApiDocument();
  ASSERT_TRUE(doc.is_object()) << "docs/openapi.json is not valid JSON";
  std::set<std::string> registered = RegisteredRoutes();
  std::set<std::string> documented = DocumentedRoutes(doc);
  // The scan finds the server's routes (a broken scan would find none and prove nothing).
  for (const char* known : {"GET /healthz", "POST /api/v1/tokens", "GET /api/v1/runs/{id}/events",
                            "POST /api/v1/executor/runs/{id}/events"}) {
    EXPECT_TRUE(registered.contains(known)) << known;
  }
  for (const auto& d : RouteDifferences(registered, documented)) {
    ADD_FAILURE() << d;
  }
  // The comparison notices a route left out of the document.
  std::set<std::string> fewer = documented;
  fewer.erase("GET /api/v1/runs/{id}");
  EXPECT_EQ(RouteDifferences(registered, fewer),
            std::vector<std::string>{"served but not in docs/openapi.json: GET /api/v1/runs/{id}"});

  // Each documented operation is routed by the real server: without credentials it answers
  // anything but the router's own 404 ("Not found: METHOD /path").
  std::filesystem::path dir = InitDataDir();
  ASSERT_FALSE(dir.empty());
  auto server = ServerProcess::Start(dir);
  ASSERT_NE(server, nullptr);
  auto client = server->Client();
  for (const auto& route : documented) {
    std::string method = route.substr(0, route.find(' '));
    std::string path =
        std::regex_replace(route.substr(route.find(' ') + 1), std::regex(R"(\{id\})"), "1");
    httplib::Request req;
    req.method = method;
    req.path = path;
    if (method == "POST" || method == "PUT") {
      req.body = "{}";
      req.set_header("Content-Type", "application/json");
    }
    auto res = client->send(req);
    ASSERT_TRUE(res) << route << ": " << httplib::to_string(res.error());
    json body = json::parse(res->body, nullptr, false);
    bool router_404 = res->status == 404 && body.is_object() &&
                      body.value("error", "").starts_with("Not found: ");
    EXPECT_FALSE(router_404) << route << " is documented but the server does not route it";
  }
  server.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir.parent_path(), ec);
}

// The exchanges of a test, kept for check_openapi.js.
class Recorder {
 public:
  explicit Recorder(httplib::Client* client) : client_(client) {}

  httplib::Result Send(const std::string& method, const std::string& target,
                       const httplib::Headers& headers, const std::string& body = "",
                       bool record = true) {
    httplib::Request req;
    req.method = method;
    req.path = target;
    req.headers = headers;
    if (method == "POST" || method == "PUT" || method == "PATCH") {
      req.body = body;
      req.set_header("Content-Type", "application/json");
    }
    auto res = client_->send(req);
    EXPECT_TRUE(res) << method << " " << target << ": " << httplib::to_string(res.error());
    if (res && record) {
      Add(method, target, res->status, res->get_header_value("Content-Type"), res->body, body,
          res->get_header_value("Retry-After"));
    }
    return res;
  }
  httplib::Result Get(const std::string& target, const httplib::Headers& headers = {}) {
    return Send("GET", target, headers);
  }
  httplib::Result Post(const std::string& target, const httplib::Headers& headers,
                       const json& body) {
    return Send("POST", target, headers, body.is_null() ? "" : body.dump());
  }

  void Add(const std::string& method, const std::string& target, int status,
           const std::string& content_type, const std::string& body,
           const std::string& request_body, const std::string& retry_after = "") {
    json x{{"method", method},
           {"path", target.substr(0, target.find('?'))},
           {"status", status},
           {"content_type", content_type},
           {"body", body},
           {"request_body", request_body},
           {"headers", json::object()}};
    if (!retry_after.empty()) {
      x["headers"]["retry-after"] = retry_after;
    }
    exchanges_.push_back(std::move(x));
  }

  const json& exchanges() const { return exchanges_; }

 private:
  httplib::Client* client_;
  json exchanges_ = json::array();
};

// Run check_openapi.js on `exchanges`; its exit code and output.
CommandResult CheckExchanges(const json& exchanges) {
  std::filesystem::path dir = MakeTempDir("openapi");
  std::ofstream(dir / "exchanges.json") << exchanges.dump(2);
  CommandResult r = RunCommand(AQ_NODE_BIN, {(kSourceDir / "tests/js/check_openapi.js").string(),
                                             (kSourceDir / "docs/openapi.json").string(),
                                             (dir / "exchanges.json").string()});
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

TEST(OpenApi, TheCheckerRejectsAnswersTheDocumentDoesNotDescribe) {
  Recorder none(nullptr);
  none.Add("GET", "/api/v1/me", 200, "application/json",
           R"({"user":"a","role":"viewer","token_name":"t","surprise":1})", "");
  none.Add("GET", "/api/v1/me", 418, "application/json", R"({"error":"teapot"})", "");
  none.Add("GET", "/api/v1/nowhere", 200, "application/json", "{}", "");
  none.Add("GET", "/api/v1/runs/1", 200, "application/json", R"({"id":1,"state":"exploded"})", "");
  none.Add("GET", "/api/v1/runs/1", 404, "text/plain", "gone", "");
  none.Add("DELETE", "/api/v1/tokens/current", 204, "", "", "");
  CommandResult r = CheckExchanges(none.exchanges());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  for (const char* expected :
       {"#0 GET /api/v1/me -> 200: the answer does not match the document",
        "must NOT have additional properties", "#1 GET /api/v1/me -> 418: status 418 is not",
        "#2 GET /api/v1/nowhere -> 200: no path of the document matches",
        "#3 GET /api/v1/runs/1 -> 200: the answer does not match",
        "#4 GET /api/v1/runs/1 -> 404: "
        "content type 'text/plain' is "
        "not documented",
        "GET /api/v1/executors: documented but never answered 2xx"}) {
    EXPECT_NE(r.err.find(expected), std::string::npos) << expected << "\n" << r.err;
  }
  // The 204 without content is fine: no failure names it.
  EXPECT_EQ(r.err.find("#5"), std::string::npos) << r.err;
}

constexpr char kPipeline[] = R"(version: v2
sources:
  - type: file
    name: readings
    format:
      type: csv
      options:
        has_header: true
    location: ${data}/readings.csv
stages:
  - - name: daily
      query: SELECT city, count(*) AS n FROM readings GROUP BY ALL ORDER BY city
      show: 2
destination:
  type: file
  name: out
  format:
    type: csv
    options:
      has_header: true
  location: ${out}
)";

// Every operation of the document exercised against the real server and a real executor, with
// successes and the errors each operation documents; every answer checked by ajv.
TEST(OpenApi, RealAnswersMatchTheDocument) {
  std::filesystem::path dir = InitDataDir();
  ASSERT_FALSE(dir.empty());
  std::filesystem::path work = MakeTempDir("openapi-work");
  auto server =
      ServerProcess::Start(dir, {"--heartbeat-interval-ms", "1000", "--max-body-kb", "64"});
  ASSERT_NE(server, nullptr);
  auto client = server->Client();
  Recorder rec(client.get());
  auto basic = [](const std::string& user, const std::string& password) {
    return httplib::Headers{httplib::make_basic_authentication_header(user, password)};
  };
  auto body_of = [](const httplib::Result& res) {
    return res ? json::parse(res->body, nullptr, false) : json();
  };

  EXPECT_EQ(rec.Get("/healthz")->status, 200);
  EXPECT_EQ(rec.Get("/metrics")->status, 200);

  // Tokens and users.
  auto admin_res = rec.Post("/api/v1/tokens", basic("root", kAdminPassword), nullptr);
  ASSERT_EQ(admin_res->status, 201);
  std::string admin = body_of(admin_res)["token"];
  EXPECT_EQ(rec.Post("/api/v1/tokens", basic("root", "wrong-password"), nullptr)->status, 401);
  for (int i = 0; i < 5; ++i) {  // one user's failed sign-ins: 401, then 429 with Retry-After
    rec.Post("/api/v1/tokens", basic("ghost", "guess"), nullptr);
  }
  EXPECT_EQ(rec.Post("/api/v1/tokens", basic("ghost", "guess"), nullptr)->status, 429);
  EXPECT_EQ(rec.Post("/api/v1/tokens", basic("root", kAdminPassword), {{"role", "root"}})->status,
            400);
  auto viewer_res = rec.Post("/api/v1/tokens", basic("root", kAdminPassword),
                             {{"name", "dashboard"}, {"role", "viewer"}});
  ASSERT_EQ(viewer_res->status, 201);
  std::string viewer = body_of(viewer_res)["token"];
  EXPECT_EQ(rec.Get("/api/v1/me", Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get("/api/v1/me")->status, 401);
  EXPECT_EQ(rec.Get("/api/v1/me", Bearer("aqt_nope"))->status, 401);
  json otto{{"name", "otto"}, {"password", "otto-password"}, {"role", "operator"}};
  EXPECT_EQ(rec.Post("/api/v1/users", Bearer(admin), otto)->status, 201);
  EXPECT_EQ(rec.Post("/api/v1/users", Bearer(admin), otto)->status, 409);
  EXPECT_EQ(rec.Post("/api/v1/users", Bearer(viewer), otto)->status, 403);
  EXPECT_EQ(rec.Send("POST", "/api/v1/users", Bearer(admin), "{\"name\":")->status, 400);
  EXPECT_EQ(rec.Get("/api/v1/users", Bearer(admin))->status, 200);
  auto op_res = rec.Post("/api/v1/tokens", basic("otto", "otto-password"), {{"name", "ops"}});
  ASSERT_EQ(op_res->status, 201);
  std::string op = body_of(op_res)["token"];
  auto bye_res = rec.Post("/api/v1/tokens", basic("otto", "otto-password"), nullptr);
  std::string bye = body_of(bye_res)["token"];
  EXPECT_EQ(rec.Send("DELETE", "/api/v1/tokens/current", Bearer(bye))->status, 204);
  EXPECT_EQ(rec.Send("DELETE", "/api/v1/tokens/current", Bearer(bye))->status, 401);
  // A browser session: the cookie and a CSRF token instead of the secret.
  EXPECT_EQ(
      rec.Post("/api/v1/sessions", basic("otto", "otto-password"), {{"name", "web ui"}})->status,
      201);
  EXPECT_EQ(rec.Post("/api/v1/sessions", basic("otto", "wrong-password"), nullptr)->status, 401);
  // The admins' token endpoints: a token made for otto, listed, revoked.
  int64_t otto_id = 0;
  json user_list = body_of(rec.Get("/api/v1/users", Bearer(admin)));
  for (const auto& u : user_list["users"]) {
    if (u["name"] == "otto") {
      otto_id = u["id"];
    }
  }
  std::string otto_tokens = "/api/v1/users/" + std::to_string(otto_id) + "/tokens";
  auto made = rec.Post(otto_tokens, Bearer(admin), {{"name", "cron"}, {"role", "viewer"}});
  ASSERT_EQ(made->status, 201);
  EXPECT_EQ(rec.Post(otto_tokens, Bearer(admin), {{"role", "admin"}})->status, 400);
  EXPECT_EQ(rec.Post(otto_tokens, Bearer(op), json::object())->status, 403);
  EXPECT_EQ(rec.Post("/api/v1/users/999/tokens", Bearer(admin), json::object())->status, 404);
  EXPECT_EQ(rec.Get("/api/v1/tokens", Bearer(admin))->status, 200);
  EXPECT_EQ(rec.Get("/api/v1/tokens", Bearer(op))->status, 403);
  std::string made_path = "/api/v1/tokens/" + std::to_string(body_of(made)["id"].get<int64_t>());
  EXPECT_EQ(rec.Send("DELETE", made_path, Bearer(admin))->status, 204);
  EXPECT_EQ(rec.Send("DELETE", made_path, Bearer(admin))->status, 404);
  // A user's role and password changed, a user removed; the last admin stays one.
  auto uma_res = rec.Post("/api/v1/users", Bearer(admin),
                          {{"name", "uma"}, {"password", "uma-password"}, {"role", "admin"}});
  ASSERT_EQ(uma_res->status, 201);
  std::string uma = "/api/v1/users/" + std::to_string(body_of(uma_res)["id"].get<int64_t>());
  EXPECT_EQ(rec.Send("PATCH", uma, Bearer(admin), R"({"role":"operator","password":"uma-2-pass"})")
                ->status,
            200);
  EXPECT_EQ(rec.Send("PATCH", uma, Bearer(admin), R"({"role":"root"})")->status, 400);
  EXPECT_EQ(rec.Send("PATCH", uma, Bearer(op), R"({"role":"viewer"})")->status, 403);
  EXPECT_EQ(rec.Send("PATCH", "/api/v1/users/999", Bearer(admin), R"({"role":"viewer"})")->status,
            404);
  int64_t root_id = 0;
  json all_users = body_of(rec.Get("/api/v1/users", Bearer(admin)));
  for (const auto& u : all_users["users"]) {
    if (u["name"] == "root") {
      root_id = u["id"];
    }
  }
  std::string root_path = "/api/v1/users/" + std::to_string(root_id);
  EXPECT_EQ(rec.Send("PATCH", root_path, Bearer(admin), R"({"role":"viewer"})")->status, 409);
  EXPECT_EQ(rec.Send("DELETE", root_path, Bearer(admin))->status, 409);
  EXPECT_EQ(rec.Send("DELETE", uma, Bearer(admin))->status, 204);
  EXPECT_EQ(rec.Send("DELETE", uma, Bearer(admin))->status, 404);

  // Pipelines.
  json create{{"name", "readings"}, {"format", "yaml"}, {"text", kPipeline}};
  auto created = rec.Post("/api/v1/pipelines", Bearer(admin), create);
  ASSERT_EQ(created->status, 201);
  int64_t pid = body_of(created)["id"];
  std::string p = "/api/v1/pipelines/" + std::to_string(pid);
  EXPECT_EQ(rec.Post("/api/v1/pipelines", Bearer(admin), create)->status, 409);
  EXPECT_EQ(rec.Post("/api/v1/pipelines", Bearer(op), create)->status, 403);
  EXPECT_EQ(rec.Post("/api/v1/pipelines", Bearer(admin),
                     {{"name", "bad"}, {"format", "yaml"}, {"text", "sources: 5\n"}})
                ->status,
            422);
  EXPECT_EQ(rec.Post("/api/v1/pipelines", Bearer(admin), {{"name", "x"}})->status, 400);
  EXPECT_EQ(rec.Post("/api/v1/pipelines", Bearer(admin),
                     {{"name", "big"}, {"format", "yaml"}, {"text", std::string(100000, '#')}})
                ->status,
            413);
  EXPECT_EQ(rec.Get("/api/v1/pipelines", Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get(p, Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get(p + "?version=1", Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get(p + "?version=x", Bearer(viewer))->status, 400);
  EXPECT_EQ(rec.Get("/api/v1/pipelines/999", Bearer(viewer))->status, 404);
  EXPECT_EQ(
      rec.Send("PUT", p, Bearer(admin), json{{"text", std::string("# v2\n") + kPipeline}}.dump())
          ->status,
      200);
  EXPECT_EQ(rec.Send("PUT", p, Bearer(admin), json{{"text", "stages: x\n"}}.dump())->status, 422);
  EXPECT_EQ(
      rec.Send("PUT", "/api/v1/pipelines/999", Bearer(admin), json{{"text", kPipeline}}.dump())
          ->status,
      404);
  EXPECT_EQ(rec.Get(p + "/versions", Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get("/api/v1/pipelines/999/versions", Bearer(viewer))->status, 404);
  auto doomed = rec.Post("/api/v1/pipelines", Bearer(admin),
                         {{"name", "doomed"},
                          {"format", "json"},
                          {"text", R"({"version":"v2","sources":[],"stages":[]})"}});
  ASSERT_EQ(doomed->status, 201);
  std::string doomed_path = "/api/v1/pipelines/" + std::to_string(body_of(doomed)["id"].get<int>());
  EXPECT_EQ(rec.Send("DELETE", doomed_path, Bearer(op))->status, 403);
  EXPECT_EQ(rec.Send("DELETE", doomed_path, Bearer(admin))->status, 204);
  EXPECT_EQ(rec.Send("DELETE", doomed_path, Bearer(admin))->status, 404);

  // A real executor, registered with a token from the API.
  auto reg = rec.Post("/api/v1/executors/registration-tokens", Bearer(admin), nullptr);
  ASSERT_EQ(reg->status, 201);
  EXPECT_EQ(rec.Post("/api/v1/executors/registration-tokens", Bearer(op), nullptr)->status, 403);
  std::string url = "http://127.0.0.1:" + std::to_string(server->port());
  auto executor = executor::testing::ExecutorProcess::Start(
      {"--server-url", url, "--executor-id", "eu-1", "--registration-token",
       body_of(reg)["token"].get<std::string>(), "--labels", "region=eu"});
  ASSERT_NE(executor, nullptr);
  auto deadline = Clock::now() + std::chrono::seconds(30);
  bool online = false;
  while (!online && Clock::now() < deadline) {
    json list = body_of(rec.Send("GET", "/api/v1/executors", Bearer(viewer), "", false));
    for (const auto& e : list.value("executors", json::array())) {
      online = online || (e["name"] == "eu-1" && e["status"] == "idle" && e["connected"]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(online) << "eu-1 did not come online";
  EXPECT_EQ(rec.Get("/api/v1/executors", Bearer(viewer))->status, 200);

  // Runs on the real executor, with their event streams.
  auto read_events = [&](int64_t run) {
    std::string target = "/api/v1/runs/" + std::to_string(run) + "/events";
    std::string text;
    int status = 0;
    std::string type;
    auto res = client->Get(
        target, Bearer(viewer),
        [&](const httplib::Response& r) {
          status = r.status;
          type = r.get_header_value("Content-Type");
          return true;
        },
        [&](const char* data, size_t n) {
          text.append(data, n);
          return true;
        });
    EXPECT_TRUE(res) << target;
    rec.Add("GET", target, status, type, status == 200 ? "" : text, "");
    return text;
  };
  json params{{"data", std::string(AQ_EXAMPLES_DIR) + "/data"},
              {"out", (work / "out.csv").string()}};
  auto run_res = rec.Post(p + "/runs", Bearer(op), {{"parameters", params}, {"executor", "eu-1"}});
  ASSERT_EQ(run_res->status, 201);
  int64_t run = body_of(run_res)["id"];
  std::string r = "/api/v1/runs/" + std::to_string(run);
  EXPECT_NE(read_events(run).find("event: completed"), std::string::npos);
  EXPECT_EQ(body_of(rec.Get(r, Bearer(viewer)))["state"], "succeeded");
  EXPECT_EQ(rec.Post(p + "/runs", Bearer(op), json::object())->status, 422);  // no parameters
  EXPECT_EQ(rec.Post(p + "/runs", Bearer(op), {{"executor", "a"}, {"label", "b=c"}})->status, 400);
  EXPECT_EQ(rec.Post(p + "/runs", Bearer(viewer), json::object())->status, 403);
  EXPECT_EQ(rec.Post("/api/v1/pipelines/999/runs", Bearer(op), json::object())->status, 404);
  EXPECT_EQ(rec.Get("/api/v1/runs?state=succeeded&limit=5", Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get("/api/v1/runs?limit=0", Bearer(viewer))->status, 400);
  EXPECT_EQ(rec.Get("/api/v1/runs/999", Bearer(viewer))->status, 404);
  EXPECT_EQ(rec.Get("/api/v1/runs/999/events", Bearer(viewer))->status, 404);
  EXPECT_EQ(rec.Post(r + "/cancel", Bearer(op), nullptr)->status, 409);  // finished
  auto again = rec.Post(r + "/rerun", Bearer(op), nullptr);
  ASSERT_EQ(again->status, 201);
  read_events(body_of(again)["id"]);
  json inline_pipeline{{"version", "v2"},
                       {"sources", json::array()},
                       {"stages", {{{{"name", "s"}, {"query", "SELECT 1 AS one"}}}}}};
  auto inline_run =
      rec.Post("/api/v1/runs", Bearer(op), {{"pipeline", inline_pipeline}, {"label", "region=eu"}});
  ASSERT_EQ(inline_run->status, 201);
  read_events(body_of(inline_run)["id"]);
  EXPECT_EQ(rec.Post("/api/v1/runs", Bearer(op), {{"pipeline", {{"sources", 5}}}})->status, 422);
  EXPECT_EQ(rec.Post("/api/v1/runs", Bearer(op), {{"pipeline", 5}})->status, 400);
  // A run no executor fits stays queued; cancelling it is immediate.
  auto waiting = rec.Post(p + "/runs", Bearer(op), {{"parameters", params}, {"label", "gpu=yes"}});
  ASSERT_EQ(waiting->status, 201);
  std::string w = "/api/v1/runs/" + std::to_string(body_of(waiting)["id"].get<int64_t>());
  EXPECT_EQ(rec.Post(w + "/rerun", Bearer(op), nullptr)->status, 409);  // not finished
  EXPECT_EQ(body_of(rec.Post(w + "/cancel", Bearer(op), nullptr))["state"], "cancelled");

  // The executor side by hand: enrol, heartbeat, take a run from the work stream, post events.
  auto reg2 = rec.Post("/api/v1/executors/registration-tokens", Bearer(admin), nullptr);
  json enrol{{"name", "manual-1"}, {"labels", {{"kind", "manual"}}}, {"version", "0.1.0"}};
  auto enrolled = rec.Post("/api/v1/executors/register",
                           Bearer(body_of(reg2)["token"].get<std::string>()), enrol);
  ASSERT_EQ(enrolled->status, 201);
  std::string credential = body_of(enrolled)["credential"];
  EXPECT_EQ(rec.Post("/api/v1/executors/register", Bearer("aqr_unknown"), enrol)->status, 401);
  EXPECT_EQ(rec.Post("/api/v1/executors/register",
                     Bearer(body_of(reg2)["token"].get<std::string>()), {{"name", "bad name!"}})
                ->status,
            400);
  json beat{{"version", "0.1.0"},
            {"labels", {{"kind", "manual"}}},
            {"memory_limit_bytes", 0},
            {"status", "idle"},
            {"queue", 0},
            {"runs", json::array()}};
  EXPECT_EQ(rec.Post("/api/v1/executor/heartbeat", Bearer(credential), beat)->status, 200);
  EXPECT_EQ(rec.Post("/api/v1/executor/heartbeat", Bearer(admin), beat)->status, 401);
  EXPECT_EQ(rec.Get("/api/v1/executor/work", Bearer(admin))->status, 401);
  int64_t sent_run = 0;
  std::thread work_stream([&] {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(30, 0);
    std::string text;
    int status = 0;
    std::string type;
    c.Get(
        "/api/v1/executor/work", Bearer(credential),
        [&](const httplib::Response& res) {
          status = res.status;
          type = res.get_header_value("Content-Type");
          return true;
        },
        [&](const char* data, size_t n) {
          text.append(data, n);
          size_t at = text.find("event: run\ndata: ");
          if (at == std::string::npos || text.find("\n\n", at) == std::string::npos) {
            return true;
          }
          size_t start = at + 17;
          sent_run = json::parse(text.substr(start, text.find('\n', start) - start))["run_id"];
          return false;  // the run arrived: close the stream
        });
    rec.Add("GET", "/api/v1/executor/work", status, type, "", "");
  });
  deadline = Clock::now() + std::chrono::seconds(10);
  bool connected = false;
  while (!connected && Clock::now() < deadline) {
    json list = body_of(rec.Send("GET", "/api/v1/executors", Bearer(viewer), "", false));
    for (const auto& e : list.value("executors", json::array())) {
      connected = connected || (e["name"] == "manual-1" && e["connected"]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(connected);
  auto manual_run =
      rec.Post(p + "/runs", Bearer(op), {{"parameters", params}, {"executor", "manual-1"}});
  ASSERT_EQ(manual_run->status, 201);
  work_stream.join();
  ASSERT_EQ(sent_run, body_of(manual_run)["id"].get<int64_t>());
  std::string events_path = "/api/v1/executor/runs/" + std::to_string(sent_run) + "/events";
  json batch{{"events",
              {{{"seq", 1}, {"event", "started"}, {"data", R"({"execution_id":"m-1"})"}},
               {{"seq", 2}, {"event", "completed"}, {"data", R"({"execution_id":"m-1"})"}}}}};
  auto acked = rec.Post(events_path, Bearer(credential), batch);
  EXPECT_EQ(body_of(acked)["acked"], 2);
  EXPECT_EQ(rec.Post(events_path, Bearer(credential), {{"events", 5}})->status, 400);
  EXPECT_EQ(rec.Post(events_path, Bearer(admin), batch)->status, 401);
  EXPECT_EQ(rec.Post(r.substr(0, 8) + "executor/runs/" + std::to_string(run) + "/events",
                     Bearer(credential), batch)
                ->status,
            409);  // eu-1's run
  EXPECT_EQ(rec.Post("/api/v1/executor/runs/999/events", Bearer(credential), batch)->status, 404);
  EXPECT_EQ(body_of(rec.Get("/api/v1/runs/" + std::to_string(sent_run), Bearer(viewer)))["state"],
            "succeeded");

  // Schedules.
  json schedule{{"pipeline_id", pid},
                {"cron", "30 2 * * *"},
                {"time_zone", "Europe/Berlin"},
                {"parameters", params},
                {"label", "gpu=yes"}};
  auto sched = rec.Post("/api/v1/schedules", Bearer(op), schedule);
  ASSERT_EQ(sched->status, 201);
  std::string s = "/api/v1/schedules/" + std::to_string(body_of(sched)["id"].get<int64_t>());
  EXPECT_EQ(rec.Post("/api/v1/schedules", Bearer(viewer), schedule)->status, 403);
  json bad_cron = schedule;
  bad_cron["cron"] = "61 * * * *";
  EXPECT_EQ(rec.Post("/api/v1/schedules", Bearer(op), bad_cron)->status, 400);
  json no_params = schedule;
  no_params.erase("parameters");
  EXPECT_EQ(rec.Post("/api/v1/schedules", Bearer(op), no_params)->status, 422);
  EXPECT_EQ(rec.Get("/api/v1/schedules", Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get(s, Bearer(viewer))->status, 200);
  EXPECT_EQ(rec.Get("/api/v1/schedules/999", Bearer(viewer))->status, 404);
  EXPECT_EQ(rec.Post(s + "/pause", Bearer(op), nullptr)->status, 200);
  EXPECT_EQ(rec.Post(s + "/resume", Bearer(op), nullptr)->status, 200);
  EXPECT_EQ(rec.Post("/api/v1/schedules/999/pause", Bearer(op), nullptr)->status, 404);
  EXPECT_EQ(rec.Send("DELETE", s, Bearer(viewer))->status, 403);
  EXPECT_EQ(rec.Send("DELETE", s, Bearer(op))->status, 204);
  EXPECT_EQ(rec.Send("DELETE", s, Bearer(op))->status, 404);

  CommandResult check = CheckExchanges(rec.exchanges());
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
  EXPECT_NE(check.out.find(" 0 failures"), std::string::npos) << check.out;

  executor.reset();
  server.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir.parent_path(), ec);
  std::filesystem::remove_all(work, ec);
}

}  // namespace
}  // namespace aqueducts::server::testing

#include "server/api.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <exception>
#include <map>
#include <memory>
#include <optional>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

#include "server/api_accounts.h"
#include "server/api_sessions.h"
#include "server/crypto.h"
#include "server/metrics.h"
#include "server/schedules.h"
#include "server/sign_in_limit.h"
#include "server/tls.h"
#include "server/web_assets.h"

namespace aqueducts::server {
namespace {

using json = nlohmann::json;
using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

constexpr int kMaxJsonDepth = 64;
constexpr size_t kMaxNameBytes = 200;

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, json{{"error", message}});
}

// The HTTP status of a store or validation failure.
int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kParseError:
    case StatusCode::kTemplateError:
    case StatusCode::kSqlError:
    case StatusCode::kUnsupported:
      return 422;
    default:
      return 500;
  }
}

void SendStatus(httplib::Response& res, const Status& s) {
  SendError(res, HttpStatusOf(s), s.message());
}

// The deepest nesting of arrays and objects in `text`, brackets inside strings ignored.
int JsonDepth(const std::string& text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// The request body as a JSON object; an empty body is {} when `empty_ok`.
Result<json> ParseBody(const httplib::Request& req, bool empty_ok) {
  if (req.body.empty() && empty_ok) {
    return json::object();
  }
  if (JsonDepth(req.body) > kMaxJsonDepth) {
    return Status::InvalidArgument("Request body nests arrays/objects deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  }
  json doc = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::InvalidArgument("Request body is not valid JSON");
  }
  if (!doc.is_object()) {
    return Status::InvalidArgument("Request body must be a JSON object");
  }
  return doc;
}

// Field `key` of `body` as a string: absent gives `fallback` (nullopt: required).
Result<std::string> StringField(const json& body, const std::string& key,
                                std::optional<std::string> fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (fallback) {
      return *fallback;
    }
    return Status::InvalidArgument("Field \"" + key + "\" is required");
  }
  if (!it->is_string()) {
    return Status::InvalidArgument("Field \"" + key + "\" must be a string, not " +
                                   std::string(it->type_name()));
  }
  return it->get<std::string>();
}

Status CheckName(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::InvalidArgument("Field \"name\": a " + what + " name has 1 to " +
                                   std::to_string(kMaxNameBytes) + " bytes");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("Field \"name\": a " + what +
                                     " name has no control characters");
    }
  }
  return Status::OK();
}

std::optional<int64_t> ParseId(const std::string& text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v <= 0) {
    return std::nullopt;
  }
  return v;
}

json VersionJson(const PipelineVersion& v, bool with_text) {
  json out{{"id", v.pipeline_id},        {"name", v.name},
           {"version", v.version},       {"format", v.format},
           {"created_by", v.created_by}, {"created_at", v.created_at}};
  out["parameters"] = json::parse(v.parameters_json, nullptr, false);
  if (out["parameters"].is_discarded()) {
    out["parameters"] = json::array();
  }
  if (with_text) {
    out["text"] = v.text;
  }
  return out;
}

// An executor name: 1 to 64 characters among A-Z a-z 0-9 . _ -
bool IsExecutorName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// The optional "executor" (a name) and "label" ("k=v") of a run request; not both.
Result<RunTarget> ParseTarget(const json& body) {
  RunTarget target;
  AQ_ASSIGN_OR_RETURN(target.executor, StringField(body, "executor", std::string()));
  AQ_ASSIGN_OR_RETURN(target.label, StringField(body, "label", std::string()));
  if (!target.executor.empty() && !target.label.empty()) {
    return Status::InvalidArgument("Give \"executor\" or \"label\", not both");
  }
  if (!target.executor.empty() && !IsExecutorName(target.executor)) {
    return Status::InvalidArgument("Field \"executor\": not an executor name");
  }
  if (!target.label.empty()) {
    size_t eq = target.label.find('=');
    if (eq == std::string::npos || eq == 0 || target.label.find(',') != std::string::npos) {
      return Status::InvalidArgument("Field \"label\" must be one key=value, e.g. region=eu");
    }
  }
  return target;
}

std::string ErrorFor(int status, const httplib::Request& req, size_t max_body_bytes) {
  switch (status) {
    case 400:
      return "Bad request: the HTTP request could not be parsed";
    case 404:
      return "Not found: " + req.method + " " + req.path;
    case 405:
      return "Method not allowed: " + req.method + " " + req.path;
    case 413:
      return "Request body too large: the limit is " + std::to_string(max_body_bytes) +
             " bytes (server flag --max-body-kb)";
    case 414:
      return "Request URI too long";
    default:
      return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

bool DecodeBase64(const std::string& in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      ++pad;
      continue;
    } else {
      return false;
    }
    if (pad > 0) {
      return false;  // data after padding
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return pad <= 2;
}

struct ApiServer::Impl {
  ApiOptions options;
  Store* store;
  RunManager* runs;
  Scheduler* schedules;
  Metrics* metrics;
  Log* log;
  std::unique_ptr<httplib::Server> server;
  std::string dummy_hash;  // verified against when a sign-in names no user: same cost
  std::unique_ptr<SignInLimiter> sign_in_limiter;  // failed sign-ins: 429 for a while
  /// SSE streams open now (shared with their releasers, which may run after Impl is gone).
  std::shared_ptr<std::atomic<int>> open_streams = std::make_shared<std::atomic<int>>(0);

  /// Take one of options.max_streams stream slots; false (and a 503 answered) when all are
  /// taken. The slot is given back by the stream's resource releaser (ReleaseStream).
  bool TakeStream(httplib::Response& res) {
    if (open_streams->fetch_add(1) >= options.max_streams) {
      open_streams->fetch_sub(1);
      res.set_header("Retry-After", "5");
      SendError(res, 503,
                "Too many open event streams (" + std::to_string(options.max_streams) +
                    ", serve --max-streams): try again later");
      return false;
    }
    return true;
  }

  void Routes();
  /// The token of a request whose bearer token has at least `min` role; otherwise answers
  /// 401/403 and returns nullopt.
  std::optional<Token> Authorize(const httplib::Request& req, httplib::Response& res, Role min);
  void CreateToken(const httplib::Request& req, httplib::Response& res);
  void CreateUser(const Token& who, const httplib::Request& req, httplib::Response& res);
  void ListUsers(httplib::Response& res);
  void ListPipelines(httplib::Response& res);
  void CreatePipeline(const Token& who, const httplib::Request& req, httplib::Response& res);
  void UpdatePipeline(const Token& who, int64_t id, const httplib::Request& req,
                      httplib::Response& res);
  void GetPipeline(int64_t id, const httplib::Request& req, httplib::Response& res);
  void ListVersions(int64_t id, httplib::Response& res);
  void DeletePipeline(const Token& who, int64_t id, httplib::Response& res);
  void TriggerRun(const Token& who, int64_t pipeline_id, const httplib::Request& req,
                  httplib::Response& res);
  void GetRun(int64_t id, httplib::Response& res);
  void ListRuns(const httplib::Request& req, httplib::Response& res);
  void TriggerInline(const Token& who, const httplib::Request& req, httplib::Response& res);
  void CancelRun(const Token& who, int64_t id, httplib::Response& res);
  void RerunRun(const Token& who, int64_t id, httplib::Response& res);
  void CreateRegistrationToken(const Token& who, httplib::Response& res);
  void ListExecutors(httplib::Response& res);
  void Enrol(const httplib::Request& req, httplib::Response& res);
  /// The executor whose credential the request carries; otherwise answers 401.
  std::optional<ExecutorRecord> AuthorizeExecutor(const httplib::Request& req,
                                                  httplib::Response& res);
  void Heartbeat(const ExecutorRecord& e, const httplib::Request& req, httplib::Response& res);
  void WorkStream(const ExecutorRecord& e, httplib::Response& res);
  void PostEvents(const ExecutorRecord& e, int64_t run_id, const httplib::Request& req,
                  httplib::Response& res);
  void StreamEvents(int64_t id, const httplib::Request& req, httplib::Response& res);
  json ScheduleJson(const Schedule& s, bool with_fires);
  void ServeMetrics(httplib::Response& res);
  void CreateSchedule(const Token& who, const httplib::Request& req, httplib::Response& res);
  void ListSchedules(httplib::Response& res);
  void GetSchedule(int64_t id, httplib::Response& res);
  void PauseSchedule(int64_t id, bool paused, httplib::Response& res);
  void DeleteSchedule(int64_t id, httplib::Response& res);
};

std::optional<Token> ApiServer::Impl::Authorize(const httplib::Request& req, httplib::Response& res,
                                                Role min) {
  std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  // The web UI's session cookie stands for the token when no Authorization header is sent;
  // a change made with it needs the session's CSRF token (api_sessions.h).
  std::string csrf_error;
  if (std::string secret = SessionSecret(req, &csrf_error); !secret.empty()) {
    header = prefix + secret;
  }
  if (header.compare(0, prefix.size(), prefix) != 0 || header.size() == prefix.size()) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"aqueducts\"");
    SendError(res, 401,
              "Authentication required: send an API token as 'Authorization: Bearer <token>' "
              "(create one with POST /api/v1/tokens)");
    return std::nullopt;
  }
  Result<std::optional<Token>> token = store->FindToken(Sha256Hex(header.substr(prefix.size())));
  if (!token.ok()) {
    SendStatus(res, token.status());
    return std::nullopt;
  }
  if (!token->has_value()) {
    log->Warn("authentication failed", {{"path", req.path}, {"remote", req.remote_addr}});
    res.set_header("WWW-Authenticate", "Bearer realm=\"aqueducts\", error=\"invalid_token\"");
    SendError(res, 401, "Authentication failed: the API token is not valid");
    return std::nullopt;
  }
  const Token& t = **token;
  if (!csrf_error.empty()) {
    SendError(res, 403, csrf_error);
    return std::nullopt;
  }
  if (t.role < min) {
    SendError(res, 403,
              std::string("Forbidden: ") + req.method + " " + req.path + " needs role " +
                  RoleName(min) + "; the token of user '" + t.user_name + "' has role " +
                  RoleName(t.role));
    return std::nullopt;
  }
  return t;
}

void ApiServer::Impl::CreateToken(const httplib::Request& req, httplib::Response& res) {
  auto unauthorized = [&](const std::string& msg) {
    res.set_header("WWW-Authenticate", "Basic realm=\"aqueducts\"");
    SendError(res, 401, msg);
  };
  std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Basic ";
  std::string decoded;
  if (header.compare(0, prefix.size(), prefix) != 0 ||
      !DecodeBase64(header.substr(prefix.size()), &decoded) ||
      decoded.find(':') == std::string::npos) {
    unauthorized(
        "Authentication required: POST /api/v1/tokens takes a user's name and "
        "password as HTTP Basic authentication");
    return;
  }
  std::string name = decoded.substr(0, decoded.find(':'));
  std::string password = decoded.substr(decoded.find(':') + 1);
  if (int64_t wait = sign_in_limiter->RetryAfter(name, req.remote_addr); wait > 0) {
    res.set_header("Retry-After", std::to_string(wait));
    SendError(res, 429,
              "Too many failed sign-ins for user '" + name + "' or from " + req.remote_addr +
                  ": try again in " + std::to_string(wait) + " s");
    return;
  }
  Result<std::optional<User>> user = store->FindUser(name);
  if (!user.ok()) {
    SendStatus(res, user.status());
    return;
  }
  bool valid = user->has_value() ? VerifyPassword(password, (*user)->password_hash)
                                 : (VerifyPassword(password, dummy_hash), false);
  if (!valid) {
    sign_in_limiter->Failure(name, req.remote_addr);
    log->Warn("sign-in failed", {{"user", name}, {"remote", req.remote_addr}});
    unauthorized("Authentication failed: unknown user or wrong password");
    return;
  }
  sign_in_limiter->Success(name);
  const User& u = **user;
  Result<json> body = ParseBody(req, /*empty_ok=*/true);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  Result<std::string> token_name = StringField(*body, "name", std::string("api token"));
  Result<std::string> role_text = StringField(*body, "role", std::string(RoleName(u.role)));
  if (!token_name.ok() || !role_text.ok()) {
    SendStatus(res, token_name.ok() ? role_text.status() : token_name.status());
    return;
  }
  Status name_ok = CheckName("token", *token_name);
  if (!name_ok.ok()) {
    SendStatus(res, name_ok);
    return;
  }
  Result<Role> role = ParseRole(*role_text);
  if (!role.ok()) {
    SendError(res, 400, "Field \"role\": " + role.status().message());
    return;
  }
  if (*role > u.role) {
    SendError(res, 403,
              "Forbidden: user '" + u.name + "' has role " + RoleName(u.role) +
                  " and cannot create a token with role " + RoleName(*role));
    return;
  }
  Result<std::string> secret = RandomHex(32);
  if (!secret.ok()) {
    SendStatus(res, secret.status());
    return;
  }
  std::string token_text = "aqt_" + *secret;
  Result<Token> token = store->CreateToken(u.id, *token_name, Sha256Hex(token_text), *role);
  if (!token.ok()) {
    SendStatus(res, token.status());
    return;
  }
  log->Info("token created", {{"user", u.name}, {"role", RoleName(*role)}});
  SendJson(res, 201,
           {{"id", token->id},
            {"name", token->name},
            {"user", u.name},
            {"role", RoleName(token->role)},
            {"created_at", token->created_at},
            {"token", token_text}});
}

void ApiServer::Impl::CreateUser(const Token& who, const httplib::Request& req,
                                 httplib::Response& res) {
  Result<json> body = ParseBody(req, false);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  Result<std::string> name = StringField(*body, "name", std::nullopt);
  Result<std::string> password = StringField(*body, "password", std::nullopt);
  Result<std::string> role_text = StringField(*body, "role", std::nullopt);
  for (const Status* s : {&name.status(), &password.status(), &role_text.status()}) {
    if (!s->ok()) {
      SendStatus(res, *s);
      return;
    }
  }
  Status name_ok = CheckName("user", *name);
  if (!name_ok.ok() || name->find(':') != std::string::npos) {
    SendError(res, 400,
              name_ok.ok() ? "Field \"name\": a user name has no ':'" : name_ok.message());
    return;
  }
  if (password->size() < 8) {
    SendError(res, 400, "Field \"password\": a password has at least 8 characters");
    return;
  }
  Result<Role> role = ParseRole(*role_text);
  if (!role.ok()) {
    SendError(res, 400, "Field \"role\": " + role.status().message());
    return;
  }
  Result<std::string> hash = HashPassword(*password);
  if (!hash.ok()) {
    SendStatus(res, hash.status());
    return;
  }
  Result<User> user = store->CreateUser(*name, *hash, *role);
  if (!user.ok()) {
    SendStatus(res, user.status());
    return;
  }
  log->Info("user created",
            {{"user", user->name}, {"role", RoleName(user->role)}, {"by", who.user_name}});
  SendJson(res, 201,
           {{"id", user->id},
            {"name", user->name},
            {"role", RoleName(user->role)},
            {"created_at", user->created_at}});
}

void ApiServer::Impl::ListUsers(httplib::Response& res) {
  Result<std::vector<User>> users = store->ListUsers();
  if (!users.ok()) {
    SendStatus(res, users.status());
    return;
  }
  json out = json::array();
  for (const auto& u : *users) {
    out.push_back(
        {{"id", u.id}, {"name", u.name}, {"role", RoleName(u.role)}, {"created_at", u.created_at}});
  }
  SendJson(res, 200, {{"users", out}});
}

void ApiServer::Impl::ListPipelines(httplib::Response& res) {
  Result<std::vector<PipelineSummary>> list = store->ListPipelines();
  if (!list.ok()) {
    SendStatus(res, list.status());
    return;
  }
  json out = json::array();
  for (const auto& p : *list) {
    out.push_back({{"id", p.id},
                   {"name", p.name},
                   {"latest_version", p.latest_version},
                   {"created_at", p.created_at},
                   {"updated_at", p.updated_at}});
  }
  SendJson(res, 200, {{"pipelines", out}});
}

void ApiServer::Impl::CreatePipeline(const Token& who, const httplib::Request& req,
                                     httplib::Response& res) {
  Result<json> body = ParseBody(req, false);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  Result<std::string> name = StringField(*body, "name", std::nullopt);
  Result<std::string> format = StringField(*body, "format", std::nullopt);
  Result<std::string> text = StringField(*body, "text", std::nullopt);
  for (const Status* s : {&name.status(), &format.status(), &text.status()}) {
    if (!s->ok()) {
      SendStatus(res, *s);
      return;
    }
  }
  Status name_ok = CheckName("pipeline", *name);
  if (!name_ok.ok()) {
    SendStatus(res, name_ok);
    return;
  }
  std::string params;
  Status valid = ValidatePipelineText(*text, *format, &params);
  if (!valid.ok()) {
    SendStatus(res, valid.code() == StatusCode::kInvalidArgument
                        ? valid
                        : valid.WithPrefix("Invalid pipeline: "));
    return;
  }
  Result<PipelineVersion> saved =
      store->CreatePipeline(*name, *format, *text, params, who.user_name);
  if (!saved.ok()) {
    SendStatus(res, saved.status());
    return;
  }
  log->Info(
      "pipeline created",
      {{"id", std::to_string(saved->pipeline_id)}, {"name", saved->name}, {"by", who.user_name}});
  SendJson(res, 201, VersionJson(*saved, /*with_text=*/true));
}

void ApiServer::Impl::UpdatePipeline(const Token& who, int64_t id, const httplib::Request& req,
                                     httplib::Response& res) {
  Result<json> body = ParseBody(req, false);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  Result<PipelineVersion> current = store->GetPipeline(id, 0);
  if (!current.ok()) {
    SendStatus(res, current.status());
    return;
  }
  Result<std::string> name = StringField(*body, "name", std::string());
  Result<std::string> format = StringField(*body, "format", current->format);
  Result<std::string> text = StringField(*body, "text", std::nullopt);
  for (const Status* s : {&name.status(), &format.status(), &text.status()}) {
    if (!s->ok()) {
      SendStatus(res, *s);
      return;
    }
  }
  if (!name->empty()) {
    Status name_ok = CheckName("pipeline", *name);
    if (!name_ok.ok()) {
      SendStatus(res, name_ok);
      return;
    }
  }
  std::string params;
  Status valid = ValidatePipelineText(*text, *format, &params);
  if (!valid.ok()) {
    SendStatus(res, valid.code() == StatusCode::kInvalidArgument
                        ? valid
                        : valid.WithPrefix("Invalid pipeline: "));
    return;
  }
  Result<PipelineVersion> saved =
      store->AddVersion(id, *name, *format, *text, params, who.user_name);
  if (!saved.ok()) {
    SendStatus(res, saved.status());
    return;
  }
  log->Info("pipeline updated", {{"id", std::to_string(id)},
                                 {"version", std::to_string(saved->version)},
                                 {"by", who.user_name}});
  SendJson(res, 200, VersionJson(*saved, /*with_text=*/true));
}

void ApiServer::Impl::GetPipeline(int64_t id, const httplib::Request& req, httplib::Response& res) {
  int version = 0;
  if (req.has_param("version")) {
    std::optional<int64_t> v = ParseId(req.get_param_value("version"));
    if (!v || *v > 1000000000) {
      SendError(res, 400, "Query parameter \"version\" must be a positive integer");
      return;
    }
    version = static_cast<int>(*v);
  }
  Result<PipelineVersion> v = store->GetPipeline(id, version);
  if (!v.ok()) {
    SendStatus(res, v.status());
    return;
  }
  SendJson(res, 200, VersionJson(*v, /*with_text=*/true));
}

void ApiServer::Impl::ListVersions(int64_t id, httplib::Response& res) {
  Result<std::vector<PipelineVersion>> versions = store->ListVersions(id);
  if (!versions.ok()) {
    SendStatus(res, versions.status());
    return;
  }
  json out = json::array();
  for (const auto& v : *versions) {
    out.push_back(VersionJson(v, /*with_text=*/false));
  }
  SendJson(res, 200, {{"versions", out}});
}

void ApiServer::Impl::DeletePipeline(const Token& who, int64_t id, httplib::Response& res) {
  Status s = store->DeletePipeline(id);
  if (!s.ok()) {
    SendStatus(res, s);
    return;
  }
  log->Info("pipeline deleted", {{"id", std::to_string(id)}, {"by", who.user_name}});
  res.status = 204;
}

json RunJson(const Run& r) {
  json out{{"id", r.id},
           {"pipeline_id", r.pipeline_id},
           {"pipeline_version", r.pipeline_version},
           {"executor", r.executor_name},
           {"target_executor", r.target_executor},
           {"target_label", r.target_label},
           {"rerun_of", r.rerun_of},
           {"execution_id", r.execution_id},
           {"state", r.state},
           {"reason", r.reason},
           {"created_by", r.created_by},
           {"created_at", r.created_at},
           {"updated_at", r.updated_at}};
  out["parameters"] = json::parse(r.parameters_json, nullptr, false);
  if (out["parameters"].is_discarded()) {
    out["parameters"] = json::object();
  }
  return out;
}

void ApiServer::Impl::TriggerRun(const Token& who, int64_t pipeline_id, const httplib::Request& req,
                                 httplib::Response& res) {
  Result<json> body = ParseBody(req, /*empty_ok=*/true);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  std::map<std::string, std::string> params;
  auto p = body->find("parameters");
  if (p != body->end() && !p->is_null()) {
    if (!p->is_object()) {
      SendError(res, 400, "Field \"parameters\" must be an object of strings");
      return;
    }
    for (const auto& [k, v] : p->items()) {
      if (!v.is_string()) {
        SendError(res, 400, "Field \"parameters." + k + "\" must be a string");
        return;
      }
      params[k] = v.get<std::string>();
    }
  }
  int version = 0;
  auto v = body->find("version");
  if (v != body->end() && !v->is_null()) {
    if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > 1000000000) {
      SendError(res, 400, "Field \"version\" must be a positive integer");
      return;
    }
    version = static_cast<int>(v->get<int64_t>());
  }
  Result<RunTarget> target = ParseTarget(*body);
  if (!target.ok()) {
    SendStatus(res, target.status());
    return;
  }
  if (!runs) {
    SendError(res, 409, "Runs are not available on this server");
    return;
  }
  Result<Run> run = runs->Trigger(pipeline_id, version, params, *target, who.user_name);
  if (!run.ok()) {
    int code = run.status().code() == StatusCode::kUnsupported ? 409 : HttpStatusOf(run.status());
    SendError(res, code, run.status().message());
    return;
  }
  SendJson(res, 201, RunJson(*run));
}

void ApiServer::Impl::TriggerInline(const Token& who, const httplib::Request& req,
                                    httplib::Response& res) {
  Result<json> body = ParseBody(req, false);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  auto p = body->find("pipeline");
  if (p == body->end() || !p->is_object()) {
    SendError(res, 400, "Field \"pipeline\" must be the pipeline as a JSON object");
    return;
  }
  Result<RunTarget> target = ParseTarget(*body);
  if (!target.ok()) {
    SendStatus(res, target.status());
    return;
  }
  Result<Run> run = runs->TriggerInline(p->dump(), *target, who.user_name);
  if (!run.ok()) {
    SendError(res, HttpStatusOf(run.status()), "Invalid pipeline: " + run.status().message());
    return;
  }
  SendJson(res, 201, RunJson(*run));
}

void ApiServer::Impl::ListRuns(const httplib::Request& req, httplib::Response& res) {
  RunFilter filter;
  filter.state = req.get_param_value("state");
  filter.executor = req.get_param_value("executor");
  filter.created_since = req.get_param_value("since");
  if (req.has_param("limit")) {
    std::optional<int64_t> n = ParseId(req.get_param_value("limit"));
    if (!n || *n > 10000) {
      SendError(res, 400, "Query parameter \"limit\" must be an integer from 1 to 10000");
      return;
    }
    filter.limit = *n;
  }
  for (auto [name, field] : {std::pair<const char*, int64_t*>{"pipeline_id", &filter.pipeline_id},
                             {"before", &filter.before_id}}) {
    if (req.has_param(name)) {
      std::optional<int64_t> n = ParseId(req.get_param_value(name));
      if (!n) {
        SendError(res, 400,
                  std::string("Query parameter \"") + name + "\" must be a positive integer");
        return;
      }
      *field = *n;
    }
  }
  Result<std::vector<Run>> list = store->ListRuns(filter);
  if (!list.ok()) {
    SendStatus(res, list.status());
    return;
  }
  json out = json::array();
  for (const auto& r : *list) {
    out.push_back(RunJson(r));
  }
  SendJson(res, 200, {{"runs", out}});
}

void ApiServer::Impl::CancelRun(const Token& who, int64_t id, httplib::Response& res) {
  Result<Run> run = runs->Cancel(id, who.user_name);
  if (!run.ok()) {
    SendStatus(res, run.status());
    return;
  }
  SendJson(res, 200, RunJson(*run));
}

void ApiServer::Impl::RerunRun(const Token& who, int64_t id, httplib::Response& res) {
  Result<Run> run = runs->Rerun(id, who.user_name);
  if (!run.ok()) {
    SendStatus(res, run.status());
    return;
  }
  log->Info("run re-run", {{"run_id", std::to_string(id)},
                           {"new_run_id", std::to_string(run->id)},
                           {"by", who.user_name}});
  SendJson(res, 201, RunJson(*run));
}

void ApiServer::Impl::CreateRegistrationToken(const Token& who, httplib::Response& res) {
  Result<std::string> secret = RandomHex(32);
  if (!secret.ok()) {
    SendStatus(res, secret.status());
    return;
  }
  std::string token_text = "aqr_" + *secret;
  Result<RegistrationToken> t =
      store->CreateRegistrationToken(Sha256Hex(token_text), who.user_name);
  if (!t.ok()) {
    SendStatus(res, t.status());
    return;
  }
  log->Info("registration token created", {{"by", who.user_name}});
  SendJson(res, 201,
           {{"id", t->id},
            {"created_by", t->created_by},
            {"created_at", t->created_at},
            {"token", token_text}});
}

static json LabelsJson(const std::map<std::string, std::string>& labels) {
  json out = json::object();
  for (const auto& [k, v] : labels) {
    out[k] = v;
  }
  return out;
}

void ApiServer::Impl::ListExecutors(httplib::Response& res) {
  json out = json::array();
  for (const auto& e : runs->Executors()) {
    out.push_back({{"name", e.name},
                   {"labels", LabelsJson(e.labels)},
                   {"status", e.status},
                   {"online", e.online},
                   {"connected", e.connected},
                   {"last_heartbeat", e.last_heartbeat},
                   {"version", e.version},
                   {"memory_limit_bytes", e.memory_limit_bytes},
                   {"queue", e.queue},
                   {"current_run", e.current_run == 0 ? json(nullptr) : json(e.current_run)},
                   {"registered_at", e.registered_at}});
  }
  SendJson(res, 200, {{"executors", out}});
}

// The labels object of an executor's request body (absent: none).
static Result<std::map<std::string, std::string>> LabelsField(const json& body) {
  std::map<std::string, std::string> labels;
  auto it = body.find("labels");
  if (it == body.end() || it->is_null()) {
    return labels;
  }
  if (!it->is_object()) {
    return Status::InvalidArgument("Field \"labels\" must be an object of strings");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string() || k.empty()) {
      return Status::InvalidArgument("Field \"labels." + k + "\" must be a string");
    }
    labels[k] = v.get<std::string>();
  }
  return labels;
}

static std::string BearerOf(const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  return header.compare(0, prefix.size(), prefix) == 0 ? header.substr(prefix.size()) : "";
}

void ApiServer::Impl::Enrol(const httplib::Request& req, httplib::Response& res) {
  std::string token = BearerOf(req);
  if (token.empty()) {
    SendError(res, 401,
              "Authentication required: send the registration token as 'Authorization: Bearer "
              "<token>' (an admin creates one with POST /api/v1/executors/registration-tokens)");
    return;
  }
  Result<json> body = ParseBody(req, false);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  Result<std::string> name = StringField(*body, "name", std::nullopt);
  if (!name.ok()) {
    SendStatus(res, name.status());
    return;
  }
  if (!IsExecutorName(*name)) {
    SendError(res, 400,
              "Field \"name\": an executor name has 1 to 64 characters among A-Z a-z 0-9 . _ -");
    return;
  }
  Result<std::map<std::string, std::string>> labels = LabelsField(*body);
  if (!labels.ok()) {
    SendStatus(res, labels.status());
    return;
  }
  Result<std::string> secret = RandomHex(32);
  if (!secret.ok()) {
    SendStatus(res, secret.status());
    return;
  }
  std::string credential = "aqe_" + *secret;
  Result<ExecutorRecord> e = store->EnrolExecutor(Sha256Hex(token), *name, Sha256Hex(credential),
                                                  LabelsJson(*labels).dump());
  if (!e.ok()) {
    const Status& s = e.status();
    log->Warn("executor registration refused",
              {{"executor", *name}, {"remote", req.remote_addr}, {"error", s.message()}});
    int code = s.code() == StatusCode::kNotFound          ? 401
               : s.code() == StatusCode::kInvalidArgument ? 403
                                                          : HttpStatusOf(s);
    SendError(res, code, "Registration refused: " + s.message());
    return;
  }
  runs->OnEnrolled(e->name, *labels);
  log->Info("executor registered", {{"executor", e->name}, {"remote", req.remote_addr}});
  SendJson(res, 201,
           {{"name", e->name},
            {"credential", credential},
            {"heartbeat_interval_ms", runs->heartbeat_interval().count()}});
}

std::optional<ExecutorRecord> ApiServer::Impl::AuthorizeExecutor(const httplib::Request& req,
                                                                 httplib::Response& res) {
  std::string token = BearerOf(req);
  Result<std::optional<ExecutorRecord>> e =
      token.empty() ? Result<std::optional<ExecutorRecord>>(std::optional<ExecutorRecord>())
                    : store->FindExecutorByCredential(Sha256Hex(token));
  if (!e.ok()) {
    SendStatus(res, e.status());
    return std::nullopt;
  }
  if (!e->has_value()) {
    SendError(res, 401,
              "Authentication failed: this endpoint takes an executor credential (from "
              "POST /api/v1/executors/register) as 'Authorization: Bearer <credential>'");
    return std::nullopt;
  }
  return **e;
}

void ApiServer::Impl::Heartbeat(const ExecutorRecord& e, const httplib::Request& req,
                                httplib::Response& res) {
  Result<json> body = ParseBody(req, true);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  Result<std::map<std::string, std::string>> labels = LabelsField(*body);
  if (!labels.ok()) {
    SendStatus(res, labels.status());
    return;
  }
  server::Heartbeat beat;
  beat.labels = *labels;
  const json& b = *body;
  if (b.contains("version") && b["version"].is_string()) {
    beat.version = b["version"];
  }
  if (b.contains("memory_limit_bytes") && b["memory_limit_bytes"].is_number_integer()) {
    beat.memory_limit_bytes = b["memory_limit_bytes"];
  }
  if (b.contains("status") && b["status"].is_string()) {
    beat.busy = b["status"] == "busy";
  }
  if (b.contains("queue") && b["queue"].is_number_integer()) {
    beat.queue = b["queue"];
  }
  if (b.contains("runs") && b["runs"].is_array()) {
    for (const auto& r : b["runs"]) {
      if (r.is_number_integer()) {
        beat.runs.push_back(r.get<int64_t>());
      }
    }
  }
  runs->OnHeartbeat(e.name, beat);
  SendJson(res, 200, {{"heartbeat_interval_ms", runs->heartbeat_interval().count()}});
}

void ApiServer::Impl::WorkStream(const ExecutorRecord& e, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  RunManager* mgr = runs;
  std::string name = e.name;
  if (!TakeStream(res)) {
    return;
  }
  uint64_t generation = mgr->OpenWorkStream(name);
  auto slots = open_streams;
  auto keepalive = std::chrono::milliseconds(options.keepalive_ms);
  res.set_chunked_content_provider(
      "text/event-stream",
      [mgr, name, generation, keepalive](size_t, httplib::DataSink& sink) {
        std::optional<std::string> frame = mgr->NextWork(name, generation, keepalive);
        if (!frame) {
          sink.done();
          return true;
        }
        if (frame->empty()) {
          static const std::string kKeepalive = ": keepalive\n\n";
          return sink.write(kKeepalive.data(), kKeepalive.size());
        }
        return sink.write(frame->data(), frame->size());
      },
      [mgr, name, generation, slots](bool) {
        mgr->CloseWorkStream(name, generation);
        slots->fetch_sub(1);
      });
}

void ApiServer::Impl::PostEvents(const ExecutorRecord& e, int64_t run_id,
                                 const httplib::Request& req, httplib::Response& res) {
  Result<json> body = ParseBody(req, false);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  auto list = body->find("events");
  if (list == body->end() || !list->is_array()) {
    SendError(res, 400, "Field \"events\" must be an array");
    return;
  }
  std::vector<SequencedEvent> events;
  for (const auto& item : *list) {
    if (!item.is_object() || !item.contains("seq") || !item["seq"].is_number_integer() ||
        !item.contains("event") || !item["event"].is_string() || !item.contains("data") ||
        !item["data"].is_string()) {
      SendError(res, 400,
                "Each item of \"events\" is {\"seq\": integer, \"event\": string, "
                "\"data\": string}");
      return;
    }
    events.push_back({item["seq"].get<int64_t>(), item["event"], item["data"]});
  }
  Result<int64_t> acked = runs->OnEvents(e.name, run_id, events);
  if (!acked.ok()) {
    int code =
        acked.status().code() == StatusCode::kInvalidArgument ? 409 : HttpStatusOf(acked.status());
    SendError(res, code, acked.status().message());
    return;
  }
  SendJson(res, 200, {{"acked", *acked}});
}

void ApiServer::Impl::GetRun(int64_t id, httplib::Response& res) {
  Result<Run> run = store->GetRun(id);
  if (!run.ok()) {
    SendStatus(res, run.status());
    return;
  }
  SendJson(res, 200, RunJson(*run));
}

void ApiServer::Impl::StreamEvents(int64_t id, const httplib::Request& req,
                                   httplib::Response& res) {
  Result<Run> run = store->GetRun(id);
  if (!run.ok()) {
    SendStatus(res, run.status());
    return;
  }
  int64_t after = 0;
  std::string last = req.get_header_value("Last-Event-ID");
  if (!last.empty()) {
    std::optional<int64_t> n = ParseId(last);
    if (!n && last != "0") {
      SendError(res, 400, "Last-Event-ID must be an event id (a non-negative integer)");
      return;
    }
    after = n.value_or(0);
  }
  if (!TakeStream(res)) {
    return;
  }
  auto slots = open_streams;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto cursor = std::make_shared<int64_t>(after);
  Store* st = store;
  RunManager* mgr = runs;
  auto keepalive = std::chrono::milliseconds(options.keepalive_ms);
  res.set_chunked_content_provider(
      "text/event-stream",
      [st, mgr, id, cursor, keepalive](size_t, httplib::DataSink& sink) {
        uint64_t generation = mgr ? mgr->generation() : 0;
        // The state first: when it is final, every event is already stored.
        Result<Run> r = st->GetRun(id);
        if (!r.ok()) {
          return false;
        }
        bool final_state = IsFinalState(r->state);
        Result<std::vector<RunEvent>> events = st->ListEvents(id, *cursor);
        if (!events.ok()) {
          return false;
        }
        std::string frames;
        for (const auto& e : *events) {
          frames += "id: " + std::to_string(e.seq) + "\nevent: " + e.event + "\n";
          size_t start = 0;
          while (true) {
            size_t nl = e.data.find('\n', start);
            frames += "data: " + e.data.substr(start, nl - start) + "\n";
            if (nl == std::string::npos) {
              break;
            }
            start = nl + 1;
          }
          frames += "\n";
          *cursor = e.seq;
        }
        if (!frames.empty() && !sink.write(frames.data(), frames.size())) {
          return false;
        }
        if (final_state) {
          sink.done();
          return true;
        }
        if (frames.empty()) {
          if (mgr && mgr->stopping()) {
            return false;  // the server stops: the client reconnects with Last-Event-ID
          }
          if (mgr) {
            mgr->WaitForChange(generation, keepalive);
          }
          if (mgr == nullptr || mgr->generation() == generation) {
            static const std::string kKeepalive = ": keepalive\n\n";
            return sink.write(kKeepalive.data(), kKeepalive.size());
          }
        }
        return true;
      },
      [slots](bool) { slots->fetch_sub(1); });
}

static json FireJson(const ScheduleFire& f) {
  return {{"id", f.id},
          {"fire_at", FormatUtc(f.fire_at)},
          {"outcome", f.outcome},
          {"run_id", f.run_id == 0 ? json(nullptr) : json(f.run_id)},
          {"missed", f.missed},
          {"reason", f.reason},
          {"created_at", f.created_at}};
}

json ApiServer::Impl::ScheduleJson(const Schedule& s, bool with_fires) {
  json params = json::parse(s.parameters_json, nullptr, false);
  json out{{"id", s.id},
           {"pipeline_id", s.pipeline_id},
           {"cron", s.cron},
           {"time_zone", s.time_zone},
           {"parameters", params.is_object() ? params : json::object()},
           {"executor", s.target_executor},
           {"label", s.target_label},
           {"paused", s.paused},
           {"last_run_id", s.last_run_id == 0 ? json(nullptr) : json(s.last_run_id)},
           {"created_by", s.created_by},
           {"created_at", s.created_at},
           {"updated_at", s.updated_at}};
  json utc = json::array();
  json local = json::array();
  Result<TimeZone> zone = TimeZone::Load(s.time_zone);
  Result<std::vector<int64_t>> next = schedules->NextFireTimes(s, schedules->next_fire_count());
  if (zone.ok() && next.ok()) {
    for (int64_t t : *next) {
      utc.push_back(FormatUtc(t));
      local.push_back(FormatLocal(t, *zone));
    }
  }
  out["next_fire_times"] = utc;
  out["next_fire_times_local"] = local;
  Result<std::vector<ScheduleFire>> fires = store->ListFires(s.id, with_fires ? 50 : 1);
  out["last_fire"] = nullptr;
  if (fires.ok() && !fires->empty()) {
    out["last_fire"] = FireJson(fires->front());
  }
  if (with_fires) {
    json list = json::array();
    if (fires.ok()) {
      for (const auto& f : *fires) {
        list.push_back(FireJson(f));
      }
    }
    out["fires"] = list;
  }
  return out;
}

void ApiServer::Impl::CreateSchedule(const Token& who, const httplib::Request& req,
                                     httplib::Response& res) {
  Result<json> body = ParseBody(req, /*empty_ok=*/false);
  if (!body.ok()) {
    SendStatus(res, body.status());
    return;
  }
  ScheduleRequest request;
  auto id = body->find("pipeline_id");
  if (id == body->end() || !id->is_number_integer() || id->get<int64_t>() < 1) {
    SendError(res, 400, "Field \"pipeline_id\" is required: a pipeline's id (a positive integer)");
    return;
  }
  request.pipeline_id = id->get<int64_t>();
  Result<std::string> cron = StringField(*body, "cron", std::nullopt);
  Result<std::string> zone = StringField(*body, "time_zone", std::string("UTC"));
  if (!cron.ok() || !zone.ok()) {
    SendStatus(res, cron.ok() ? zone.status() : cron.status());
    return;
  }
  request.cron = *cron;
  request.time_zone = *zone;
  auto p = body->find("parameters");
  if (p != body->end() && !p->is_null()) {
    if (!p->is_object()) {
      SendError(res, 400, "Field \"parameters\" must be an object of strings");
      return;
    }
    for (const auto& [k, v] : p->items()) {
      if (!v.is_string()) {
        SendError(res, 400, "Field \"parameters." + k + "\" must be a string");
        return;
      }
      request.parameters[k] = v.get<std::string>();
    }
  }
  Result<RunTarget> target = ParseTarget(*body);
  if (!target.ok()) {
    SendStatus(res, target.status());
    return;
  }
  request.target = *target;
  Result<Schedule> created = schedules->Create(request, who.user_name);
  if (!created.ok()) {
    SendStatus(res, created.status());
    return;
  }
  SendJson(res, 201, ScheduleJson(*created, false));
}

void ApiServer::Impl::ListSchedules(httplib::Response& res) {
  Result<std::vector<Schedule>> all = store->ListSchedules();
  if (!all.ok()) {
    SendStatus(res, all.status());
    return;
  }
  json out = json::array();
  for (const auto& s : *all) {
    out.push_back(ScheduleJson(s, false));
  }
  SendJson(res, 200, {{"schedules", out}});
}

void ApiServer::Impl::GetSchedule(int64_t id, httplib::Response& res) {
  Result<Schedule> s = store->GetSchedule(id);
  if (!s.ok()) {
    SendStatus(res, s.status());
    return;
  }
  SendJson(res, 200, ScheduleJson(*s, true));
}

void ApiServer::Impl::PauseSchedule(int64_t id, bool paused, httplib::Response& res) {
  Result<Schedule> s = schedules->SetPaused(id, paused);
  if (!s.ok()) {
    SendStatus(res, s.status());
    return;
  }
  log->Info(paused ? "schedule paused" : "schedule resumed", {{"schedule", std::to_string(id)}});
  SendJson(res, 200, ScheduleJson(*s, false));
}

void ApiServer::Impl::DeleteSchedule(int64_t id, httplib::Response& res) {
  Status deleted = schedules->Delete(id);
  if (!deleted.ok()) {
    SendStatus(res, deleted);
    return;
  }
  res.status = 204;
}

void ApiServer::Impl::ServeMetrics(httplib::Response& res) {
  Result<std::map<std::string, int64_t>> counts = store->CountRunsByState();
  if (!counts.ok()) {
    SendStatus(res, counts.status());
    return;
  }
  std::string out =
      "# HELP aqueducts_runs Runs in the store by state.\n# TYPE aqueducts_runs gauge\n";
  for (const char* state :
       {"queued", "dispatched", "running", "succeeded", "failed", "cancelled", "lost"}) {
    auto it = counts->find(state);
    out += std::string("aqueducts_runs{state=\"") + state + "\"} " +
           std::to_string(it == counts->end() ? 0 : it->second) + "\n";
  }
  int64_t registered = 0, online = 0, busy = 0;
  if (runs != nullptr) {
    for (const auto& e : runs->Executors()) {
      ++registered;
      online += e.online ? 1 : 0;
      busy += e.status == "busy" ? 1 : 0;
    }
  }
  out +=
      "# HELP aqueducts_executors_registered Executors registered with this server.\n"
      "# TYPE aqueducts_executors_registered gauge\naqueducts_executors_registered " +
      std::to_string(registered) + "\n";
  out +=
      "# HELP aqueducts_executors_online Registered executors whose last heartbeat is "
      "recent (within 3 intervals).\n# TYPE aqueducts_executors_online gauge\n"
      "aqueducts_executors_online " +
      std::to_string(online) + "\n";
  out +=
      "# HELP aqueducts_executors_busy Online executors running a run.\n"
      "# TYPE aqueducts_executors_busy gauge\naqueducts_executors_busy " +
      std::to_string(busy) + "\n";
  Result<std::vector<Schedule>> all = store->ListSchedules();
  if (all.ok()) {
    int64_t paused = 0;
    for (const auto& s : *all) {
      paused += s.paused ? 1 : 0;
    }
    out +=
        "# HELP aqueducts_schedules Schedules by state.\n# TYPE aqueducts_schedules gauge\n"
        "aqueducts_schedules{state=\"active\"} " +
        std::to_string(static_cast<int64_t>(all->size()) - paused) +
        "\naqueducts_schedules{state=\"paused\"} " + std::to_string(paused) + "\n";
  }
  if (metrics != nullptr) {
    out += metrics->RenderHistograms();
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(out, "text/plain; version=0.0.4; charset=utf-8");
}

void ApiServer::Impl::Routes() {
  httplib::Server& s = *server;
  // Wraps a handler that needs a token with at least role `min`.
  auto with_role =
      [this](Role min,
             std::function<void(const Token&, const httplib::Request&, httplib::Response&)> fn)
      -> Handler {
    return [this, min, fn](const httplib::Request& req, httplib::Response& res) {
      std::optional<Token> token = Authorize(req, res, min);
      if (token) {
        fn(*token, req, res);
      }
    };
  };
  // Wraps a handler of /pipelines/{id}: ids that are not positive integers are 404.
  auto with_id =
      [](std::function<void(const Token&, int64_t, const httplib::Request&, httplib::Response&)>
             fn) {
        return [fn](const Token& t, const httplib::Request& req, httplib::Response& res) {
          std::optional<int64_t> id = ParseId(req.matches[1]);
          if (!id) {
            SendError(res, 404, "No pipeline with id " + std::string(req.matches[1]));
            return;
          }
          fn(t, *id, req, res);
        };
      };

  // The web UI (docs/web-ui.md): its files are embedded in the binary; no other origin is used.
  auto serve_asset = [](const std::string& path, httplib::Response& res) {
    const WebAsset* asset = FindWebAsset(path);
    if (asset == nullptr) {
      SendError(res, 404, "Not found: GET " + path);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    // Scripts only from this server. Inline styles are allowed: the editor (CodeMirror) writes
    // its style sheet into <style> elements at run time; a style cannot run code.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                   "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                   "form-action 'self'");
    res.set_content(reinterpret_cast<const char*>(asset->data), asset->size, asset->content_type);
  };
  s.Get("/", [serve_asset](const httplib::Request&, httplib::Response& res) {
    serve_asset("/ui/index.html", res);
  });
  // The pipeline format's JSON Schema, for the editor's completion, lint and hover.
  s.Get("/ui/schema.json", [](const httplib::Request&, httplib::Response& res) {
    static const std::string schema = JsonSchema();
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(schema, "application/json");
  });
  s.Get(R"(/ui/.+)", [serve_asset](const httplib::Request& req, httplib::Response& res) {
    serve_asset(req.path, res);
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, {{"status", "ok"}, {"version", AQ_VERSION}});
  });
  // Prometheus metrics: counts and timings only, no names (docs/server-api.md, "Metrics").
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) { ServeMetrics(res); });
  s.Post("/api/v1/tokens",
         [this](const httplib::Request& req, httplib::Response& res) { CreateToken(req, res); });
  // Signing in from the web UI: the same as POST /api/v1/tokens, answered as a browser session.
  s.Post("/api/v1/sessions", [this](const httplib::Request& req, httplib::Response& res) {
    CreateToken(req, res);
    StartSession(req, res);
  });
  // Signing out: the token that authenticates this request is deleted (docs/web-ui.md).
  s.Delete("/api/v1/tokens/current",
           with_role(Role::kViewer,
                     [this](const Token& t, const httplib::Request&, httplib::Response& res) {
                       res.set_header("Set-Cookie", ClearSessionCookie());
                       Status deleted = store->DeleteToken(t.id);
                       if (!deleted.ok()) {
                         SendStatus(res, deleted);
                         return;
                       }
                       res.status = 204;
                     }));
  s.Get("/api/v1/me", with_role(Role::kViewer, [](const Token& t, const httplib::Request&,
                                                  httplib::Response& res) {
          SendJson(res, 200,
                   {{"user", t.user_name}, {"role", RoleName(t.role)}, {"token_name", t.name}});
        }));
  s.Get("/api/v1/users",
        with_role(Role::kAdmin, [this](const Token&, const httplib::Request&,
                                       httplib::Response& res) { ListUsers(res); }));
  s.Post("/api/v1/users",
         with_role(Role::kAdmin, [this](const Token& t, const httplib::Request& req,
                                        httplib::Response& res) { CreateUser(t, req, res); }));
  // The admins' token endpoints (api_accounts.cc).
  AddAccountRoutes(s, store, log, with_role);
  s.Get("/api/v1/pipelines",
        with_role(Role::kViewer, [this](const Token&, const httplib::Request&,
                                        httplib::Response& res) { ListPipelines(res); }));
  s.Post("/api/v1/pipelines",
         with_role(Role::kAdmin, [this](const Token& t, const httplib::Request& req,
                                        httplib::Response& res) { CreatePipeline(t, req, res); }));
  s.Get(
      R"(/api/v1/pipelines/([^/]+)/versions)",
      with_role(Role::kViewer, with_id([this](const Token&, int64_t id, const httplib::Request&,
                                              httplib::Response& res) { ListVersions(id, res); })));
  s.Get(R"(/api/v1/pipelines/([^/]+))",
        with_role(Role::kViewer,
                  with_id([this](const Token&, int64_t id, const httplib::Request& req,
                                 httplib::Response& res) { GetPipeline(id, req, res); })));
  s.Put(R"(/api/v1/pipelines/([^/]+))",
        with_role(Role::kAdmin,
                  with_id([this](const Token& t, int64_t id, const httplib::Request& req,
                                 httplib::Response& res) { UpdatePipeline(t, id, req, res); })));
  s.Delete(R"(/api/v1/pipelines/([^/]+))",
           with_role(Role::kAdmin,
                     with_id([this](const Token& t, int64_t id, const httplib::Request&,
                                    httplib::Response& res) { DeletePipeline(t, id, res); })));

  s.Post(R"(/api/v1/pipelines/([^/]+)/runs)",
         with_role(Role::kOperator,
                   with_id([this](const Token& t, int64_t id, const httplib::Request& req,
                                  httplib::Response& res) { TriggerRun(t, id, req, res); })));
  auto with_run_id =
      [](std::function<void(int64_t, const httplib::Request&, httplib::Response&)> fn) {
        return [fn](const Token&, const httplib::Request& req, httplib::Response& res) {
          std::optional<int64_t> id = ParseId(req.matches[1]);
          if (!id) {
            SendError(res, 404, "No run with id " + std::string(req.matches[1]));
            return;
          }
          fn(*id, req, res);
        };
      };
  s.Get("/api/v1/runs",
        with_role(Role::kViewer, [this](const Token&, const httplib::Request& req,
                                        httplib::Response& res) { ListRuns(req, res); }));
  s.Post("/api/v1/runs", with_role(Role::kOperator,
                                   [this](const Token& t, const httplib::Request& req,
                                          httplib::Response& res) { TriggerInline(t, req, res); }));
  auto with_run_id_t = [](std::function<void(const Token&, int64_t, httplib::Response&)> fn) {
    return [fn](const Token& t, const httplib::Request& req, httplib::Response& res) {
      std::optional<int64_t> id = ParseId(req.matches[1]);
      if (!id) {
        SendError(res, 404, "No run with id " + std::string(req.matches[1]));
        return;
      }
      fn(t, *id, res);
    };
  };
  s.Post(R"(/api/v1/runs/([^/]+)/cancel)",
         with_role(Role::kOperator,
                   with_run_id_t([this](const Token& t, int64_t id, httplib::Response& res) {
                     CancelRun(t, id, res);
                   })));
  s.Post(R"(/api/v1/runs/([^/]+)/rerun)",
         with_role(Role::kOperator,
                   with_run_id_t([this](const Token& t, int64_t id, httplib::Response& res) {
                     RerunRun(t, id, res);
                   })));
  s.Get("/api/v1/executors",
        with_role(Role::kViewer, [this](const Token&, const httplib::Request&,
                                        httplib::Response& res) { ListExecutors(res); }));
  s.Post(
      "/api/v1/executors/registration-tokens",
      with_role(Role::kAdmin, [this](const Token& t, const httplib::Request&,
                                     httplib::Response& res) { CreateRegistrationToken(t, res); }));
  s.Post("/api/v1/executors/register",
         [this](const httplib::Request& req, httplib::Response& res) { Enrol(req, res); });
  s.Post("/api/v1/executor/heartbeat", [this](const httplib::Request& req, httplib::Response& res) {
    if (auto e = AuthorizeExecutor(req, res)) {
      Heartbeat(*e, req, res);
    }
  });
  s.Get("/api/v1/executor/work", [this](const httplib::Request& req, httplib::Response& res) {
    if (auto e = AuthorizeExecutor(req, res)) {
      WorkStream(*e, res);
    }
  });
  s.Post(R"(/api/v1/executor/runs/([^/]+)/events)",
         [this](const httplib::Request& req, httplib::Response& res) {
           std::optional<int64_t> id = ParseId(req.matches[1]);
           if (!id) {
             SendError(res, 404, "No run with id " + std::string(req.matches[1]));
             return;
           }
           if (auto e = AuthorizeExecutor(req, res)) {
             PostEvents(*e, *id, req, res);
           }
         });
  s.Get(R"(/api/v1/runs/([^/]+))",
        with_role(Role::kViewer, with_run_id([this](int64_t id, const httplib::Request&,
                                                    httplib::Response& res) { GetRun(id, res); })));
  if (schedules != nullptr) {
    auto with_schedule_id = [](std::function<void(int64_t, httplib::Response&)> fn) {
      return [fn](const Token&, const httplib::Request& req, httplib::Response& res) {
        std::optional<int64_t> id = ParseId(req.matches[1]);
        if (!id) {
          SendError(res, 404, "No schedule with id " + std::string(req.matches[1]));
          return;
        }
        fn(*id, res);
      };
    };
    s.Get("/api/v1/schedules",
          with_role(Role::kViewer, [this](const Token&, const httplib::Request&,
                                          httplib::Response& res) { ListSchedules(res); }));
    s.Post("/api/v1/schedules",
           with_role(Role::kOperator,
                     [this](const Token& t, const httplib::Request& req, httplib::Response& res) {
                       CreateSchedule(t, req, res);
                     }));
    s.Get(R"(/api/v1/schedules/([^/]+))",
          with_role(Role::kViewer, with_schedule_id([this](int64_t id, httplib::Response& res) {
                      GetSchedule(id, res);
                    })));
    s.Post(R"(/api/v1/schedules/([^/]+)/pause)",
           with_role(Role::kOperator, with_schedule_id([this](int64_t id, httplib::Response& res) {
                       PauseSchedule(id, true, res);
                     })));
    s.Post(R"(/api/v1/schedules/([^/]+)/resume)",
           with_role(Role::kOperator, with_schedule_id([this](int64_t id, httplib::Response& res) {
                       PauseSchedule(id, false, res);
                     })));
    s.Delete(
        R"(/api/v1/schedules/([^/]+))",
        with_role(Role::kOperator, with_schedule_id([this](int64_t id, httplib::Response& res) {
                    DeleteSchedule(id, res);
                  })));
  }
  s.Get(R"(/api/v1/runs/([^/]+)/events)",
        with_role(Role::kViewer,
                  with_run_id([this](int64_t id, const httplib::Request& req,
                                     httplib::Response& res) { StreamEvents(id, req, res); })));

  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (res.body.empty() && res.status != 204) {
          SendError(res, res.status, ErrorFor(res.status, req, options.max_body_bytes));
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log->Error("request handler failed", {{"path", req.path}, {"error", what}});
        SendError(res, 500, "Internal error: " + what);
      });
}

Result<std::unique_ptr<ApiServer>> ApiServer::Make(const ApiOptions& options, Store* store,
                                                   RunManager* runs, Log* log, Scheduler* schedules,
                                                   Metrics* metrics) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->store = store;
  impl->runs = runs;
  impl->schedules = schedules;
  impl->metrics = metrics;
  impl->log = log;
  AQ_ASSIGN_OR_RETURN(impl->dummy_hash, HashPassword("aqueducts-no-such-user"));
  SignInLimiter::Options limits;
  limits.max_failures = options.sign_in_max_failures;
  limits.lockout = std::chrono::seconds(options.sign_in_lockout_s);
  impl->sign_in_limiter = std::make_unique<SignInLimiter>(limits);
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return Status::InvalidArgument("HTTPS needs both --tls-cert and --tls-key");
  }
  if (!options.tls_cert.empty()) {
    AQ_RETURN_IF_ERROR(CheckTlsFiles(options.tls_cert, options.tls_key));
    auto tls =
        std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!tls->is_valid()) {
      return Status::InvalidArgument("OpenSSL cannot serve the certificate --tls-cert '" +
                                     options.tls_cert + "' with the key --tls-key '" +
                                     options.tls_key + "'");
    }
    SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
    impl->server = std::move(tls);
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  // Streams hold their thread for their whole life: they get threads of their own on top of
  // options.threads (TakeStream bounds them), so ordinary requests always find one.
  int threads = std::max(2, options.threads) + std::max(0, options.max_streams);
  impl->server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl->server->set_read_timeout(options.read_timeout_s, 0);
  impl->server->set_write_timeout(5, 0);
  impl->server->set_keep_alive_timeout(2);
  impl->server->set_payload_max_length(options.max_body_bytes);
  impl->server->set_tcp_nodelay(true);
  impl->Routes();
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() = default;

Status ApiServer::Listen() {
  httplib::Server& s = *impl_->server;
  int port = impl_->options.port;
  bool bound = port == 0 ? (port = s.bind_to_any_port(impl_->options.host)) > 0
                         : s.bind_to_port(impl_->options.host, port);
  if (!bound) {
    return Status::IoError("Cannot listen on " + impl_->options.host + ":" +
                           std::to_string(impl_->options.port) +
                           ": the address is invalid or the port is in use");
  }
  impl_->log->Info("listening", {{"host", impl_->options.host},
                                 {"port", std::to_string(port)},
                                 {"tls", impl_->options.tls_cert.empty() ? "false" : "true"}});
  if (!s.listen_after_bind()) {
    return Status::IoError("The server stopped unexpectedly");
  }
  return Status::OK();
}

void ApiServer::Stop() {
  impl_->server->stop();
}

}  // namespace aqueducts::server

#include "server/api.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <map>
#include <memory>
#include <optional>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/crypto.h"

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
  Log* log;
  std::unique_ptr<httplib::Server> server;
  std::string dummy_hash;  // verified against when a sign-in names no user: same cost

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
  void StreamEvents(int64_t id, const httplib::Request& req, httplib::Response& res);
};

std::optional<Token> ApiServer::Impl::Authorize(const httplib::Request& req, httplib::Response& res,
                                                Role min) {
  std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
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
  Result<std::optional<User>> user = store->FindUser(name);
  if (!user.ok()) {
    SendStatus(res, user.status());
    return;
  }
  bool valid = user->has_value() ? VerifyPassword(password, (*user)->password_hash)
                                 : (VerifyPassword(password, dummy_hash), false);
  if (!valid) {
    log->Warn("sign-in failed", {{"user", name}, {"remote", req.remote_addr}});
    unauthorized("Authentication failed: unknown user or wrong password");
    return;
  }
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
           {"executor_url", r.executor_url},
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
  if (!runs) {
    SendError(res, 409, "Runs are not available on this server");
    return;
  }
  Result<Run> run = runs->Trigger(pipeline_id, version, params, who.user_name);
  if (!run.ok()) {
    int code = run.status().code() == StatusCode::kUnsupported ? 409 : HttpStatusOf(run.status());
    SendError(res, code, run.status().message());
    return;
  }
  SendJson(res, 201, RunJson(*run));
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
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto cursor = std::make_shared<int64_t>(after);
  Store* st = store;
  RunManager* mgr = runs;
  auto keepalive = std::chrono::milliseconds(options.keepalive_ms);
  res.set_chunked_content_provider(
      "text/event-stream", [st, mgr, id, cursor, keepalive](size_t, httplib::DataSink& sink) {
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
            if (nl == std::string::npos)
              break;
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
          if (mgr) {
            mgr->WaitForChange(generation, keepalive);
          }
          if (mgr == nullptr || mgr->generation() == generation) {
            static const std::string kKeepalive = ": keepalive\n\n";
            return sink.write(kKeepalive.data(), kKeepalive.size());
          }
        }
        return true;
      });
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

  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, {{"status", "ok"}, {"version", AQ_VERSION}});
  });
  s.Post("/api/v1/tokens",
         [this](const httplib::Request& req, httplib::Response& res) { CreateToken(req, res); });
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
  s.Get(R"(/api/v1/runs/([^/]+))",
        with_role(Role::kViewer, with_run_id([this](int64_t id, const httplib::Request&,
                                                    httplib::Response& res) { GetRun(id, res); })));
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
                                                   RunManager* runs, Log* log) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->store = store;
  impl->runs = runs;
  impl->log = log;
  AQ_ASSIGN_OR_RETURN(impl->dummy_hash, HashPassword("aqueducts-no-such-user"));
  impl->server = std::make_unique<httplib::Server>();
  int threads = std::max(2, options.threads);
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
  impl_->log->Info("listening", {{"host", impl_->options.host}, {"port", std::to_string(port)}});
  if (!s.listen_after_bind()) {
    return Status::IoError("The server stopped unexpectedly");
  }
  return Status::OK();
}

void ApiServer::Stop() {
  impl_->server->stop();
}

}  // namespace aqueducts::server

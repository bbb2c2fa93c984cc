#include "server/api_accounts.h"

#include <charconv>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/crypto.h"

namespace aqueducts::server {
namespace {

using json = nlohmann::json;

void Send(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  Send(res, status, json{{"error", message}});
}

void SendStatus(httplib::Response& res, const Status& s) {
  int status = 500;
  if (s.code() == StatusCode::kInvalidArgument) {
    status = 400;
  } else if (s.code() == StatusCode::kNotFound) {
    status = 404;
  } else if (s.code() == StatusCode::kConflict) {
    status = 409;
  }
  SendError(res, status, s.message());
}

std::optional<int64_t> PositiveId(const std::string& text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v <= 0) {
    return std::nullopt;
  }
  return v;
}

json TokenJson(const Token& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"user", t.user_name},
          {"role", RoleName(t.role)},
          {"created_at", t.created_at}};
}

// Field `key` of `body` as a string, `fallback` when absent or null; kInvalidArgument naming it
// when it is another type.
Result<std::string> OptionalString(const json& body, const std::string& key,
                                   const std::string& fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return fallback;
  }
  if (!it->is_string()) {
    return Status::InvalidArgument("Field \"" + key + "\" must be a string, not " +
                                   std::string(it->type_name()));
  }
  return it->get<std::string>();
}

// POST /api/v1/users/{id}/tokens: body {"name", "role"} (both optional); the token's role is at
// most the user's. The secret is in this answer only.
void CreateTokenFor(Store* store, Log* log, const Token& who, int64_t user_id,
                    const httplib::Request& req, httplib::Response& res) {
  Result<std::vector<User>> users = store->ListUsers();
  if (!users.ok()) {
    SendStatus(res, users.status());
    return;
  }
  const User* user = nullptr;
  for (const User& u : *users) {
    if (u.id == user_id) {
      user = &u;
    }
  }
  if (user == nullptr) {
    SendError(res, 404, "No user with id " + std::to_string(user_id));
    return;
  }
  json body = json::object();
  if (!req.body.empty()) {
    body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      SendError(res, 400, "Request body must be a JSON object");
      return;
    }
  }
  Result<std::string> name = OptionalString(body, "name", "api token");
  Result<std::string> role_text = OptionalString(body, "role", RoleName(user->role));
  if (!name.ok() || !role_text.ok()) {
    SendStatus(res, name.ok() ? role_text.status() : name.status());
    return;
  }
  if (name->empty() || name->size() > 200) {
    SendError(res, 400, "Field \"name\": a token name has 1 to 200 bytes");
    return;
  }
  for (unsigned char c : *name) {
    if (c < 0x20 || c == 0x7f) {
      SendError(res, 400, "Field \"name\": a token name has no control characters");
      return;
    }
  }
  Result<Role> role = ParseRole(*role_text);
  if (!role.ok()) {
    SendError(res, 400, "Field \"role\": " + role.status().message());
    return;
  }
  if (*role > user->role) {
    SendError(res, 400,
              "Field \"role\": user '" + user->name + "' has role " + RoleName(user->role) +
                  "; a token of theirs cannot have role " + RoleName(*role));
    return;
  }
  Result<std::string> secret = RandomHex(32);
  if (!secret.ok()) {
    SendStatus(res, secret.status());
    return;
  }
  std::string token_text = "aqt_" + *secret;
  Result<Token> token = store->CreateToken(user->id, *name, Sha256Hex(token_text), *role);
  if (!token.ok()) {
    SendStatus(res, token.status());
    return;
  }
  token->user_name = user->name;
  log->Info("token created",
            {{"user", user->name}, {"role", RoleName(*role)}, {"by", who.user_name}});
  json out = TokenJson(*token);
  out["token"] = token_text;
  Send(res, 201, out);
}

json UserJson(const User& u) {
  return {{"id", u.id}, {"name", u.name}, {"role", RoleName(u.role)}, {"created_at", u.created_at}};
}

// PATCH /api/v1/users/{id}: body {"role", "password"} (at least one). A new role lowers the
// user's tokens above it; a new password has 8 characters or more (the old one stops working,
// tokens are kept). The last admin keeps the admin role.
void UpdateUser(Store* store, Log* log, const Token& who, int64_t user_id,
                const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    SendError(res, 400, "Request body must be a JSON object with \"role\" and/or \"password\"");
    return;
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "role" && key != "password") {
      SendError(res, 400,
                "Field \"" + key +
                    "\" is not known: a user's \"role\" and \"password\" can be "
                    "changed");
      return;
    }
  }
  Result<std::string> role_text = OptionalString(body, "role", "");
  Result<std::string> password = OptionalString(body, "password", "");
  if (!role_text.ok() || !password.ok()) {
    SendStatus(res, role_text.ok() ? password.status() : role_text.status());
    return;
  }
  if (role_text->empty() && password->empty()) {
    SendError(res, 400, "Request body must change \"role\" and/or \"password\"");
    return;
  }
  std::optional<Role> role;
  if (!role_text->empty()) {
    Result<Role> parsed = ParseRole(*role_text);
    if (!parsed.ok()) {
      SendError(res, 400, "Field \"role\": " + parsed.status().message());
      return;
    }
    role = *parsed;
  }
  std::optional<std::string> hash;
  if (!password->empty()) {
    if (password->size() < 8) {
      SendError(res, 400, "Field \"password\": a password has at least 8 characters");
      return;
    }
    Result<std::string> hashed = HashPassword(*password);
    if (!hashed.ok()) {
      SendStatus(res, hashed.status());
      return;
    }
    hash = *hashed;
  }
  Result<User> user = store->UpdateUser(user_id, role, hash);
  if (!user.ok()) {
    SendStatus(res, user.status());
    return;
  }
  log->Info("user changed", {{"user", user->name},
                             {"role", RoleName(user->role)},
                             {"password", hash ? "changed" : "kept"},
                             {"by", who.user_name}});
  Send(res, 200, UserJson(*user));
}

using IdHandler =
    std::function<void(const Token&, int64_t, const httplib::Request&, httplib::Response&)>;

// A handler of a route whose first match is the id of a `what` ("user", "token"): an id that is
// not a positive integer is 404 "No <what> with id <text>"; otherwise `handler` gets it.
TokenHandler WithId(const std::string& what, IdHandler handler) {
  return [what, handler](const Token& who, const httplib::Request& req, httplib::Response& res) {
    std::optional<int64_t> id = PositiveId(req.matches[1]);
    if (!id) {
      SendError(res, 404, "No " + what + " with id " + std::string(req.matches[1]));
      return;
    }
    handler(who, *id, req, res);
  };
}

}  // namespace

void AddAccountRoutes(httplib::Server& s, Store* store, Log* log, const WithRole& with_role) {
  s.Get("/api/v1/tokens", with_role(Role::kAdmin, [store](const Token&, const httplib::Request&,
                                                          httplib::Response& res) {
          Result<std::vector<Token>> tokens = store->ListTokens();
          if (!tokens.ok()) {
            SendStatus(res, tokens.status());
            return;
          }
          json list = json::array();
          for (const Token& t : *tokens) {
            list.push_back(TokenJson(t));
          }
          Send(res, 200, {{"tokens", list}});
        }));
  s.Post(R"(/api/v1/users/([0-9]+)/tokens)",
         with_role(Role::kAdmin, WithId("user", [store, log](const Token& who, int64_t id,
                                                             const httplib::Request& req,
                                                             httplib::Response& res) {
                     CreateTokenFor(store, log, who, id, req, res);
                   })));
  s.Patch(R"(/api/v1/users/([^/]+))",
          with_role(Role::kAdmin, WithId("user", [store, log](const Token& who, int64_t id,
                                                              const httplib::Request& req,
                                                              httplib::Response& res) {
                      UpdateUser(store, log, who, id, req, res);
                    })));
  // Removes a user and every token of theirs (sessions included): they stop working at once.
  // The runs, pipelines and schedules they made keep their name.
  s.Delete(R"(/api/v1/users/([^/]+))",
           with_role(Role::kAdmin,
                     WithId("user", [store, log](const Token& who, int64_t id,
                                                 const httplib::Request&, httplib::Response& res) {
                       Result<User> removed = store->DeleteUser(id);
                       if (!removed.ok()) {
                         SendStatus(res, removed.status());
                         return;
                       }
                       log->Info("user removed", {{"user", removed->name}, {"by", who.user_name}});
                       res.status = 204;
                     })));
  s.Delete(
      R"(/api/v1/tokens/([0-9]+))",
      with_role(Role::kAdmin,
                WithId("token", [store, log](const Token& who, int64_t id, const httplib::Request&,
                                             httplib::Response& res) {
                  Status deleted = store->DeleteToken(id);
                  if (!deleted.ok()) {
                    SendStatus(res, deleted);
                    return;
                  }
                  log->Info("token revoked", {{"id", std::to_string(id)}, {"by", who.user_name}});
                  res.status = 204;
                })));
}

}  // namespace aqueducts::server

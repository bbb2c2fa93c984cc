#include "server/api_sessions.h"

#include <nlohmann/json.hpp>

#include "server/crypto.h"

namespace aqueducts::server {
namespace {

using json = nlohmann::json;

// The value of cookie `name` in a Cookie header ("a=1; aq_session=aqt_..."); "" when absent.
std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) {
      end = header.size();
    }
    std::string part = header.substr(pos, end - pos);
    size_t first = part.find_first_not_of(' ');
    part = first == std::string::npos ? "" : part.substr(first);
    if (part.compare(0, name.size() + 1, name + "=") == 0) {
      return part.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return "";
}

// "; Path=/api/; HttpOnly; SameSite=Strict" and "; Secure" when the browser reached the server
// over TLS: the server's own (serve --tls-cert), or a TLS-terminating proxy in front that says so
// with X-Forwarded-Proto: https.
std::string CookieAttributes(const httplib::Request& req) {
  std::string out = "; Path=/api/; HttpOnly; SameSite=Strict";
  if (req.ssl != nullptr || req.get_header_value("X-Forwarded-Proto") == "https") {
    out += "; Secure";
  }
  return out;
}

}  // namespace

std::string CsrfToken(const std::string& secret) {
  return Sha256Hex("aqueducts csrf:" + secret);
}

std::string SessionSecret(const httplib::Request& req, std::string* csrf_error) {
  if (req.has_header("Authorization")) {
    return "";
  }
  std::string secret = CookieValue(req.get_header_value("Cookie"), kSessionCookie);
  if (secret.empty()) {
    return "";
  }
  if (req.method != "GET" && req.method != "HEAD" &&
      !ConstantTimeEquals(req.get_header_value("X-CSRF-Token"), CsrfToken(secret))) {
    *csrf_error = std::string("Forbidden: ") + req.method + " " + req.path +
                  " with the browser session cookie needs the session's CSRF token in the "
                  "X-CSRF-Token header";
  }
  return secret;
}

void StartSession(const httplib::Request& req, httplib::Response& res) {
  if (res.status == 401) {
    res.headers.erase("WWW-Authenticate");
    return;
  }
  if (res.status != 201) {
    return;
  }
  json body = json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("token")) {
    return;
  }
  std::string secret = body["token"];
  body.erase("token");
  body["csrf_token"] = CsrfToken(secret);
  res.set_header("Set-Cookie", std::string(kSessionCookie) + "=" + secret + CookieAttributes(req));
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

std::string ClearSessionCookie() {
  return std::string(kSessionCookie) + "=; Path=/api/; Max-Age=0; HttpOnly; SameSite=Strict";
}

}  // namespace aqueducts::server

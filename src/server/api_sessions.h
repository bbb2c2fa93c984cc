#pragma once

// Browser sessions (docs/server-api.md, "Browser sessions"): the web UI signs in with
// POST /api/v1/sessions and is then authenticated by an HttpOnly, SameSite=Strict cookie
// holding an API token's secret, which scripts of the page cannot read. A request authenticated
// by the cookie that changes anything (any method but GET and HEAD) must also carry the
// session's CSRF token in the X-CSRF-Token header; a page of another origin can make the browser
// send the cookie but cannot know that token. API tokens in the Authorization header are
// unaffected (and win when a request carries both).

#include <string>

#include <httplib.h>

namespace aqueducts::server {

inline constexpr char kSessionCookie[] = "aq_session";

/// The CSRF token of the session whose secret is `secret` (derived: nothing more is stored).
std::string CsrfToken(const std::string& secret);

/// The session secret a request without an Authorization header carries in its cookie ("" when
/// none). For a method other than GET and HEAD whose X-CSRF-Token header is not the session's
/// CSRF token, `csrf_error` receives the 403 message.
std::string SessionSecret(const httplib::Request& req, std::string* csrf_error);

/// Turns the answer of POST /api/v1/tokens in `res` into a session's: a 201 sets the cookie
/// and answers the token's fields with `csrf_token` instead of the secret; a 401 loses its
/// WWW-Authenticate challenge, so a browser shows no password dialog of its own.
void StartSession(const httplib::Request& req, httplib::Response& res);

/// The Set-Cookie value that makes a browser forget its session cookie.
std::string ClearSessionCookie();

}  // namespace aqueducts::server

#pragma once

// The admins' account endpoints beside api.cc: every API token listed, a token created for any
// user, a token revoked, a user's role or password changed, a user removed (docs/server-api.md,
// "Users and tokens"). httplib stays inside the server's .cc files; this header is included only by
// api.cc and api_accounts.cc.

#include <functional>

#include <httplib.h>

#include "server/log.h"
#include "server/store.h"

namespace aqueducts::server {

/// A handler that runs once the request's token is known to have the role asked for.
using TokenHandler = std::function<void(const Token&, const httplib::Request&, httplib::Response&)>;
/// Wraps a TokenHandler so it runs only for a token with at least role `min` (401/403 else).
using WithRole = std::function<httplib::Server::Handler(Role min, TokenHandler handler)>;

/// Registers GET /api/v1/tokens, POST /api/v1/users/{id}/tokens, DELETE /api/v1/tokens/{id},
/// PATCH /api/v1/users/{id} and DELETE /api/v1/users/{id} (admin) on `server`. `store` and `log`
/// outlive the server.
void AddAccountRoutes(httplib::Server& server, Store* store, Log* log, const WithRole& with_role);

}  // namespace aqueducts::server

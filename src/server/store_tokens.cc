// The store's listing of API tokens (table api_tokens), for the admins' tokens page.

#include "server/store.h"
#include "server/store_sql.h"

namespace aqueducts::server {

using store_sql::Stmt;

Result<std::vector<Token>> Store::ListTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt stmt(db_.get(),
            "SELECT t.id, t.user_id, u.name, t.name, t.role, t.created_at FROM api_tokens t "
            "JOIN users u ON u.id = t.user_id ORDER BY t.id");
  AQ_RETURN_IF_ERROR(stmt.status());
  std::vector<Token> tokens;
  Status status;
  while (stmt.Step(&status)) {
    Token t;
    t.id = stmt.Int(0);
    t.user_id = stmt.Int(1);
    t.user_name = stmt.Text(2);
    t.name = stmt.Text(3);
    Result<Role> role = ParseRole(stmt.Text(4));
    t.role = role.ok() ? *role : Role::kViewer;
    t.created_at = stmt.Text(5);
    tokens.push_back(t);
  }
  AQ_RETURN_IF_ERROR(status);
  return tokens;
}

}  // namespace aqueducts::server

// The store's changes to users (table users) and, with them, their tokens (table api_tokens):
// a role or password changed, a user removed. Both keep at least one admin.

#include "server/store.h"
#include "server/store_sql.h"
#include "server/store_tx.h"

namespace aqueducts::server {

using store_sql::RunStmt;
using store_sql::Stmt;

namespace {

// User `id` (without the password hash); kNotFound when missing. The caller holds the lock.
Result<User> UserById(store_sql::Db* db, int64_t id) {
  Stmt stmt(db, "SELECT id, name, role, created_at FROM users WHERE id = ?");
  AQ_RETURN_IF_ERROR(stmt.status());
  stmt.Bind(1, id);
  Status status;
  if (!stmt.Step(&status)) {
    AQ_RETURN_IF_ERROR(status);
    return Status::NotFound("No user with id " + std::to_string(id));
  }
  User u;
  u.id = stmt.Int(0);
  u.name = stmt.Text(1);
  Result<Role> role = ParseRole(stmt.Text(2));
  u.role = role.ok() ? *role : Role::kViewer;
  u.created_at = stmt.Text(3);
  return u;
}

Result<int64_t> CountAdmins(store_sql::Db* db) {
  Stmt stmt(db, "SELECT count(*) FROM users WHERE role = 'admin'");
  AQ_RETURN_IF_ERROR(stmt.status());
  Status status;
  int64_t n = stmt.Step(&status) ? stmt.Int(0) : 0;
  AQ_RETURN_IF_ERROR(status);
  return n;
}

// kConflict when `user` is the only admin (the change would leave none).
Status CheckNotLastAdmin(store_sql::Db* db, const User& user, const std::string& change) {
  if (user.role != Role::kAdmin) {
    return Status::OK();
  }
  Result<int64_t> admins = CountAdmins(db);
  AQ_RETURN_IF_ERROR(admins.status());
  if (*admins <= 1) {
    return Status::Conflict("User '" + user.name + "' is the last admin: " + change +
                            " would leave no admin (make another user admin first)");
  }
  return Status::OK();
}

}  // namespace

Result<User> Store::UpdateUser(int64_t id, std::optional<Role> role,
                               const std::optional<std::string>& password_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  AQ_ASSIGN_OR_RETURN(User user, UserById(db_.get(), id));
  if (role && *role < Role::kAdmin) {
    AQ_RETURN_IF_ERROR(
        CheckNotLastAdmin(db_.get(), user, std::string("making them ") + RoleName(*role)));
  }
  if (role) {
    Stmt update(db_.get(), "UPDATE users SET role = ? WHERE id = ?");
    update.Bind(1, std::string(RoleName(*role))).Bind(2, id);
    AQ_RETURN_IF_ERROR(RunStmt(update));
    // Tokens above the new role come down to it (roles are ordered viewer < operator < admin).
    Stmt lower(db_.get(),
               "UPDATE api_tokens SET role = ?1 WHERE user_id = ?2 AND "
               "(CASE role WHEN 'admin' THEN 2 WHEN 'operator' THEN 1 ELSE 0 END) > ?3");
    lower.Bind(1, std::string(RoleName(*role))).Bind(2, id);
    lower.Bind(3, static_cast<int64_t>(*role));
    AQ_RETURN_IF_ERROR(RunStmt(lower));
    user.role = *role;
  }
  if (password_hash) {
    Stmt update(db_.get(), "UPDATE users SET password_hash = ? WHERE id = ?");
    update.Bind(1, *password_hash).Bind(2, id);
    AQ_RETURN_IF_ERROR(RunStmt(update));
  }
  AQ_RETURN_IF_ERROR(tx.Commit());
  return user;
}

Result<User> Store::DeleteUser(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  store_sql::Transaction tx(db_.get());  // rolled back on any return before tx.Commit()
  AQ_RETURN_IF_ERROR(tx.begun());
  AQ_ASSIGN_OR_RETURN(User user, UserById(db_.get(), id));
  AQ_RETURN_IF_ERROR(CheckNotLastAdmin(db_.get(), user, "removing them"));
  for (const char* sql :
       {"DELETE FROM api_tokens WHERE user_id = ?", "DELETE FROM users WHERE id = ?"}) {
    Stmt stmt(db_.get(), sql);
    stmt.Bind(1, id);
    AQ_RETURN_IF_ERROR(RunStmt(stmt));
  }
  AQ_RETURN_IF_ERROR(tx.Commit());
  return user;
}

}  // namespace aqueducts::server

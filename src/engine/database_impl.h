#pragma once

// The inside of aqueducts::Database (aqueducts/run.h): the engine session it owns. Included by
// the engine, the runner and distribute (a task's Delta share is a view on the database its
// partition pipeline runs on), the modules that reach the session behind a Database.

#include <memory>

#include "aqueducts/run.h"

#include "engine/session.h"

namespace aqueducts {

struct Database::Impl {
  std::unique_ptr<engine::Session> session;
};

namespace engine {

/// The session behind `database`.
inline Session& SessionOf(const Database& database) {
  return *database.impl().session;
}

}  // namespace engine
}  // namespace aqueducts

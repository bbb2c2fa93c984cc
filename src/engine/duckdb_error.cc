#include "engine/duckdb_error.h"

#include <duckdb.hpp>

namespace aqueducts::engine {

Status FromErrorData(const duckdb::ErrorData& error) {
  const std::string& message = error.Message();
  switch (error.Type()) {
    case duckdb::ExceptionType::INTERRUPT:
      return Status::Cancelled("execution cancelled: " + message);
    case duckdb::ExceptionType::OUT_OF_MEMORY:
      return Status(StatusCode::kOutOfMemory, message);
    case duckdb::ExceptionType::PARSER:
      return Status::SqlError(message);
    default:
      return Status::ExecutionError(message);
  }
}

Status FromException(const std::exception& e) {
  duckdb::ErrorData error(e);
  return FromErrorData(error);
}

Status CheckResult(duckdb::QueryResult& result) {
  for (duckdb::QueryResult* r = &result; r != nullptr; r = r->next.get()) {
    if (r->HasError()) {
      return FromErrorData(r->GetErrorObject());
    }
  }
  return Status::OK();
}

}  // namespace aqueducts::engine

// ValidateSql (run.h): every stage must hold exactly one query, checked with DuckDB's parser.

#include <duckdb.hpp>
#include <duckdb/parser/parser.hpp>

#include "aqueducts/run.h"

#include "engine/duckdb_error.h"

namespace aqueducts {
namespace {

constexpr const char* kSqlValidationId = "aqueducts::template::sql_validation_error";

Status ParseError(const Stage& stage, const std::string& detail) {
  return Status::SqlError("Failed to parse SQL in stage '" + stage.name + "': " + detail,
                          kSqlValidationId);
}

Status ValidateStage(const Stage& stage) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(stage.query);
  } catch (const std::exception& e) {
    return ParseError(stage, engine::FromException(e).message());
  }
  if (parser.statements.size() != 1) {
    return ParseError(stage, "only one query (SELECT) is allowed, got " +
                                 std::to_string(parser.statements.size()) + " statements");
  }
  // SELECT, WITH, VALUES and FROM-first queries all parse to a SelectStatement; DDL, DML, SET,
  // PRAGMA and friends are refused as in the original.
  auto type = parser.statements[0]->type;
  if (type != duckdb::StatementType::SELECT_STATEMENT) {
    return ParseError(
        stage, "only one query (SELECT) is allowed, got " + duckdb::StatementTypeToString(type));
  }
  return Status::OK();
}

}  // namespace

Status ValidateSql(const Aqueduct& aqueduct) {
  for (const auto& group : aqueduct.stages) {
    for (const auto& stage : group) {
      AQ_RETURN_IF_ERROR(ValidateStage(stage));
    }
  }
  return Status::OK();
}

}  // namespace aqueducts

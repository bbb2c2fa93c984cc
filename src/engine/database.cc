// aqueducts::Database (run.h): the public handle over an engine::Session.

#include <duckdb.hpp>

#include "aqueducts/run.h"

#include "engine/session.h"

namespace aqueducts {
namespace {

void DeleteSession(void* session) {
  delete static_cast<engine::Session*>(session);
}

engine::Session& SessionOf(void* session) {
  return *static_cast<engine::Session*>(session);
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const Options& options) {
  AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Open(options));
  std::unique_ptr<Database> database(new Database());
  database->session_ = session.release();
  database->deleter_ = &DeleteSession;
  return database;
}

Result<std::unique_ptr<Database>> Database::Wrap(duckdb::DuckDB& db) {
  AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Wrap(db));
  std::unique_ptr<Database> database(new Database());
  database->session_ = session.release();
  database->deleter_ = &DeleteSession;
  return database;
}

Database::~Database() {
  if (deleter_ != nullptr) {
    deleter_(session_);
  }
}

Status Database::Execute(const std::string& sql) {
  return SessionOf(session_).main().Execute(sql);
}

Result<Database::Rows> Database::Query(const std::string& sql) {
  return SessionOf(session_).main().Query(sql);
}

const char* Version() {
  return AQ_VERSION;
}

const char* PreviewFormatName(PreviewFormat format) {
  switch (format) {
    case PreviewFormat::kCsv:
      return "csv";
    case PreviewFormat::kJson:
      return "json";
    case PreviewFormat::kTable:
      break;
  }
  return "table";
}

bool ParsePreviewFormat(const std::string& name, PreviewFormat* format) {
  for (PreviewFormat f : {PreviewFormat::kTable, PreviewFormat::kCsv, PreviewFormat::kJson}) {
    if (name == PreviewFormatName(f)) {
      *format = f;
      return true;
    }
  }
  return false;
}

}  // namespace aqueducts

// aqueducts::Database (run.h): the public handle over an engine::Session.

#include <duckdb.hpp>

#include "aqueducts/run.h"

#include "engine/database_impl.h"

namespace aqueducts {

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(const Options& options) {
  AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Open(options));
  auto impl = std::make_unique<Impl>();
  impl->session = std::move(session);
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Result<std::unique_ptr<Database>> Database::Wrap(duckdb::DuckDB& db) {
  AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Wrap(db));
  auto impl = std::make_unique<Impl>();
  impl->session = std::move(session);
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Status Database::Execute(const std::string& sql) {
  return engine::SessionOf(*this).main().Execute(sql);
}

Result<Database::Rows> Database::Query(const std::string& sql) {
  return engine::SessionOf(*this).main().Query(sql);
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

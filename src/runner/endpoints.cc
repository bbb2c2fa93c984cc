#include "runner/endpoints.h"

#include "delta/delta.h"
#include "engine/value_text.h"
#include "io/file_destination.h"
#include "io/file_source.h"
#include "odbc/odbc.h"

namespace aqueducts::runner {
namespace {

using engine::QuoteIdent;

bool TableExists(engine::Connection& conn, const std::string& name) {
  return conn.Execute("SELECT * FROM " + QuoteIdent(name) + " LIMIT 0").ok();
}

// Each `Status` of a visitor names its element; `overloaded` dispatches on the variant.
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Object-store locations get their store (and its credentials) before anything reads them.
Status RegisterStore(engine::Session& session, const Location& location,
                     const StorageConfig& config, const std::string& prefix,
                     const std::string& id) {
  if (location.IsLocal()) {
    return Status::OK();
  }
  return session.RegisterObjectStore(location.url, config).WithPrefix(prefix, id);
}

}  // namespace

Status RegisterSource(engine::Session& session, engine::Connection& conn, const Source& source,
                      const CancelToken* cancel) {
  return std::visit(
      Overloaded{
          [&](const InMemorySource& s) -> Status {
            if (!TableExists(conn, s.name)) {
              return Status::NotFound("Source '" + s.name + "' not found in context",
                                      "aqueducts::source::not_found");
            }
            return Status::OK();
          },
          [&](const FileSource& s) -> Status {
            AQ_RETURN_IF_ERROR(RegisterStore(session, s.location, s.storage_config,
                                             "Object store error for source '" + s.name + "'. ",
                                             "aqueducts::source::object_store_error"));
            return io::RegisterFileSource(conn, s).WithPrefix(
                "Failed to register file source '" + s.name + "'. ",
                "aqueducts::source::register_file");
          },
          [&](const DirSource& s) -> Status {
            AQ_RETURN_IF_ERROR(RegisterStore(session, s.location, s.storage_config,
                                             "Object store error for source '" + s.name + "'. ",
                                             "aqueducts::source::object_store_error"));
            return io::RegisterDirSource(conn, s).WithPrefix(
                "Failed to register file source '" + s.name + "'. ",
                "aqueducts::source::register_file");
          },
          // The hooks prefix their own errors (delta.h, odbc.h).
          [&](const OdbcSource& s) -> Status {
            return odbc::RegisterOdbcSource(session, s, cancel);
          },
          [&](const DeltaSource& s) -> Status { return delta::RegisterDeltaSource(session, s); },
      },
      source);
}

Status PrepareDestination(engine::Session& session, engine::Connection& conn,
                          const Destination& destination) {
  return std::visit(
      Overloaded{
          // An existing table of that name is replaced by the write (the original's behaviour).
          [&](const InMemoryDestination&) -> Status { return Status::OK(); },
          [&](const FileDestination& d) -> Status {
            AQ_RETURN_IF_ERROR(RegisterStore(session, d.location, d.storage_config,
                                             "Object store error '" + d.name + "'. ",
                                             "aqueducts::destination::store_error"));
            return io::PrepareFileDestination(d).WithPrefix(
                "Failed to register file destination '" + d.name + "'. ",
                "aqueducts::destination::register_file_error");
          },
          [&](const OdbcDestination& d) -> Status { return odbc::PrepareOdbcDestination(d); },
          [&](const DeltaDestination& d) -> Status {
            return delta::PrepareDeltaDestination(session, d);
          },
      },
      destination);
}

Result<WriteStats> WriteDestination(engine::Session& session, engine::Connection& conn,
                                    const Destination& destination, const std::string& relation_sql,
                                    ProgressSink* sink, const CancelToken* cancel) {
  return std::visit(
      Overloaded{
          [&](const InMemoryDestination& d) -> Result<WriteStats> {
            auto rows =
                conn.Query("CREATE OR REPLACE TABLE " + QuoteIdent(d.name) + " AS " + relation_sql);
            if (!rows.ok()) {
              return rows.status().WithPrefix(
                  "Failed to write to in-memory destination '" + d.name + "'. ",
                  "aqueducts::destination::write_memory_error");
            }
            return WriteStats{engine::ReportedRowCount(*rows), -1};
          },
          [&](const FileDestination& d) -> Result<WriteStats> {
            auto written = io::WriteFileDestination(conn, d, relation_sql);
            if (!written.ok()) {
              return written.status().WithPrefix(
                  "Failed to write to file destination '" + d.name + "'. ",
                  "aqueducts::destination::write_file_error");
            }
            if (sink != nullptr) {
              for (const auto& warning : written->warnings) {
                ProgressEvent event;
                event.type = ProgressEvent::Type::kLog;
                event.name = "warn";
                event.message = "file destination '" + d.name + "': " + warning;
                sink->OnEvent(event);
              }
            }
            return WriteStats{written->rows, written->bytes};
          },
          [&](const OdbcDestination& d) -> Result<WriteStats> {
            AQ_ASSIGN_OR_RETURN(int64_t rows,
                                odbc::WriteOdbcDestination(session, d, relation_sql, sink, cancel));
            return WriteStats{rows, -1};
          },
          [&](const DeltaDestination& d) -> Result<WriteStats> {
            AQ_ASSIGN_OR_RETURN(auto stats,
                                delta::WriteDeltaDestination(session, d, relation_sql, sink));
            return WriteStats{stats.rows, stats.bytes};
          },
      },
      destination);
}

}  // namespace aqueducts::runner

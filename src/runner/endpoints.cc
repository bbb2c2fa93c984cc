#include "runner/endpoints.h"

#include "delta/delta.h"
#include "engine/value_text.h"
#include "io/connectors.h"
#include "odbc/odbc.h"

namespace aqueducts::runner {
namespace {

using connector::RunContext;
using engine::QuoteIdent;

// in_memory: a table the embedder created on the database the run uses.
class InMemorySourceKind : public connector::TypedSource<InMemorySource> {
 public:
  using TypedSource::Register;
  Status Register(const InMemorySource& source, const RunContext& ctx) const override {
    if (!ctx.conn().Execute("SELECT * FROM " + QuoteIdent(source.name) + " LIMIT 0").ok()) {
      return Status::NotFound("not found in context");
    }
    return Status::OK();
  }
};

// An existing table of that name is replaced by the write (the original's behaviour).
class InMemoryDestinationKind : public connector::TypedDestination<InMemoryDestination> {
 public:
  using TypedDestination::Prepare;
  using TypedDestination::Write;
  Status Prepare(const InMemoryDestination&, const RunContext&) const override {
    return Status::OK();
  }
  Result<connector::WriteStats> Write(const InMemoryDestination& destination, const RunContext& ctx,
                                      const std::string& relation_sql) const override {
    AQ_ASSIGN_OR_RETURN(auto rows,
                        ctx.conn().Query("CREATE OR REPLACE TABLE " + QuoteIdent(destination.name) +
                                         " AS " + relation_sql));
    return connector::WriteStats{engine::ReportedRowCount(rows), -1};
  }
};

connector::Registry MakeRegistry() {
  connector::Registry registry;
  registry.AddSource("in_memory", std::make_unique<InMemorySourceKind>(),
                     {"Source '", "' ", "aqueducts::source::not_found"});
  const connector::ErrorLabel memory_write{"Failed to write to in-memory destination '", "'. ",
                                           "aqueducts::destination::write_memory_error"};
  registry.AddDestination("in_memory", std::make_unique<InMemoryDestinationKind>(), memory_write,
                          memory_write);
  io::AddConnectors(registry);
  delta::AddConnectors(registry);
  odbc::AddConnectors(registry);
  return registry;
}

}  // namespace

const connector::Registry& Connectors() {
  static const connector::Registry registry = MakeRegistry();
  return registry;
}

Status RegisterSource(const RunContext& ctx, const Source& source) {
  const auto* entry = Connectors().FindSource(SourceTypeName(source));
  if (entry == nullptr) {
    return Status::Unsupported("source '" + SourceName(source) + "': no connector for type '" +
                               SourceTypeName(source) + "'");
  }
  return entry->on_register.Apply(entry->kind->Register(source, ctx), SourceName(source));
}

Status PrepareDestination(const RunContext& ctx, const Destination& destination) {
  const auto* entry = Connectors().FindDestination(DestinationTypeName(destination));
  if (entry == nullptr) {
    return Status::Unsupported("destination '" + DestinationName(destination) +
                               "': no connector for type '" + DestinationTypeName(destination) +
                               "'");
  }
  return entry->on_prepare.Apply(entry->kind->Prepare(destination, ctx),
                                 DestinationName(destination));
}

Result<connector::WriteStats> WriteDestination(const RunContext& ctx,
                                               const Destination& destination,
                                               const std::string& relation_sql) {
  const auto* entry = Connectors().FindDestination(DestinationTypeName(destination));
  if (entry == nullptr) {
    return Status::Unsupported("destination '" + DestinationName(destination) +
                               "': no connector for type '" + DestinationTypeName(destination) +
                               "'");
  }
  auto written = entry->kind->Write(destination, ctx, relation_sql);
  if (!written.ok()) {
    return entry->on_write.Apply(written.status(), DestinationName(destination));
  }
  return written;
}

}  // namespace aqueducts::runner

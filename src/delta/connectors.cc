#include "delta/connectors.h"

#include "delta/delta.h"
#include "delta/table_store.h"

namespace aqueducts::delta {
namespace {

using connector::RunContext;

class DeltaSourceKind : public connector::TypedSource<DeltaSource> {
 public:
  using TypedSource::Register;
  Status Register(const DeltaSource& source, const RunContext& ctx) const override {
    AQ_RETURN_IF_ERROR(RefuseLockingProvider(source.location.url, source.storage_config));
    AQ_RETURN_IF_ERROR(ctx.UseStore(source.location, source.storage_config));
    return RegisterSourceOn(ctx.conn(), source);
  }
};

class DeltaDestinationKind : public connector::TypedDestination<DeltaDestination> {
 public:
  using TypedDestination::Prepare;
  using TypedDestination::Write;
  Status Prepare(const DeltaDestination& destination, const RunContext& ctx) const override {
    AQ_RETURN_IF_ERROR(RefuseLockingProvider(destination.location.url, destination.storage_config));
    AQ_RETURN_IF_ERROR(ctx.UseStore(destination.location, destination.storage_config));
    return PrepareDestinationOn(ctx.conn(), destination);
  }
  Result<connector::WriteStats> Write(const DeltaDestination& destination, const RunContext& ctx,
                                      const std::string& relation_sql) const override {
    AQ_RETURN_IF_ERROR(RefuseLockingProvider(destination.location.url, destination.storage_config));
    AQ_RETURN_IF_ERROR(ctx.UseStore(destination.location, destination.storage_config));
    AQ_ASSIGN_OR_RETURN(WriteStats stats, WriteDelta(ctx.conn(), destination, relation_sql,
                                                     ctx.cancel(), ctx.progress()));
    return connector::WriteStats{stats.rows, stats.bytes};
  }
};

}  // namespace

void AddConnectors(connector::Registry& registry) {
  registry.AddSource("delta", std::make_unique<DeltaSourceKind>(), kSourceLabel);
  registry.AddDestination("delta", std::make_unique<DeltaDestinationKind>(), kDestinationLabel,
                          kDestinationLabel);
}

}  // namespace aqueducts::delta

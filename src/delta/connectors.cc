#include "delta/connectors.h"

#include "delta/delta.h"

namespace aqueducts::delta {
namespace {

using connector::RunContext;

class DeltaSourceKind : public connector::TypedSource<DeltaSource> {
 public:
  using TypedSource::Register;
  Status Register(const DeltaSource& source, const RunContext& ctx) const override {
    return RegisterSourceOn(ctx.conn(), source);
  }
};

class DeltaDestinationKind : public connector::TypedDestination<DeltaDestination> {
 public:
  using TypedDestination::Prepare;
  using TypedDestination::Write;
  Status Prepare(const DeltaDestination& destination, const RunContext& ctx) const override {
    return PrepareDestinationOn(ctx.conn(), destination);
  }
  Result<connector::WriteStats> Write(const DeltaDestination& destination, const RunContext& ctx,
                                      const std::string& relation_sql) const override {
    AQ_ASSIGN_OR_RETURN(WriteStats stats,
                        WriteDelta(ctx.conn(), destination, relation_sql, ctx.cancel()));
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

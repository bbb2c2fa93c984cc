#include "odbc/connectors.h"

#include "odbc/odbc.h"

namespace aqueducts::odbc {
namespace {

using connector::RunContext;

class OdbcSourceKind : public connector::TypedSource<OdbcSource> {
 public:
  using TypedSource::Register;
  Status Register(const OdbcSource& source, const RunContext& ctx) const override {
    return LoadOdbcSource(source, ctx);
  }
};

class OdbcDestinationKind : public connector::TypedDestination<OdbcDestination> {
 public:
  using TypedDestination::Prepare;
  using TypedDestination::Write;
  Status Prepare(const OdbcDestination& destination, const RunContext&) const override {
    return CheckOdbcDestination(destination);
  }
  Result<connector::WriteStats> Write(const OdbcDestination& destination, const RunContext& ctx,
                                      const std::string& relation_sql) const override {
    AQ_ASSIGN_OR_RETURN(int64_t rows, WriteOdbc(destination, relation_sql, ctx));
    return connector::WriteStats{rows, -1};
  }
};

}  // namespace

void AddConnectors(connector::Registry& registry) {
  registry.AddSource("odbc", std::make_unique<OdbcSourceKind>(), kSourceLabel);
  registry.AddDestination("odbc", std::make_unique<OdbcDestinationKind>(), kPrepareLabel,
                          kWriteLabel);
}

}  // namespace aqueducts::odbc

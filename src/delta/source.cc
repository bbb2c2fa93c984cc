// The delta source: a view over the live files of the chosen snapshot.
#include "delta/connectors.h"
#include "delta/delta.h"
#include "delta/log.h"
#include "delta/scan.h"
#include "delta/table_store.h"
#include "delta/util.h"

namespace aqueducts::delta {

Result<Snapshot> LoadSourceSnapshot(engine::Connection& conn, const DeltaSource& source,
                                    const std::string& root) {
  std::optional<int64_t> as_of_ms;
  if (!source.version && source.timestamp) {
    auto micros = ParseTimestampMicros(*source.timestamp);
    if (!micros) {
      return Status::InvalidArgument("timestamp '" + *source.timestamp +
                                     "' is not an RFC 3339 date-time");
    }
    as_of_ms = *micros / 1000;
  }
  return LoadSnapshot(conn, root, source.version, as_of_ms);
}

Status RegisterSourceOn(engine::Connection& conn, const DeltaSource& source) {
  AQ_ASSIGN_OR_RETURN(std::string root, TableRoot(source.location));
  AQ_ASSIGN_OR_RETURN(auto scope, TableStoreScope::Open(root, source.storage_config));
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LoadSourceSnapshot(conn, source, root));
  AQ_ASSIGN_OR_RETURN(std::string sql, BuildSnapshotScanSql(conn, snap));
  return conn.Execute("CREATE OR REPLACE VIEW " + engine::QuoteIdent(source.name) + " AS " + sql);
}

Status RegisterDeltaSource(engine::Session& session, const DeltaSource& source) {
  Status status = UseTableStore(session, source.location, source.storage_config);
  auto conn = session.Connect();
  if (status.ok()) {
    status = conn.ok() ? RegisterSourceOn(**conn, source) : conn.status();
  }
  return kSourceLabel.Apply(status, source.name);
}

}  // namespace aqueducts::delta

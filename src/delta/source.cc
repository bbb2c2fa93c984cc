// The delta source: a view over the live files of the chosen snapshot.
#include "delta/delta.h"
#include "delta/log.h"
#include "delta/scan.h"
#include "delta/util.h"

namespace aqueducts::delta {
namespace {

Status Register(engine::Session& session, const DeltaSource& source) {
  AQ_ASSIGN_OR_RETURN(std::string root, LocalTableRoot(source.location));
  std::optional<int64_t> as_of_ms;
  if (!source.version && source.timestamp) {
    auto micros = ParseTimestampMicros(*source.timestamp);
    if (!micros) {
      return Status::InvalidArgument("timestamp '" + *source.timestamp +
                                     "' is not an RFC 3339 date-time");
    }
    as_of_ms = *micros / 1000;
  }
  AQ_ASSIGN_OR_RETURN(auto conn, session.Connect());
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LoadSnapshot(*conn, root, source.version, as_of_ms));
  AQ_ASSIGN_OR_RETURN(std::string sql, BuildSnapshotScanSql(*conn, snap));
  return session.main().Execute("CREATE OR REPLACE VIEW " + engine::QuoteIdent(source.name) +
                                " AS " + sql);
}

}  // namespace

Status RegisterDeltaSource(engine::Session& session, const DeltaSource& source) {
  Status st = Register(session, source);
  if (!st.ok()) {
    return st.WithPrefix("Failed to register Delta source '" + source.name + "'. ",
                         "aqueducts::source::delta_error");
  }
  return Status::OK();
}

}  // namespace aqueducts::delta

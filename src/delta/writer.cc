// The delta destination: create the table, then append / replace / upsert with one commit.
#include <set>

#include "delta/commit.h"
#include "delta/connectors.h"
#include "delta/data_files.h"
#include "delta/delta.h"
#include "delta/scan.h"
#include "delta/table_create.h"
#include "delta/table_store.h"
#include "delta/util.h"
#include "delta/write_modes.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

Status CreateTable(engine::Connection& conn, const std::string& root,
                   const DeltaDestination& dest) {
  if (TableExists(root)) {
    return Status::OK();  // save mode "ignore": no schema check
  }
  // Everything is validated before the first directory is made: a refused create leaves
  // nothing behind.
  AQ_ASSIGN_OR_RETURN(NewTable plan, PlanNewTable(dest));
  const json& protocol = plan.protocol;
  CommitRequest req;
  req.operation = "CREATE TABLE";
  req.operation_parameters = {{"mode", "ErrorIfExists"},
                              {"location", root},
                              {"metadata", "{}"},
                              {"protocol", protocol.dump()}};
  req.protocol = protocol;
  req.metadata = NewMetadataAction(plan, dest);
  AQ_RETURN_IF_ERROR(MakeDirs(root));
  auto version = CommitTransaction(conn, root, req);
  if (!version.ok() && version.status().code() == StatusCode::kConflict) {
    return Status::OK();
  }
  if (version.ok()) {
    WriteVersionChecksum(root, *version, *req.metadata, protocol, 0, 0);
  }
  return version.status();
}

}  // namespace

Result<WriteStats> WriteDelta(engine::Connection& conn, const DeltaDestination& dest,
                              const std::string& relation_sql, const CancelToken* cancel,
                              connector::StepProgress* progress) {
  if (progress != nullptr) {
    progress->Phase("scanning", 0, 0);  // reading the log: its queries' percent is not the write's
  }
  AQ_ASSIGN_OR_RETURN(std::string root, TableRoot(dest.location));
  AQ_ASSIGN_OR_RETURN(auto scope, TableStoreScope::Open(root, dest.storage_config));
  AQ_RETURN_IF_ERROR(CheckCommitSafety(root, dest.storage_config));
  AQ_RETURN_IF_ERROR(CreateTable(conn, root, dest));
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LoadSnapshot(conn, root));
  AQ_RETURN_IF_ERROR(CheckWriteSupported(snap));
  WriteJob job{conn, snap, dest, "__aq_delta_in_" + NewUuid().substr(0, 8)};
  job.cancel = cancel;
  job.progress = progress;
  Status staged = StageInput(job, relation_sql);
  Result<WriteStats> result = staged.ok() ? RunWriteMode(job) : Result<WriteStats>(staged);
  (void)conn.Execute((job.streamed ? "DROP VIEW IF EXISTS " : "DROP TABLE IF EXISTS ") +
                     job.input_table);
  for (const auto& t : job.scratch_tables) {
    (void)conn.Execute("DROP TABLE IF EXISTS " + t);
  }
  return result;
}

Status PrepareDestinationOn(engine::Connection& conn, const DeltaDestination& destination) {
  AQ_ASSIGN_OR_RETURN(std::string root, TableRoot(destination.location));
  AQ_ASSIGN_OR_RETURN(auto scope, TableStoreScope::Open(root, destination.storage_config));
  AQ_RETURN_IF_ERROR(CheckCommitSafety(root, destination.storage_config));
  return CreateTable(conn, root, destination);
}

Status PrepareDeltaDestination(engine::Session& session, const DeltaDestination& destination) {
  Status status = UseTableStore(session, destination.location, destination.storage_config);
  auto conn = session.Connect();
  if (status.ok()) {
    status = conn.ok() ? PrepareDestinationOn(**conn, destination) : conn.status();
  }
  return kDestinationLabel.Apply(status, destination.name);
}

Result<WriteStats> WriteDeltaDestination(engine::Session& session,
                                         const DeltaDestination& destination,
                                         const std::string& relation_sql, ProgressSink* sink) {
  (void)sink;  // the caller reports rows/bytes from the returned stats
  if (Status use = UseTableStore(session, destination.location, destination.storage_config);
      !use.ok()) {
    return kDestinationLabel.Apply(use, destination.name);
  }
  auto conn = session.Connect();
  if (!conn.ok()) {
    return kDestinationLabel.Apply(conn.status(), destination.name);
  }
  auto stats = WriteDelta(**conn, destination, relation_sql, nullptr);
  if (!stats.ok()) {
    return kDestinationLabel.Apply(stats.status(), destination.name);
  }
  return stats;
}

}  // namespace aqueducts::delta

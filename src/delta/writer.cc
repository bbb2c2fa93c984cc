// The delta destination: create the table, then append / replace / upsert with one commit.
#include <set>

#include "delta/commit.h"
#include "delta/data_files.h"
#include "delta/delta.h"
#include "delta/scan.h"
#include "delta/util.h"
#include "delta/write_modes.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

Status CreateTable(engine::Connection& conn, const std::string& root,
                   const DeltaDestination& dest) {
  if (TableExists(root))
    return Status::OK();  // save mode "ignore": no schema check
  if (dest.schema.empty()) {
    return Status::InvalidArgument(
        "the table does not exist and `schema` is empty: list the columns to create it");
  }
  AQ_ASSIGN_OR_RETURN(json schema, SchemaJsonOf(dest.schema));
  for (const auto& p : dest.partition_columns) {
    bool found = false;
    for (const auto& f : dest.schema)
      found |= f.name == p;
    if (!found)
      return Status::InvalidArgument("partition column '" + p + "' is not in `schema`");
  }
  bool ntz = schema.dump().find("\"timestamp_ntz\"") != std::string::npos;
  json protocol = ntz ? json{{"minReaderVersion", 3},
                             {"minWriterVersion", 7},
                             {"readerFeatures", {"timestampNtz"}},
                             {"writerFeatures", {"timestampNtz"}}}
                      : json{{"minReaderVersion", 1}, {"minWriterVersion", 2}};
  json config = json::object();
  for (const auto& [k, v] : dest.table_properties) {
    if (v)
      config[k] = *v;
  }
  CommitRequest req;
  req.operation = "CREATE TABLE";
  req.operation_parameters = {{"mode", "ErrorIfExists"},
                              {"location", root},
                              {"metadata", "{}"},
                              {"protocol", protocol.dump()}};
  req.protocol = protocol;
  req.metadata = json{{"id", NewUuid()},
                      {"name", nullptr},
                      {"description", nullptr},
                      {"format", {{"provider", "parquet"}, {"options", json::object()}}},
                      {"schemaString", schema.dump()},
                      {"partitionColumns", dest.partition_columns},
                      {"createdTime", NowMillis()},
                      {"configuration", config}};
  AQ_RETURN_IF_ERROR(MakeDirs(root));
  auto version = CommitTransaction(conn, root, req);
  if (!version.ok() && version.status().code() == StatusCode::kConflict)
    return Status::OK();
  return version.status();
}

Result<WriteStats> Write(engine::Session& session, const DeltaDestination& dest,
                         const std::string& relation_sql) {
  AQ_ASSIGN_OR_RETURN(std::string root, LocalTableRoot(dest.location));
  AQ_ASSIGN_OR_RETURN(auto conn, session.Connect());
  AQ_RETURN_IF_ERROR(CreateTable(*conn, root, dest));
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LoadSnapshot(*conn, root));
  AQ_RETURN_IF_ERROR(CheckWriteSupported(snap));
  WriteJob job{*conn, snap, dest, "__aq_delta_in_" + NewUuid().substr(0, 8)};
  Status staged = StageInput(job, relation_sql);
  Result<WriteStats> result = staged.ok() ? RunWriteMode(job) : Result<WriteStats>(staged);
  (void)conn->Execute((job.streamed ? "DROP VIEW IF EXISTS " : "DROP TABLE IF EXISTS ") +
                      job.input_table);
  for (const auto& t : job.scratch_tables)
    (void)conn->Execute("DROP TABLE IF EXISTS " + t);
  return result;
}

}  // namespace

Status PrepareDeltaDestination(engine::Session& session, const DeltaDestination& destination) {
  auto root = LocalTableRoot(destination.location);
  Status st = root.status();
  if (st.ok()) {
    auto conn = session.Connect();
    st = conn.ok() ? CreateTable(**conn, *root, destination) : conn.status();
  }
  if (!st.ok()) {
    return st.WithPrefix("Delta destination '" + destination.name + "': ",
                         "aqueducts::destination::delta_error");
  }
  return Status::OK();
}

Result<WriteStats> WriteDeltaDestination(engine::Session& session,
                                         const DeltaDestination& destination,
                                         const std::string& relation_sql, ProgressSink* sink) {
  (void)sink;  // the runner reports rows/bytes from the returned stats
  auto stats = Write(session, destination, relation_sql);
  if (!stats.ok()) {
    return stats.status().WithPrefix("Delta destination '" + destination.name + "': ",
                                     "aqueducts::destination::delta_error");
  }
  return stats;
}

}  // namespace aqueducts::delta

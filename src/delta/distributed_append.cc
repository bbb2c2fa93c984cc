// WriteAppendPart and CommitAppendParts (delta/distributed_append.h).

#include "delta/distributed_append.h"

#include "delta/commit.h"
#include "delta/data_files.h"
#include "delta/util.h"
#include "delta/write_modes.h"

namespace aqueducts::delta {
namespace {

Result<Snapshot> LocalSnapshot(engine::Connection& conn, const DeltaDestination& destination,
                               int64_t version) {
  if (!destination.location.IsLocal()) {
    return Status::Unsupported("Delta destination '" + destination.name + "' at '" +
                               destination.location.url +
                               "': a distributed append commits to local Delta tables only");
  }
  AQ_ASSIGN_OR_RETURN(std::string root, TableRoot(destination.location));
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LoadSnapshot(conn, root, version));
  AQ_RETURN_IF_ERROR(CheckWriteSupported(snap));
  return snap;
}

// `rel` with its file name prefixed: "a=1/part-0.parquet" -> "a=1/<prefix>-part-0.parquet".
std::string Prefixed(const std::string& rel, const std::string& prefix) {
  size_t slash = rel.rfind('/');
  size_t name = slash == std::string::npos ? 0 : slash + 1;
  return rel.substr(0, name) + prefix + "-" + rel.substr(name);
}

}  // namespace

Result<AppendPart> WriteAppendPart(engine::Connection& conn, const DeltaDestination& destination,
                                   int64_t version, const std::string& relation_sql,
                                   const std::string& out_dir, const std::string& name_prefix) {
  if (destination.write_mode.operation != DeltaWriteMode::Operation::kAppend) {
    return Status::Unsupported(
        "Delta destination '" + destination.name + "' at '" + destination.location.url +
        "': a distributed Delta write is an append, not " +
        (destination.write_mode.operation == DeltaWriteMode::Operation::kUpsert ? "an upsert"
                                                                                : "a replace"));
  }
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LocalSnapshot(conn, destination, version));
  // The files go under out_dir, laid out as under the table root.
  snap.root = StripTrailingSlashes(out_dir);
  AQ_RETURN_IF_ERROR(MakeDirs(snap.root));
  WriteJob job{conn, snap, destination, "__aq_delta_part_" + NewUuid().substr(0, 8)};
  auto write = [&]() -> Result<WrittenFiles> {
    AQ_RETURN_IF_ERROR(StageInput(job, relation_sql));
    // Rows in = rows in the new files, checked inside WriteDataFiles (-1: what the COPY read,
    // for a streamed unpartitioned input).
    int64_t rows_in = -1;
    if (!job.streamed) {
      AQ_ASSIGN_OR_RETURN(auto counted, conn.Query("SELECT count(*) FROM " + job.input_table));
      rows_in = std::stoll(counted.rows.at(0).at(0).value_or("0"));
    }
    return WriteDataFiles(conn, snap, "SELECT * FROM " + job.input_table, rows_in);
  };
  Result<WrittenFiles> written = write();
  (void)conn.Execute((job.streamed ? "DROP VIEW IF EXISTS " : "DROP TABLE IF EXISTS ") +
                     job.input_table);
  if (!written.ok()) {
    return written.status();
  }
  AppendPart part;
  part.rows = written->rows;
  for (size_t i = 0; i < written->adds.size(); i++) {
    FileAction add = written->adds[i];
    std::string renamed = Prefixed(add.path, name_prefix);
    Status moved = RenamePath(snap.root + "/" + add.path, snap.root + "/" + renamed);
    if (!moved.ok()) {
      RemoveFiles(written->paths);
      (void)RemoveTree(snap.root);
      return moved.WithPrefix("cannot name a new data file after its writer: ");
    }
    add.path = renamed;
    part.adds.push_back(std::move(add));
  }
  return part;
}

Result<WriteStats> CommitAppendParts(engine::Connection& conn, const DeltaDestination& destination,
                                     int64_t version,
                                     const std::vector<std::pair<std::string, AppendPart>>& parts,
                                     int64_t rows, const CancelToken* cancel) {
  AQ_ASSIGN_OR_RETURN(Snapshot snap, LocalSnapshot(conn, destination, version));
  WrittenFiles files;
  for (const auto& [dir, part] : parts) {
    files.adds.insert(files.adds.end(), part.adds.begin(), part.adds.end());
    files.rows += part.rows;
  }
  // The rows the writers reported must be the rows their files' stats hold.
  AQ_RETURN_IF_ERROR(CheckRowsWritten(rows, files.adds));
  if (files.rows != rows) {
    return Status::IoError("the writers reported " + std::to_string(rows) +
                           " rows but their parts hold " + std::to_string(files.rows) +
                           "; nothing was committed");
  }
  for (const auto& [dir, part] : parts) {
    for (const FileAction& add : part.adds) {
      std::string to = snap.root + "/" + add.path;
      size_t slash = add.path.rfind('/');
      Status moved = slash == std::string::npos
                         ? Status::OK()
                         : MakeDirs(snap.root + "/" + add.path.substr(0, slash));
      if (moved.ok()) {
        moved = RenamePath(StripTrailingSlashes(dir) + "/" + add.path, to);
      }
      if (!moved.ok()) {
        RemoveFiles(files.paths);
        return moved.WithPrefix("cannot move a new data file into the table: ");
      }
      files.paths.push_back(to);
      files.bytes += add.size;
    }
  }
  WriteJob job{conn, snap, destination, ""};
  job.cancel = cancel;
  CommitRequest request;
  request.operation = "WRITE";
  request.operation_parameters = {{"mode", "Append"}};
  return CommitWrittenFiles(job, files, {}, std::move(request), rows);
}

}  // namespace aqueducts::delta

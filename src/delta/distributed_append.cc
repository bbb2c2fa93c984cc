// WriteAppendPart and CommitAppendParts (delta/distributed_append.h).

#include "delta/distributed_append.h"

#include <filesystem>

#include "delta/commit.h"
#include "delta/data_files.h"
#include "delta/table_create.h"
#include "delta/util.h"
#include "delta/write_modes.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

std::string Where(const DeltaDestination& destination) {
  return "Delta destination '" + destination.name + "' at '" + destination.location.url + "'";
}

Result<std::string> LocalRoot(const DeltaDestination& destination) {
  if (!destination.location.IsLocal()) {
    return Status::Unsupported(Where(destination) +
                               ": a distributed write commits to local Delta tables only");
  }
  return TableRoot(destination.location);
}

// The snapshot of the table `new_table` (NewTableJson) describes, before its first commit.
Result<Snapshot> NewTableSnapshot(const std::string& root, const DeltaDestination& destination,
                                  const json& new_table) {
  if (!new_table.is_object() || !new_table.contains("protocol") || !new_table.contains("schema") ||
      !new_table.contains("configuration")) {
    return Status::Internal(Where(destination) + ": no description of the table to create");
  }
  NewTable plan{new_table["protocol"], new_table["schema"], new_table["configuration"]};
  return SnapshotOfActions(root, -1,
                           {json{{"protocol", plan.protocol}},
                            json{{"metaData", NewMetadataAction(plan, destination)}}});
}

// The table's snapshot at `version` (>= 0), or the new table's (-1).
Result<Snapshot> WriterSnapshot(engine::Connection& conn, const DeltaDestination& destination,
                                int64_t version) {
  AQ_ASSIGN_OR_RETURN(std::string root, LocalRoot(destination));
  Snapshot snap;
  if (version < 0) {
    AQ_ASSIGN_OR_RETURN(json new_table, NewTableJson(destination));
    AQ_ASSIGN_OR_RETURN(snap, NewTableSnapshot(root, destination, new_table));
  } else {
    AQ_ASSIGN_OR_RETURN(snap, LoadSnapshot(conn, root, version));
  }
  AQ_RETURN_IF_ERROR(CheckWriteSupported(snap));
  return snap;
}

// `rel` with its file name prefixed: "a=1/part-0.parquet" -> "a=1/<prefix>-part-0.parquet".
std::string Prefixed(const std::string& rel, const std::string& prefix) {
  size_t slash = rel.rfind('/');
  size_t name = slash == std::string::npos ? 0 : slash + 1;
  return rel.substr(0, name) + prefix + "-" + rel.substr(name);
}

bool IsReplace(const DeltaDestination& destination) {
  return destination.write_mode.operation == DeltaWriteMode::Operation::kReplace;
}

// Move the parts' files into the table root; `files` gets each moved file's path (so a failure
// can delete them), its adds and bytes.
Status MoveParts(const std::string& root,
                 const std::vector<std::pair<std::string, AppendPart>>& parts,
                 WrittenFiles* files) {
  for (const auto& [dir, part] : parts) {
    for (const FileAction& add : part.adds) {
      std::string to = root + "/" + add.path;
      size_t slash = add.path.rfind('/');
      Status moved =
          MakeDirs(slash == std::string::npos ? root : root + "/" + add.path.substr(0, slash));
      if (moved.ok()) {
        moved = RenamePath(StripTrailingSlashes(dir) + "/" + add.path, to);
      }
      if (!moved.ok()) {
        return moved.WithPrefix("cannot move a new data file into the table: ");
      }
      files->paths.push_back(to);
      files->bytes += add.size;
    }
  }
  return Status::OK();
}

// After a failed commit: the moved files go, and so do the directories that held only them
// (partition directories, and the root of a table this write was creating when `made_root`).
void RemoveMoved(const std::string& root, const std::vector<std::string>& paths, bool made_root) {
  namespace fs = std::filesystem;
  RemoveFiles(paths);
  std::error_code ignored;
  for (const auto& path : paths) {
    for (fs::path dir = fs::path(path).parent_path();
         dir.string().size() > root.size() && dir.string().rfind(root, 0) == 0;
         dir = dir.parent_path()) {
      fs::remove(dir, ignored);  // only when empty
    }
  }
  if (made_root) {
    fs::remove(fs::path(root) / "_delta_log", ignored);  // only when empty
    fs::remove(root, ignored);
  }
}

// Commit the moved `files` to the table at `snap` (an append, or a replace of its live files).
// The files are never deleted here (files.paths is empty): the caller does that on failure.
Result<WriteStats> CommitToSnapshot(engine::Connection& conn, const DeltaDestination& destination,
                                    const Snapshot& snap, const WrittenFiles& files, int64_t rows,
                                    const CancelToken* cancel) {
  AQ_RETURN_IF_ERROR(CheckWriteSupported(snap));
  WriteJob job{conn, snap, destination, ""};
  job.cancel = cancel;
  CommitRequest request;
  request.operation = "WRITE";
  std::vector<const FileAction*> removed;
  if (!IsReplace(destination)) {
    request.operation_parameters = {{"mode", "Append"}};
    return CommitWrittenFiles(job, files, removed, std::move(request), rows);
  }
  // A replace without conditions, as a local one: every live file goes, and a concurrent commit
  // that removed or added files in what it read (the whole table, or the partitions of the
  // removed files) is a conflict.
  for (const FileAction& file : snap.files) {
    removed.push_back(&file);
  }
  if (!removed.empty() && snap.metadata.Config("delta.appendOnly") == "true") {
    return Status::InvalidArgument(
        "the table is append-only (delta.appendOnly=true): WRITE would remove files");
  }
  if (!removed.empty() && snap.metadata.Config("delta.enableChangeDataFeed") == "true") {
    return Status::Unsupported(
        "rewriting files of a table with delta.enableChangeDataFeed=true is not supported");
  }
  request.operation_parameters = {{"mode", "Overwrite"}, {"predicate", "true"}};
  request.read_whole_table = snap.metadata.partition_columns.empty();
  for (const FileAction* file : removed) {
    request.removes.push_back(RemoveAction(*file));
    request.read_files.insert(file->path);
    request.read_partitions.insert(PartitionKey(file->partition_values));
  }
  return CommitWrittenFiles(job, files, removed, std::move(request), rows);
}

// The first commit of a new table: protocol, metaData and the adds, at version 0 by
// put-if-absent. When the table appeared meanwhile, the write goes to its latest version if it
// has the same schema and partition columns.
Result<WriteStats> CommitNewTable(engine::Connection& conn, const DeltaDestination& destination,
                                  const std::string& root, const json& new_table,
                                  const WrittenFiles& files, int64_t rows,
                                  const CancelToken* cancel) {
  if (!TableExists(root)) {
    AQ_ASSIGN_OR_RETURN(Snapshot fresh, NewTableSnapshot(root, destination, new_table));
    WriteJob job{conn, fresh, destination, ""};
    job.cancel = cancel;
    CommitRequest request;
    request.operation = "WRITE";
    request.operation_parameters = {{"mode", IsReplace(destination) ? "Overwrite" : "Append"}};
    request.protocol = new_table["protocol"];
    request.metadata = fresh.metadata.raw;
    Result<WriteStats> created = Status::Internal("not committed");
    if (!files.adds.empty()) {
      created = CommitWrittenFiles(job, files, {}, std::move(request), rows);
    } else if (cancel != nullptr && cancel->cancelled()) {
      return Status::Cancelled("Delta write cancelled before its commit");
    } else {
      // No rows: the table is still created, as a local run creates it.
      auto version = CommitTransaction(conn, root, request);
      if (version.ok()) {
        WriteVersionChecksum(root, *version, fresh.metadata.raw, new_table["protocol"], 0, 0);
        WriteStats stats;
        stats.version = *version;
        return stats;
      }
      created = version.status();
    }
    if (created.ok() || created.status().code() != StatusCode::kConflict || !TableExists(root)) {
      return created;
    }
  }
  AQ_ASSIGN_OR_RETURN(Snapshot now, LoadSnapshot(conn, root));
  json schema;
  try {
    schema = json::parse(now.metadata.schema_string);
  } catch (const std::exception&) {
  }
  if (schema != new_table["schema"] ||
      now.metadata.partition_columns != destination.partition_columns) {
    return Status::Conflict("the Delta table at '" + root +
                                "' was created by another writer during this run, with another "
                                "schema or other partition columns than this run's files; "
                                "nothing was committed; re-run the pipeline",
                            "aqueducts::delta::conflict");
  }
  return CommitToSnapshot(conn, destination, now, files, rows, cancel);
}

}  // namespace

Result<json> NewTableJson(const DeltaDestination& destination) {
  AQ_ASSIGN_OR_RETURN(NewTable plan, PlanNewTable(destination));
  return json{
      {"protocol", plan.protocol}, {"schema", plan.schema}, {"configuration", plan.configuration}};
}

bool WritableByParts(const DeltaDestination& destination) {
  switch (destination.write_mode.operation) {
    case DeltaWriteMode::Operation::kAppend:
      return true;
    case DeltaWriteMode::Operation::kReplace:
      return destination.write_mode.replace_conditions.empty();
    case DeltaWriteMode::Operation::kUpsert:
      return false;
  }
  return false;
}

Result<AppendPart> WriteAppendPart(engine::Connection& conn, const DeltaDestination& destination,
                                   int64_t version, const std::string& relation_sql,
                                   const std::string& out_dir, const std::string& name_prefix) {
  if (!WritableByParts(destination)) {
    return Status::Unsupported(
        Where(destination) +
        ": a distributed Delta write is an append or a replace without conditions, not " +
        (IsReplace(destination) ? "a replace with conditions" : "an upsert"));
  }
  AQ_ASSIGN_OR_RETURN(Snapshot snap, WriterSnapshot(conn, destination, version));
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
                                     int64_t rows, const CancelToken* cancel,
                                     const json& new_table) {
  AQ_ASSIGN_OR_RETURN(std::string root, LocalRoot(destination));
  root = StripTrailingSlashes(root);
  WrittenFiles files;
  for (const auto& [dir, part] : parts) {
    files.adds.insert(files.adds.end(), part.adds.begin(), part.adds.end());
    files.rows += part.rows;
  }
  // The rows the writers reported must be the rows their files' stats hold.
  AQ_RETURN_IF_ERROR(CheckRowsWritten(rows, files.adds).WithPrefix(Where(destination) + ": "));
  if (files.rows != rows) {
    return Status::IoError(Where(destination) + ": the writers reported " + std::to_string(rows) +
                           " rows but their parts hold " + std::to_string(files.rows) +
                           "; nothing was committed");
  }
  bool made_root = version < 0 && !PathExists(root);
  Status moved = MoveParts(root, parts, &files);
  if (!moved.ok()) {
    RemoveMoved(root, files.paths, made_root);
    return moved;
  }
  // CommitWrittenFiles deletes nothing (no paths): a new table's lost race still needs them.
  WrittenFiles kept = files;
  kept.paths.clear();
  Result<WriteStats> committed = Status::Internal("not committed");
  if (version < 0) {
    committed = CommitNewTable(conn, destination, root, new_table, kept, rows, cancel);
  } else {
    auto snap = LoadSnapshot(conn, root, version);
    committed = snap.ok() ? CommitToSnapshot(conn, destination, *snap, kept, rows, cancel)
                          : Result<WriteStats>(snap.status());
  }
  if (!committed.ok()) {
    RemoveMoved(root, files.paths, made_root);
  }
  return committed;
}

}  // namespace aqueducts::delta

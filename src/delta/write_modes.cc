#include "delta/write_modes.h"

#include <map>
#include <set>

#include "delta/commit.h"
#include "delta/data_files.h"
#include "delta/scan.h"
#include "delta/util.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

std::string Q(const std::string& ident) {
  return engine::QuoteIdent(ident);
}

std::set<std::string> PartitionCols(const Snapshot& snap) {
  return {snap.metadata.partition_columns.begin(), snap.metadata.partition_columns.end()};
}

}  // namespace

json RemoveAction(const FileAction& f) {
  json rm = {{"path", f.raw.value("path", PercentEncodePath(f.path))},
             {"deletionTimestamp", NowMillis()},
             {"dataChange", true},
             {"extendedFileMetadata", true},
             {"partitionValues",
              f.raw.contains("partitionValues") ? f.raw["partitionValues"] : json::object()},
             {"size", f.size}};
  if (f.raw.contains("deletionVector") && !f.raw["deletionVector"].is_null()) {
    rm["deletionVector"] = f.raw["deletionVector"];
  }
  if (f.stats) {
    rm["stats"] = *f.stats;
  }
  return rm;
}

void EnterPhase(const WriteJob& job, WritePhase phase) {
  if (job.progress == nullptr) {
    return;
  }
  switch (phase) {
    case WritePhase::kScanning:
      job.progress->Phase("scanning", 0, job.streamed ? 0 : 35);
      return;
    case WritePhase::kScanningTable:
      job.progress->Phase("scanning", 35, 50);
      return;
    case WritePhase::kWriting:
      job.progress->Phase("writing files", job.streamed ? 0 : 50, 95);
      return;
    case WritePhase::kCommitting:
      job.progress->Phase("committing", 95, 100);
      return;
  }
}

namespace {

Result<int64_t> CountRows(engine::Connection& conn, const std::string& sql) {
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT count(*) FROM (" + sql + ") AS __aq_c"));
  return std::stoll(rows.rows.at(0).at(0).value_or("0"));
}

}  // namespace

Result<WriteStats> WriteAndCommit(WriteJob& job, const std::string& data_sql,
                                  const std::vector<const FileAction*>& removed, CommitRequest req,
                                  int64_t input_rows) {
  const Snapshot& snap = job.snap;
  if (!removed.empty() && snap.metadata.Config("delta.appendOnly") == "true") {
    return Status::InvalidArgument("the table is append-only (delta.appendOnly=true): " +
                                   req.operation + " would remove files");
  }
  for (const FileAction* f : removed) {
    if (snap.metadata.Config("delta.enableChangeDataFeed") == "true") {
      return Status::Unsupported(
          "rewriting files of a table with delta.enableChangeDataFeed=true is not supported");
    }
    req.removes.push_back(RemoveAction(*f));
    req.read_files.insert(f->path);
  }
  // Rows in = rows in the new files, checked inside WriteDataFiles before anything commits.
  int64_t rows_in = -1;  // streamed: what the COPY read
  EnterPhase(job, WritePhase::kWriting);
  if (!job.streamed) {
    AQ_ASSIGN_OR_RETURN(rows_in, CountRows(job.conn, data_sql));
  }
  auto written = WriteDataFiles(job.conn, snap, data_sql, rows_in);
  if (!written.ok()) {
    return job.streamed ? written.status().WithPrefix("cannot write the data: ") : written.status();
  }
  return CommitWrittenFiles(job, *written, removed, std::move(req), input_rows);
}

Result<WriteStats> CommitWrittenFiles(WriteJob& job, const WrittenFiles& files,
                                      const std::vector<const FileAction*>& removed,
                                      CommitRequest req, int64_t input_rows) {
  const Snapshot& snap = job.snap;
  WriteStats stats;
  stats.rows = input_rows >= 0 ? input_rows : files.rows;
  stats.bytes = files.bytes;
  stats.files_added = int64_t(files.adds.size());
  stats.files_removed = int64_t(removed.size());
  stats.version = snap.version;
  if (files.adds.empty() && removed.empty()) {
    return stats;  // nothing changes: no commit
  }
  for (const FileAction& a : files.adds) {
    req.read_partitions.insert(PartitionKey(a.partition_values));
  }
  req.adds = files.adds;
  req.read_version = snap.version;
  req.checkpoint_interval =
      std::atoll(snap.metadata.Config("delta.checkpointInterval", "100").c_str());
  req.operation_metrics["num_added_files"] = files.adds.size();
  req.operation_metrics["num_removed_files"] = removed.size();
  req.operation_metrics["num_added_rows"] = files.rows;
  if (!snap.metadata.partition_columns.empty()) {
    req.operation_parameters["partitionBy"] = json(snap.metadata.partition_columns).dump();
  }
  if (job.cancel != nullptr && job.cancel->cancelled()) {
    RemoveFiles(files.paths);
    return Status::Cancelled("Delta write cancelled before its commit");
  }
  EnterPhase(job, WritePhase::kCommitting);
  auto version = CommitTransaction(job.conn, snap.root, req);
  if (!version.ok()) {
    RemoveFiles(files.paths);
    return version.status();
  }
  stats.version = *version;
  if (*version == snap.version + 1) {
    // No other commit came between: the new state is the snapshot read, minus our removes,
    // plus our adds, so the version checksum is exact.
    int64_t num_files = int64_t(snap.files.size() - removed.size() + files.adds.size());
    int64_t size = 0;
    for (const FileAction& f : snap.files) {
      size += f.size;
    }
    for (const FileAction* f : removed) {
      size -= f->size;
    }
    for (const FileAction& a : files.adds) {
      size += a.size;
    }
    WriteVersionChecksum(snap.root, *version, snap.metadata.raw, snap.protocol.ToJson(), num_files,
                         size);
  }
  return stats;
}

namespace {

Result<WriteStats> Append(WriteJob& job, int64_t input_rows) {
  CommitRequest req;
  req.operation = "WRITE";
  req.operation_parameters = {{"mode", "Append"}};
  return WriteAndCommit(job, "SELECT * FROM " + job.input_table, {}, std::move(req), input_rows);
}

// Files whose partition values satisfy `predicate` (over partition columns only).
Result<std::vector<const FileAction*>> FilesMatchingPartitions(engine::Connection& conn,
                                                               const Snapshot& snap,
                                                               const std::string& predicate) {
  std::vector<const FileAction*> out;
  if (snap.files.empty()) {
    return out;
  }
  std::string values, names = "__aq_i";
  for (const auto& p : snap.metadata.partition_columns) {
    names += ", " + Q(p);
  }
  for (size_t i = 0; i < snap.files.size(); ++i) {
    const FileAction& f = snap.files[i];
    values += (i ? ", (" : "(") + std::to_string(i);
    for (const auto& p : snap.metadata.partition_columns) {
      const DeltaField* field = snap.schema.Find(p);
      auto it = f.partition_values.find(field->physical_name);
      std::optional<std::string> v = it == f.partition_values.end() ? std::nullopt : it->second;
      AQ_ASSIGN_OR_RETURN(std::string lit, PartitionValueLiteral(field->type, v));
      values += ", " + lit;
    }
    values += ")";
  }
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT __aq_i FROM (VALUES " + values + ") AS v(" +
                                            names + ") WHERE " + predicate));
  for (const auto& r : rows.rows) {
    out.push_back(&snap.files[std::stoul(*r[0])]);
  }
  return out;
}

// Drop files whose min/max stats prove that no row can equal a condition's value.
Result<std::vector<const FileAction*>> PruneByStats(engine::Connection& conn, const Snapshot& snap,
                                                    const std::vector<const FileAction*>& files,
                                                    const std::vector<ReplaceCondition>& conds) {
  std::vector<const DeltaField*> fields;
  std::string names = "__aq_i", where;
  for (const auto& c : conds) {
    const DeltaField* f = snap.schema.Find(c.column);
    if (!PrunableByStats(f->type)) {
      continue;
    }
    AQ_ASSIGN_OR_RETURN(std::string type, DuckDbType(f->type));
    std::string n = std::to_string(fields.size());
    names += ", mn" + n + ", mx" + n;
    where += std::string(where.empty() ? "" : " AND ") + "(mn" + n + " IS NULL OR mx" + n +
             " IS NULL OR TRY_CAST(" + engine::QuoteLiteral(c.value) + " AS " + type +
             ") BETWEEN mn" + n + " AND mx" + n + ")";
    fields.push_back(f);
  }
  if (fields.empty() || files.empty()) {
    return files;
  }
  std::string values;
  for (size_t i = 0; i < files.size(); ++i) {
    json stats = files[i]->ParsedStats();
    values += (i ? ", (" : "(") + std::to_string(i);
    for (const DeltaField* f : fields) {
      AQ_ASSIGN_OR_RETURN(std::string mn, StatLiteral(stats, "minValues", *f));
      AQ_ASSIGN_OR_RETURN(std::string mx, StatLiteral(stats, "maxValues", *f));
      values += ", " + mn + ", " + mx;
    }
    values += ")";
  }
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT __aq_i FROM (VALUES " + values + ") AS v(" +
                                            names + ") WHERE " + where));
  std::vector<const FileAction*> out;
  for (const auto& r : rows.rows) {
    out.push_back(files[std::stoul(*r[0])]);
  }
  return out;
}

Result<WriteStats> Replace(WriteJob& job, int64_t input_rows) {
  const Snapshot& snap = job.snap;
  const auto& conds = job.dest.write_mode.replace_conditions;
  std::set<std::string> pcols = PartitionCols(snap);
  std::vector<ReplaceCondition> part_conds, data_conds;
  for (const auto& c : conds) {
    if (!snap.schema.Find(c.column)) {
      return Status::InvalidArgument("replace condition column '" + c.column +
                                     "' is not in the table schema");
    }
    (pcols.count(c.column) ? part_conds : data_conds).push_back(c);
  }
  std::string predicate = BuildReplacePredicate(conds);
  AQ_ASSIGN_OR_RETURN(int64_t bad,
                      CountRows(job.conn, "SELECT 1 FROM " + job.input_table +
                                              " WHERE NOT coalesce((" + predicate + "), false)"));
  if (bad > 0) {
    return Status::InvalidArgument(std::to_string(bad) +
                                   " incoming rows do not satisfy the replace condition " +
                                   predicate + "; every written row must match it");
  }
  std::vector<const FileAction*> candidates;
  if (part_conds.empty()) {
    for (const auto& f : snap.files) {
      candidates.push_back(&f);
    }
  } else {
    AQ_ASSIGN_OR_RETURN(candidates,
                        FilesMatchingPartitions(job.conn, snap, BuildReplacePredicate(part_conds)));
  }
  AQ_ASSIGN_OR_RETURN(candidates, PruneByStats(job.conn, snap, candidates, data_conds));
  std::vector<const FileAction*> removed = candidates;
  if (!data_conds.empty() && !candidates.empty()) {
    // Only files holding matching rows are rewritten; their other rows are kept. The first
    // scan reads just the predicate's columns (DuckDB prunes the rest).
    AQ_ASSIGN_OR_RETURN(std::string scan, BuildScanSql(job.conn, snap, candidates, true));
    AQ_ASSIGN_OR_RETURN(
        auto rows, job.conn.Query(std::string("SELECT DISTINCT ") + kFileColumn + " FROM (" + scan +
                                  ") AS __aq_old WHERE " + predicate));
    std::set<std::string> matched;
    for (const auto& r : rows.rows) {
      matched.insert(r[0].value_or(""));
    }
    removed.clear();
    for (const FileAction* f : candidates) {
      if (matched.count(f->FullPath(snap.root))) {
        removed.push_back(f);
      }
    }
    if (!removed.empty()) {
      AQ_ASSIGN_OR_RETURN(std::string kept, BuildScanSql(job.conn, snap, removed, false));
      AQ_RETURN_IF_ERROR(job.conn.Execute("INSERT INTO " + job.input_table + " SELECT * FROM (" +
                                          kept + ") AS __aq_old WHERE NOT coalesce((" + predicate +
                                          "), false)"));
    }
  }
  CommitRequest req;
  req.operation = "WRITE";
  req.operation_parameters = {{"mode", "Overwrite"}, {"predicate", predicate}};
  req.read_whole_table = pcols.empty();
  for (const FileAction* f : candidates) {
    req.read_partitions.insert(PartitionKey(f->partition_values));
  }
  return WriteAndCommit(job, "SELECT * FROM " + job.input_table, removed, std::move(req),
                        input_rows);
}

}  // namespace

std::string BuildReplacePredicate(const std::vector<ReplaceCondition>& conditions) {
  if (conditions.empty()) {
    return "true";
  }
  std::string out;
  for (const auto& c : conditions) {
    out += (out.empty() ? "" : " AND ") + Q(c.column) + " = " + engine::QuoteLiteral(c.value);
  }
  return out;
}

Status StageInput(WriteJob& job, const std::string& relation_sql) {
  bool all_nullable = true;
  for (const DeltaField& f : job.snap.schema.fields) {
    all_nullable &= f.nullable;
  }
  job.streamed = job.dest.write_mode.operation == DeltaWriteMode::Operation::kAppend &&
                 job.snap.metadata.partition_columns.empty() && all_nullable;
  EnterPhase(job, WritePhase::kScanning);
  AQ_ASSIGN_OR_RETURN(auto desc,
                      job.conn.Query("DESCRIBE SELECT * FROM (" + relation_sql + ") AS __aq_src"));
  std::map<std::string, std::string> have;  // name -> DuckDB type
  std::string have_list;
  for (const auto& r : desc.rows) {
    have[r[0].value_or("")] = r[1].value_or("");
    have_list += (have_list.empty() ? "" : ", ") + r[0].value_or("");
  }
  std::string casts;
  std::set<std::string> pcols = PartitionCols(job.snap);
  for (const DeltaField& f : job.snap.schema.fields) {
    if (!have.count(f.name)) {
      return Status::InvalidArgument(
          "column '" + f.name +
          "' of the table schema is missing from the data (the data has: " + have_list + ")");
    }
    AQ_ASSIGN_OR_RETURN(std::string type, DuckDbType(f.type));
    const std::string& from = have[f.name];
    bool zoneless = from.rfind("TIMESTAMP", 0) == 0 && from.find("TIME ZONE") == std::string::npos;
    std::string expr = "CAST(" + Q(f.name) + " AS " + type + ")";
    // Zone-less input for an instant column (and back) is taken as UTC, not as the session's
    // time zone, so the written instants do not depend on where the pipeline runs.
    if (type == "TIMESTAMPTZ" && zoneless) {
      expr = "timezone('UTC', CAST(" + Q(f.name) + " AS TIMESTAMP))";
    }
    if (type == "TIMESTAMP" && from == "TIMESTAMP WITH TIME ZONE") {
      expr = "timezone('UTC', " + Q(f.name) + ")";
    }
    // An empty partition value is logged as null (the protocol reads "" as null), so '' in a
    // partition column is NULL from here on: upsert keys, replace checks and row counts agree
    // with what the table will hold.
    if (pcols.count(f.name) && (type == "VARCHAR" || type == "BLOB")) {
      expr = "NULLIF(" + expr + ", CAST('' AS " + type + "))";
    }
    casts += (casts.empty() ? "" : ", ") + (expr + " AS " + Q(f.name));
  }
  Status st = job.conn.Execute(std::string("CREATE TEMP ") + (job.streamed ? "VIEW " : "TABLE ") +
                               job.input_table + " AS SELECT " + casts + " FROM (" + relation_sql +
                               ") AS __aq_src");
  if (!st.ok()) {
    return st.WithPrefix("cannot cast the data to the table schema: ");
  }
  for (const DeltaField& f : job.snap.schema.fields) {
    if (f.nullable) {
      continue;
    }
    AQ_ASSIGN_OR_RETURN(int64_t nulls, CountRows(job.conn, "SELECT 1 FROM " + job.input_table +
                                                               " WHERE " + Q(f.name) + " IS NULL"));
    if (nulls > 0) {
      return Status::InvalidArgument(
          "column '" + f.name + "' is not nullable but " + std::to_string(nulls) +
          " incoming rows have NULL" +
          (pcols.count(f.name) ? " (an empty string in a partition column is stored as NULL)"
                               : ""));
    }
  }
  return Status::OK();
}

Result<WriteStats> RunWriteMode(WriteJob& job) {
  int64_t rows = -1;  // streamed: counted from the written files
  if (!job.streamed) {
    AQ_ASSIGN_OR_RETURN(rows, CountRows(job.conn, "SELECT 1 FROM " + job.input_table));
    EnterPhase(job, WritePhase::kScanningTable);
  }
  switch (job.dest.write_mode.operation) {
    case DeltaWriteMode::Operation::kAppend:
      return Append(job, rows);
    case DeltaWriteMode::Operation::kReplace:
      return Replace(job, rows);
    case DeltaWriteMode::Operation::kUpsert:
      return Upsert(job, rows);
  }
  return Status::Internal("unknown Delta write mode");
}

}  // namespace aqueducts::delta

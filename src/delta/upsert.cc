// Upsert: copy-on-write MERGE on key columns with null-safe equality. Only files that can hold
// a matching key (by partition values and min/max stats) are read; only files with a matched
// row are rewritten.
#include <set>

#include "delta/scan.h"
#include "delta/util.h"
#include "delta/write_modes.h"

namespace aqueducts::delta {

using nlohmann::json;

// Stats bounds usable for pruning: types whose min/max are exact (timestamps are truncated to
// milliseconds and strings may be truncated by other writers, so they are not used).
bool PrunableByStats(const json& type) {
  if (!type.is_string()) {
    return false;
  }
  std::string t = type.get<std::string>();
  return t == "long" || t == "integer" || t == "short" || t == "byte" || t == "date" ||
         t.rfind("decimal", 0) == 0;
}

Result<std::string> StatLiteral(const json& stats, const char* which, const DeltaField& f) {
  AQ_ASSIGN_OR_RETURN(std::string type, DuckDbType(f.type));
  auto group = stats.find(which);
  if (group == stats.end() || !group->is_object()) {
    return "CAST(NULL AS " + type + ")";
  }
  auto v = group->find(f.physical_name);
  if (v == group->end() || v->is_null() || v->is_object()) {
    return "CAST(NULL AS " + type + ")";
  }
  std::string text = v->is_string() ? v->get<std::string>() : v->dump();
  return "TRY_CAST(" + engine::QuoteLiteral(text) + " AS " + type + ")";
}

namespace {

std::string Q(const std::string& ident) {
  return engine::QuoteIdent(ident);
}

// The live files that may hold a row whose keys equal a source row's keys.
Result<std::vector<const FileAction*>> CandidateFiles(WriteJob& job,
                                                      const std::vector<std::string>& keys) {
  const Snapshot& snap = job.snap;
  std::vector<const FileAction*> out;
  if (snap.files.empty()) {
    return out;
  }
  std::set<std::string> pcols(snap.metadata.partition_columns.begin(),
                              snap.metadata.partition_columns.end());
  std::string names = "__aq_i", cond;
  for (const auto& k : keys) {
    const DeltaField* f = snap.schema.Find(k);
    if (pcols.count(k)) {
      names += ", " + Q("p_" + k);
      cond += " AND v." + Q("p_" + k) + " IS NOT DISTINCT FROM s." + Q(k);
    } else if (PrunableByStats(f->type)) {
      names += ", " + Q("min_" + k) + ", " + Q("max_" + k);
      std::string mn = "v." + Q("min_" + k), mx = "v." + Q("max_" + k), sk = "s." + Q(k);
      cond += " AND (" + sk + " IS NULL OR " + mn + " IS NULL OR " + mx + " IS NULL OR " + sk +
              " BETWEEN " + mn + " AND " + mx + ")";
    }
  }
  if (cond.empty()) {  // nothing to prune on: every file is a candidate
    for (const auto& f : snap.files) {
      out.push_back(&f);
    }
    return out;
  }
  std::string values;
  for (size_t i = 0; i < snap.files.size(); ++i) {
    const FileAction& file = snap.files[i];
    json stats = file.ParsedStats();
    values += (i ? ", (" : "(") + std::to_string(i);
    for (const auto& k : keys) {
      const DeltaField* f = snap.schema.Find(k);
      if (pcols.count(k)) {
        auto it = file.partition_values.find(f->physical_name);
        std::optional<std::string> v =
            it == file.partition_values.end() ? std::nullopt : it->second;
        AQ_ASSIGN_OR_RETURN(std::string lit, PartitionValueLiteral(f->type, v));
        values += ", " + lit;
      } else if (PrunableByStats(f->type)) {
        AQ_ASSIGN_OR_RETURN(std::string mn, StatLiteral(stats, "minValues", *f));
        AQ_ASSIGN_OR_RETURN(std::string mx, StatLiteral(stats, "maxValues", *f));
        values += ", " + mn + ", " + mx;
      }
    }
    values += ")";
  }
  std::string key_list;
  for (const auto& k : keys) {
    key_list += (key_list.empty() ? "" : ", ") + Q(k);
  }
  AQ_ASSIGN_OR_RETURN(
      auto rows, job.conn.Query("SELECT v.__aq_i FROM (VALUES " + values + ") AS v(" + names +
                                ") WHERE EXISTS (SELECT 1 FROM (SELECT DISTINCT " + key_list +
                                " FROM " + job.input_table + ") AS s WHERE true" + cond + ")"));
  for (const auto& r : rows.rows) {
    out.push_back(&snap.files[std::stoul(*r[0])]);
  }
  return out;
}

// A target row matched by several incoming rows has no single new value: refuse the write
// (nothing is committed) and say which keys, how many rows, and what to do about it.
Status CheckOneMatchPerTargetRow(WriteJob& job, const std::string& target,
                                 const std::vector<std::string>& keys, const std::string& match) {
  std::string inner_keys, outer_keys, key_list;
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string alias = "__aq_k" + std::to_string(i);
    inner_keys += ", coalesce(any_value(t." + Q(keys[i]) + ")::VARCHAR, 'NULL') AS " + alias;
    outer_keys += ", " + alias;
    key_list += (i ? ", " : "") + keys[i];
  }
  constexpr size_t kShown = 3;
  AQ_ASSIGN_OR_RETURN(
      auto dup, job.conn.Query("SELECT count(*) OVER ()::VARCHAR, n" + outer_keys +
                               " FROM (SELECT count(*) AS n" + inner_keys + " FROM " + target +
                               " t JOIN " + job.input_table + " s ON " + match +
                               " GROUP BY t.rowid HAVING count(*) > 1) d ORDER BY n DESC" +
                               " LIMIT " + std::to_string(kShown)));
  if (dup.rows.empty()) {
    return Status::OK();
  }
  std::string examples;
  for (const auto& row : dup.rows) {
    std::string one;
    for (size_t i = 0; i < keys.size(); ++i) {
      one += (i ? ", " : "") + keys[i] + "=" + row[2 + i].value_or("NULL");
    }
    examples += (examples.empty() ? "" : "; ") + one + " matches " + row[1].value_or("?") +
                " incoming rows";
  }
  std::string total = dup.rows[0][0].value_or("?");
  bool more = total != std::to_string(dup.rows.size());
  return Status::InvalidArgument(
      "upsert keys (" + key_list + ") do not identify one incoming row: " + total +
      " target row(s) each match several incoming rows (" + examples + (more ? "; ..." : "") +
      "). Nothing was written. De-duplicate the input on the keys (e.g. GROUP BY " + key_list +
      ", or SELECT DISTINCT ON (" + key_list +
      ") in the last stage), or choose upsert keys that identify one row");
}

}  // namespace

Result<WriteStats> Upsert(WriteJob& job, int64_t input_rows) {
  const Snapshot& snap = job.snap;
  const auto& keys = job.dest.write_mode.upsert_keys;
  if (keys.empty()) {
    return Status::InvalidArgument(
        "upsert needs at least one key column (merge predicate is empty)");
  }
  std::string match;
  for (const auto& k : keys) {
    const DeltaField* f = snap.schema.Find(k);
    if (!f) {
      return Status::InvalidArgument("upsert key '" + k + "' is not in the table schema");
    }
    if (f->type.is_object() && f->type.value("type", "") != "array") {
      return Status::Unsupported("upsert key '" + k + "' has a struct or map type");
    }
    if (f->type.is_object()) {
      // List keys compare as sets, as the original's array_has_all both ways does.
      match += (match.empty() ? "" : " AND ") +
               ("list_sort(list_distinct(t." + Q(k) +
                ")) IS NOT DISTINCT FROM list_sort(list_distinct(s." + Q(k) + "))");
    } else {
      match += (match.empty() ? "" : " AND ") + ("t." + Q(k) + " IS NOT DISTINCT FROM s." + Q(k));
    }
  }
  AQ_ASSIGN_OR_RETURN(std::vector<const FileAction*> candidates, CandidateFiles(job, keys));
  std::vector<const FileAction*> touched;
  std::string data_sql = "SELECT * FROM " + job.input_table;
  if (!candidates.empty()) {
    std::string target = job.input_table + "_target";
    job.scratch_tables.push_back(target);
    AQ_ASSIGN_OR_RETURN(std::string scan, BuildScanSql(job.conn, snap, candidates, true));
    AQ_RETURN_IF_ERROR(job.conn.Execute("CREATE TEMP TABLE " + target + " AS " + scan));
    AQ_RETURN_IF_ERROR(CheckOneMatchPerTargetRow(job, target, keys, match));
    AQ_ASSIGN_OR_RETURN(
        auto files, job.conn.Query(std::string("SELECT DISTINCT t.") + kFileColumn + " FROM " +
                                   target + " t WHERE EXISTS (SELECT 1 FROM " + job.input_table +
                                   " s WHERE " + match + ")"));
    std::set<std::string> touched_paths;
    for (const auto& r : files.rows) {
      touched_paths.insert(r[0].value_or(""));
    }
    for (const FileAction* f : candidates) {
      if (touched_paths.count(f->FullPath(snap.root))) {
        touched.push_back(f);
      }
    }
    std::string cols;
    for (const auto& f : snap.schema.fields) {
      cols += (cols.empty() ? "" : ", ") + ("t." + Q(f.name));
    }
    // Matched rows take the incoming values (keys are equal), so the new content of the
    // touched files is: every incoming row plus their unmatched rows.
    data_sql += " UNION ALL SELECT " + cols + " FROM " + target + " t WHERE t." + kFileColumn +
                " IN (SELECT UNNEST(" +
                SqlStringList({touched_paths.begin(), touched_paths.end()}) +
                "::VARCHAR[])) AND NOT EXISTS (SELECT 1 FROM " + job.input_table + " s WHERE " +
                match + ")";
    std::string merged = job.input_table + "_merged";
    job.scratch_tables.push_back(merged);
    AQ_RETURN_IF_ERROR(job.conn.Execute("CREATE TEMP TABLE " + merged + " AS " + data_sql));
    data_sql = "SELECT * FROM " + merged;
  }
  CommitRequest req;
  req.operation = "MERGE";
  std::string merge_predicate;
  for (const auto& k : keys) {
    merge_predicate +=
        (merge_predicate.empty() ? "" : " AND ") +
        ("(old." + k + " = new." + k + " OR (old." + k + " IS NULL AND new." + k + " IS NULL))");
  }
  req.operation_parameters = {{"mergePredicate", merge_predicate},
                              {"matchedPredicates", R"([{"actionType":"update"}])"},
                              {"notMatchedPredicates", R"([{"actionType":"insert"}])"}};
  req.operation_metrics = {
      {"num_source_rows", input_rows},
      {"num_target_files_scanned", candidates.size()},
      {"num_target_files_skipped_during_scan", snap.files.size() - candidates.size()}};
  req.read_whole_table = snap.metadata.partition_columns.empty();
  for (const FileAction* f : candidates) {
    req.read_files.insert(f->path);
    req.read_partitions.insert(PartitionKey(f->partition_values));
  }
  return WriteAndCommit(job, data_sql, touched, std::move(req), input_rows);
}

}  // namespace aqueducts::delta

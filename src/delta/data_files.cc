#include "delta/data_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "delta/scan.h"
#include "delta/util.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

constexpr size_t kMaxStatsColumns = 32;  // delta.dataSkippingNumIndexedCols default

bool HasMinMax(const json& type) {
  if (!type.is_string())
    return false;
  std::string t = type.get<std::string>();
  return t != "binary" && t != "boolean" && t != "void";
}

// SQL rendering a min/max value as Delta stats text (numbers stay numbers in JSON).
std::string StatText(const std::string& t, const std::string& expr) {
  if (t == "timestamp")
    return "strftime(timezone('UTC', " + expr + "), '%Y-%m-%dT%H:%M:%S.%gZ')";
  if (t == "timestamp_ntz")
    return "strftime(" + expr + ", '%Y-%m-%dT%H:%M:%S.%g')";
  return "CAST(" + expr + " AS VARCHAR)";
}

bool IsNumeric(const std::string& t) {
  return t == "long" || t == "integer" || t == "short" || t == "byte" || t == "float" ||
         t == "double" || t.rfind("decimal", 0) == 0;
}

// Per-file Delta stats from the Parquet footers (no data scan).
Status FillStats(engine::Connection& conn, const Snapshot& snap,
                 const std::set<std::string>& partition_cols, WrittenFiles& out) {
  if (out.paths.empty())
    return Status::OK();
  std::string table = "__aq_delta_md_" + NewUuid().substr(0, 8);
  AQ_RETURN_IF_ERROR(conn.Execute("CREATE TEMP TABLE " + table +
                                  " AS SELECT file_name, path_in_schema, row_group_id, "
                                  "row_group_num_rows, stats_min_value, stats_max_value, "
                                  "stats_null_count FROM parquet_metadata(" +
                                  SqlStringList(out.paths) + ")"));
  std::string sql =
      "SELECT file_name, '#rows', CAST(sum(n) AS VARCHAR), NULL, NULL FROM (SELECT DISTINCT "
      "file_name, row_group_id, row_group_num_rows AS n FROM " +
      table + ") GROUP BY 1";
  size_t indexed = 0;
  for (const DeltaField& f : snap.schema.fields) {
    if (partition_cols.count(f.name))
      continue;
    if (++indexed > kMaxStatsColumns)
      break;
    std::string col = engine::QuoteLiteral(f.physical_name);
    std::string min = "NULL", max = "NULL";
    if (HasMinMax(f.type)) {
      AQ_ASSIGN_OR_RETURN(std::string type, DuckDbType(f.type));
      std::string t = f.type.get<std::string>();
      min = StatText(t, "min(TRY_CAST(stats_min_value AS " + type + "))");
      max = StatText(t, "max(TRY_CAST(stats_max_value AS " + type + "))");
    }
    sql += " UNION ALL SELECT file_name, " + col + ", CAST(sum(stats_null_count) AS VARCHAR), " +
           min + ", " + max + " FROM " + table + " WHERE path_in_schema = " + col + " GROUP BY 1";
  }
  auto rows = conn.Query(sql);
  (void)conn.Execute("DROP TABLE IF EXISTS " + table);
  if (!rows.ok())
    return rows.status().WithPrefix("cannot compute Delta file stats: ");
  std::map<std::string, json> stats;
  for (const auto& r : rows->rows) {
    json& s = stats[r[0].value_or("")];
    if (s.is_null()) {
      s = {{"numRecords", 0},
           {"minValues", json::object()},
           {"maxValues", json::object()},
           {"nullCount", json::object()}};
    }
    std::string col = r[1].value_or("");
    if (col == "#rows") {
      s["numRecords"] = std::stoll(r[2].value_or("0"));
      continue;
    }
    const DeltaField* f = snap.schema.Find(col);
    std::string t = f && f->type.is_string() ? f->type.get<std::string>() : "";
    if (r[2])
      s["nullCount"][col] = std::stoll(*r[2]);
    auto put = [&](const char* key, const std::optional<std::string>& v) {
      if (!v)
        return;
      if (IsNumeric(t)) {
        try {
          s[key][col] = json::parse(*v);
        } catch (const std::exception&) {  // inf/nan have no JSON form: leave the bound out
        }
      } else {
        s[key][col] = *v;
      }
    };
    put("minValues", r[3]);
    put("maxValues", r[4]);
  }
  for (json& add : out.adds) {
    auto it = stats.find(add["__full_path"].get<std::string>());
    if (it != stats.end()) {
      add["stats"] = it->second.dump();
      out.rows += it->second["numRecords"].get<int64_t>();
    }
    add.erase("__full_path");
  }
  return Status::OK();
}

// One partition of a write: relative directory, serialized values, filter and SQL literals.
struct Part {
  std::string dir;
  std::map<std::string, std::optional<std::string>> values;
  std::string where;
  std::vector<std::string> literals;
};

// Many partitions: one scan, COPY ... PARTITION_BY a partition number into a hidden staging
// directory, then rename each file to its Hive-escaped partition directory. (DuckDB's own
// directory names cannot tell NULL from 'NULL' and escape differently from Spark.)
template <typename AddFile>
Status WritePartitionsInOnePass(engine::Connection& conn, const Snapshot& snap,
                                const std::string& source_sql, const std::vector<Part>& parts,
                                AddFile&& add_file) {
  const auto& pcols = snap.metadata.partition_columns;
  std::string id = NewUuid();
  std::string parts_table = "__aq_delta_parts_" + id.substr(0, 8);
  std::string values, names = "__aq_pid", on;
  for (size_t i = 0; i < parts.size(); ++i) {
    values += (i ? ", (" : "(") + std::to_string(i);
    for (const auto& lit : parts[i].literals)
      values += ", " + lit;
    values += ")";
  }
  for (size_t c = 0; c < pcols.size(); ++c) {
    std::string alias = engine::QuoteIdent("__aq_p" + std::to_string(c));
    names += ", " + alias;
    on += std::string(c ? " AND " : "") + "s." + engine::QuoteIdent(pcols[c]) +
          " IS NOT DISTINCT FROM p." + alias;
  }
  AQ_RETURN_IF_ERROR(conn.Execute("CREATE TEMP TABLE " + parts_table +
                                  " AS SELECT * FROM (VALUES " + values + ") AS v(" + names + ")"));
  std::string staging = snap.root + "/_aq_staging_" + id;
  std::string cols;
  for (const DeltaField& f : snap.schema.fields) {
    if (std::find(pcols.begin(), pcols.end(), f.name) != pcols.end())
      continue;
    cols += (cols.empty() ? "" : ", ") + ("s." + engine::QuoteIdent(f.name));
  }
  Status st = conn.Execute(
      "COPY (SELECT " + cols + ", p.__aq_pid FROM (" + source_sql + ") AS s JOIN " + parts_table +
      " AS p ON " + on + ") TO " + engine::QuoteLiteral(staging) +
      " (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (__aq_pid), FILENAME_PATTERN 'f{i}')");
  (void)conn.Execute("DROP TABLE IF EXISTS " + parts_table);
  Status result = st;
  if (st.ok()) {
    for (size_t i = 0; i < parts.size() && result.ok(); ++i) {
      std::string dir = staging + "/__aq_pid=" + std::to_string(i);
      auto files = ListDirectory(dir);
      if (!files.ok())
        continue;  // no rows for this partition
      std::sort(files->begin(), files->end());
      result = MakeDirs(snap.root + "/" + parts[i].dir);
      int n = 0;
      for (const auto& name : *files) {
        if (!result.ok())
          break;
        char num[16];
        std::snprintf(num, sizeof(num), "%05d", n++);
        std::string rel = parts[i].dir + "part-" + num + "-" + NewUuid() + "-c000.zstd.parquet";
        if (std::rename((dir + "/" + name).c_str(), (snap.root + "/" + rel).c_str()) != 0) {
          result =
              Status::IoError("cannot move a new data file to '" + snap.root + "/" + rel + "'");
          break;
        }
        add_file(rel, snap.root + "/" + rel, parts[i]);
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  return result;
}

}  // namespace

Result<std::string> PartitionValueText(const json& delta_type, const std::string& expr) {
  std::string t = delta_type.is_string() ? delta_type.get<std::string>() : "";
  if (t == "timestamp")
    return "strftime(timezone('UTC', " + expr + "), '%Y-%m-%dT%H:%M:%S.%fZ')";
  if (t == "timestamp_ntz")
    return "strftime(" + expr + ", '%Y-%m-%d %H:%M:%S.%f')";
  if (t == "binary")
    return "decode(" + expr + ")";
  if (!delta_type.is_string()) {
    return Status::Unsupported("nested columns cannot be Delta partition columns");
  }
  return "CAST(" + expr + " AS VARCHAR)";
}

void RemoveFiles(const std::vector<std::string>& paths) {
  for (const auto& p : paths)
    std::remove(p.c_str());
}

Result<WrittenFiles> WriteDataFiles(engine::Connection& conn, const Snapshot& snap,
                                    const std::string& source_sql) {
  const auto& pcols = snap.metadata.partition_columns;
  std::set<std::string> partition_cols(pcols.begin(), pcols.end());
  std::string data_cols;
  for (const DeltaField& f : snap.schema.fields) {
    if (partition_cols.count(f.name))
      continue;
    data_cols += (data_cols.empty() ? "" : ", ") + engine::QuoteIdent(f.name);
  }
  if (data_cols.empty())
    return Status::InvalidArgument("a Delta table needs a non-partition column");
  WrittenFiles out;
  std::vector<Part> parts;
  if (pcols.empty()) {
    parts.push_back(Part{"", {}, ""});
  } else {
    std::string select;
    for (size_t i = 0; i < pcols.size(); ++i) {
      const DeltaField* f = snap.schema.Find(pcols[i]);
      if (!f)
        return Status::InvalidArgument("partition column '" + pcols[i] + "' is not in the schema");
      AQ_ASSIGN_OR_RETURN(std::string text,
                          PartitionValueText(f->type, engine::QuoteIdent(f->name)));
      select += (i ? ", " : "") + text;
    }
    AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT DISTINCT " + select + " FROM (" + source_sql +
                                              ") AS __aq_src"));
    for (const auto& r : rows.rows) {
      Part p;
      for (size_t i = 0; i < pcols.size(); ++i) {
        const DeltaField* f = snap.schema.Find(pcols[i]);
        p.values[f->physical_name] = r[i];
        p.dir += pcols[i] + "=" + (r[i] ? HiveEscape(*r[i]) : "__HIVE_DEFAULT_PARTITION__") + "/";
        AQ_ASSIGN_OR_RETURN(std::string lit, PartitionValueLiteral(f->type, r[i]));
        p.where += std::string(i ? " AND " : " WHERE ") + engine::QuoteIdent(f->name) +
                   " IS NOT DISTINCT FROM " + lit;
        p.literals.push_back(lit);
      }
      parts.push_back(std::move(p));
    }
  }
  auto add_file = [&](const std::string& rel, const std::string& full, const Part& p) {
    out.paths.push_back(full);
    json pv = json::object();
    for (const auto& [k, v] : p.values)
      pv[k] = v ? json(*v) : json(nullptr);
    int64_t size = FileSize(full);
    out.bytes += size;
    out.adds.push_back({{"path", PercentEncodePath(rel)},
                        {"partitionValues", pv},
                        {"size", size},
                        {"modificationTime", FileMtimeMillis(full)},
                        {"dataChange", true},
                        {"__full_path", full}});
  };
  if (parts.size() <= 1) {
    for (const Part& p : parts) {
      std::string rel = p.dir + "part-00000-" + NewUuid() + "-c000.zstd.parquet";
      std::string full = snap.root + "/" + rel;
      if (!p.dir.empty())
        AQ_RETURN_IF_ERROR(MakeDirs(snap.root + "/" + p.dir));
      Status st = conn.Execute("COPY (SELECT " + data_cols + " FROM (" + source_sql +
                               ") AS __aq_src" + p.where + ") TO " + engine::QuoteLiteral(full) +
                               " (FORMAT parquet, COMPRESSION zstd)");
      if (!st.ok()) {
        std::remove(full.c_str());
        return st;
      }
      add_file(rel, full, p);
    }
  } else {
    Status st = WritePartitionsInOnePass(conn, snap, source_sql, parts, add_file);
    if (!st.ok()) {
      RemoveFiles(out.paths);
      return st;
    }
  }
  Status st = FillStats(conn, snap, partition_cols, out);
  if (!st.ok()) {
    RemoveFiles(out.paths);
    return st;
  }
  // Files with no rows add nothing to the table.
  std::vector<json> kept;
  std::vector<std::string> kept_paths;
  for (size_t i = 0; i < out.adds.size(); ++i) {
    json s = json::parse(out.adds[i].value("stats", "{}"));
    if (s.value("numRecords", int64_t{0}) == 0) {
      std::remove(out.paths[i].c_str());
      out.bytes -= out.adds[i]["size"].get<int64_t>();
      continue;
    }
    kept.push_back(out.adds[i]);
    kept_paths.push_back(out.paths[i]);
  }
  out.adds = std::move(kept);
  out.paths = std::move(kept_paths);
  return out;
}

}  // namespace aqueducts::delta

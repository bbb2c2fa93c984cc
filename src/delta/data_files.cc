#include "delta/data_files.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "delta/scan.h"
#include "delta/util.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

constexpr size_t kMaxStatsColumns = 32;  // delta.dataSkippingNumIndexedCols default

bool HasMinMax(const json& type) {
  if (!type.is_string()) {
    return false;
  }
  std::string t = type.get<std::string>();
  return t != "binary" && t != "boolean" && t != "void";
}

// SQL rendering a min/max value as Delta stats text (numbers stay numbers in JSON).
std::string StatText(const std::string& t, const std::string& expr) {
  if (t == "timestamp") {
    return "strftime(timezone('UTC', " + expr + "), '%Y-%m-%dT%H:%M:%S.%gZ')";
  }
  if (t == "timestamp_ntz") {
    return "strftime(" + expr + ", '%Y-%m-%dT%H:%M:%S.%g')";
  }
  return "CAST(" + expr + " AS VARCHAR)";
}

bool IsNumeric(const std::string& t) {
  return t == "long" || t == "integer" || t == "short" || t == "byte" || t == "float" ||
         t == "double" || t.rfind("decimal", 0) == 0;
}

// Numeric bounds are kept as text with this prefix until the stats are serialized, where they
// become JSON numbers with exactly DuckDB's digits (a decimal(38,18) bound would not survive a
// double). Its random part makes a clash with a real string value impossible in practice.
const std::string& RawNumberMark() {
  static const std::string mark = "\x01" + NewUuid() + ":";
  return mark;
}

// A JSON number (RFC 8259 grammar): -?int frac? exp?
bool IsJsonNumber(const std::string& v) {
  size_t i = 0, n = v.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && v[i] >= '0' && v[i] <= '9') {
      ++i;
    }
    return i > start;
  };
  if (i < n && v[i] == '-') {
    ++i;
  }
  if (i < n && v[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && v[i] == '.') {
    ++i;
    if (!digits()) {
      return false;
    }
  }
  if (i < n && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < n && (v[i] == '+' || v[i] == '-')) {
      ++i;
    }
    if (!digits()) {
      return false;
    }
  }
  return i == n;
}

// dump() with every marked string turned back into the bare number it holds.
std::string DumpWithRawNumbers(const json& stats) {
  std::string text = stats.dump();
  const std::string quoted_mark = "\"\\u0001" + RawNumberMark().substr(1);
  std::string out;
  size_t pos = 0;
  for (size_t at; (at = text.find(quoted_mark, pos)) != std::string::npos;) {
    size_t end = text.find('"', at + quoted_mark.size());
    out += text.substr(pos, at - pos) +
           text.substr(at + quoted_mark.size(), end - at - quoted_mark.size());
    pos = end + 1;
  }
  return out + text.substr(pos);
}

// Per-file Delta stats from the Parquet footers (no data scan).
Status FillStats(engine::Connection& conn, const Snapshot& snap,
                 const std::set<std::string>& partition_cols, WrittenFiles& out) {
  if (out.paths.empty()) {
    return Status::OK();
  }
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
  // delta.dataSkippingNumIndexedCols: the first N non-partition columns get stats (-1: all).
  std::string num_indexed = snap.metadata.Config("delta.dataSkippingNumIndexedCols");
  size_t max_indexed = num_indexed.empty() ? kMaxStatsColumns
                       : num_indexed == "-1"
                           ? SIZE_MAX
                           : size_t(std::max(0LL, std::atoll(num_indexed.c_str())));
  for (const DeltaField& f : snap.schema.fields) {
    if (partition_cols.count(f.name)) {
      continue;
    }
    if (++indexed > max_indexed) {
      break;
    }
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
  if (!rows.ok()) {
    return rows.status().WithPrefix("cannot compute Delta file stats: ");
  }
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
    if (r[2]) {
      s["nullCount"][col] = std::stoll(*r[2]);
    }
    auto put = [&](const char* key, const std::optional<std::string>& v) {
      if (!v) {
        return;
      }
      if (IsNumeric(t)) {
        // The exact text DuckDB printed, never through a double; inf/nan (no JSON form) and
        // anything else that is not a plain JSON number leave the bound out.
        // DuckDB prints decimals below one without the leading zero (".5", "-.5").
        std::string text = *v;
        if (text.rfind(".", 0) == 0 || text.rfind("-.", 0) == 0) {
          text.insert(text[0] == '-' ? 1 : 0, "0");
        }
        if (IsJsonNumber(text)) {
          s[key][col] = RawNumberMark() + text;
        }
      } else {
        s[key][col] = *v;
      }
    };
    put("minValues", r[3]);
    put("maxValues", r[4]);
  }
  for (size_t i = 0; i < out.adds.size() && i < out.paths.size(); ++i) {
    FileAction& add = out.adds[i];
    auto it = stats.find(out.paths[i]);
    if (it != stats.end()) {
      add.stats = DumpWithRawNumbers(it->second);
      out.rows += it->second["numRecords"].get<int64_t>();
    } else {  // no row group in the footer: the file holds no rows
      add.stats = json{{"numRecords", 0}}.dump();
    }
  }
  return Status::OK();
}

// One partition of a write: relative directory, serialized values (nullopt = null).
struct Part {
  std::string dir;
  std::map<std::string, std::optional<std::string>> values;
  std::vector<std::optional<std::string>> texts;  ///< in partition-column order
  int64_t rows = 0;                               ///< source rows with these values
};

// Many partitions: one scan, COPY ... PARTITION_BY a partition number into a hidden staging
// directory, then rename each file to its Hive-escaped partition directory. (DuckDB's own
// directory names cannot tell NULL from 'NULL' and escape differently from Spark.) Rows are
// matched to their partition on the serialized partition values (`key_exprs`), the very text
// the partitions were listed by, so every row belongs to exactly one partition.
template <typename AddFile>
Status WritePartitionsInOnePass(engine::Connection& conn, const Snapshot& snap,
                                const std::string& source_sql,
                                const std::vector<std::string>& key_exprs,
                                const std::vector<Part>& parts, int64_t* copied,
                                AddFile&& add_file) {
  std::string id = NewUuid();
  std::string parts_table = "__aq_delta_parts_" + id.substr(0, 8);
  std::string values, names = "__aq_pid", on;
  for (size_t i = 0; i < parts.size(); ++i) {
    values += (i ? ", (" : "(") + std::to_string(i);
    for (const auto& text : parts[i].texts) {
      values += ", " + (text ? engine::QuoteLiteral(*text) : std::string("CAST(NULL AS VARCHAR)"));
    }
    values += ")";
  }
  for (size_t c = 0; c < key_exprs.size(); ++c) {
    std::string alias = engine::QuoteIdent("__aq_p" + std::to_string(c));
    names += ", " + alias;
    on += std::string(c ? " AND " : "") + "s." + alias + " IS NOT DISTINCT FROM p." + alias;
  }
  AQ_RETURN_IF_ERROR(conn.Execute("CREATE TEMP TABLE " + parts_table +
                                  " AS SELECT * FROM (VALUES " + values + ") AS v(" + names + ")"));
  std::string staging = snap.root + "/_aq_staging_" + id;
  std::string cols, keys;
  const auto& pcols = snap.metadata.partition_columns;
  for (const DeltaField& f : snap.schema.fields) {
    if (std::find(pcols.begin(), pcols.end(), f.name) != pcols.end()) {
      continue;
    }
    cols += (cols.empty() ? "" : ", ") + ("s." + engine::QuoteIdent(f.name));
  }
  for (size_t c = 0; c < key_exprs.size(); ++c) {
    keys += ", " + key_exprs[c] + " AS " + engine::QuoteIdent("__aq_p" + std::to_string(c));
  }
  auto copy = conn.Query("COPY (SELECT " + cols + ", p.__aq_pid FROM (SELECT *" + keys + " FROM (" +
                         source_sql + ") AS __aq_src) AS s JOIN " + parts_table + " AS p ON " + on +
                         ") TO " + engine::QuoteLiteral(staging) +
                         " (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (__aq_pid), "
                         "FILENAME_PATTERN 'f{i}')");
  (void)conn.Execute("DROP TABLE IF EXISTS " + parts_table);
  Status result = copy.status();
  if (result.ok() && !copy->rows.empty() && !copy->rows[0].empty() && copy->rows[0][0]) {
    *copied = std::stoll(*copy->rows[0][0]);
  }
  if (result.ok()) {
    for (size_t i = 0; i < parts.size() && result.ok(); ++i) {
      std::string dir = staging + "/__aq_pid=" + std::to_string(i);
      auto files = ListDirectory(dir);
      if (!files.ok()) {
        continue;  // no rows for this partition (the row count check catches a lost one)
      }
      std::sort(files->begin(), files->end());
      result = MakeDirs(snap.root + "/" + parts[i].dir);
      int n = 0;
      for (const auto& name : *files) {
        if (!result.ok()) {
          break;
        }
        char num[16];
        std::snprintf(num, sizeof(num), "%05d", n++);
        std::string rel = parts[i].dir + "part-" + num + "-" + NewUuid() + "-c000.zstd.parquet";
        result = RenamePath(dir + "/" + name, snap.root + "/" + rel);
        if (!result.ok()) {
          result = result.WithPrefix("cannot move a new data file into the table: ");
          break;
        }
        add_file(rel, snap.root + "/" + rel, parts[i]);
      }
    }
  }
  (void)RemoveTree(staging);
  return result;
}

}  // namespace

Result<std::string> PartitionValueText(const json& delta_type, const std::string& expr) {
  std::string t = delta_type.is_string() ? delta_type.get<std::string>() : "";
  if (t == "timestamp") {
    return "strftime(timezone('UTC', " + expr + "), '%Y-%m-%dT%H:%M:%S.%fZ')";
  }
  if (t == "timestamp_ntz") {
    return "strftime(" + expr + ", '%Y-%m-%d %H:%M:%S.%f')";
  }
  if (t == "binary") {
    return "decode(" + expr + ")";
  }
  if (!delta_type.is_string()) {
    return Status::Unsupported("nested columns cannot be Delta partition columns");
  }
  return "CAST(" + expr + " AS VARCHAR)";
}

void RemoveFiles(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    (void)RemovePath(p);
  }
}

Status CheckRowsWritten(int64_t rows_in, const std::vector<FileAction>& adds) {
  int64_t in_files = 0;
  for (const FileAction& add : adds) {
    int64_t records = add.NumRecords();
    if (records < 0) {
      return Status::Internal("row count check: new data file '" + add.path +
                              "' has no numRecords; nothing was committed");
    }
    in_files += records;
  }
  if (in_files != rows_in) {
    return Status::Internal("row count check failed: " + std::to_string(rows_in) +
                            " rows to write but the new data files hold " +
                            std::to_string(in_files) + "; nothing was committed");
  }
  return Status::OK();
}

Result<WrittenFiles> WriteDataFiles(engine::Connection& conn, const Snapshot& snap,
                                    const std::string& source_sql, int64_t rows_in) {
  const auto& pcols = snap.metadata.partition_columns;
  std::set<std::string> partition_cols(pcols.begin(), pcols.end());
  std::string data_cols;
  for (const DeltaField& f : snap.schema.fields) {
    if (partition_cols.count(f.name)) {
      continue;
    }
    data_cols += (data_cols.empty() ? "" : ", ") + engine::QuoteIdent(f.name);
  }
  if (data_cols.empty()) {
    return Status::InvalidArgument("a Delta table needs a non-partition column");
  }
  if (rows_in < 0 && !pcols.empty()) {
    return Status::Internal("a partitioned Delta write needs its input row count");
  }
  WrittenFiles out;
  std::vector<Part> parts;
  // The serialized partition value of each partition column, as logged: '' is logged as null
  // (the protocol reads an empty partition value as null), so '' and NULL share a partition.
  std::vector<std::string> key_exprs;
  if (pcols.empty()) {
    parts.push_back(Part{});
  } else {
    std::string select;
    for (size_t i = 0; i < pcols.size(); ++i) {
      const DeltaField* f = snap.schema.Find(pcols[i]);
      if (!f) {
        return Status::InvalidArgument("partition column '" + pcols[i] + "' is not in the schema");
      }
      AQ_ASSIGN_OR_RETURN(std::string text,
                          PartitionValueText(f->type, engine::QuoteIdent(f->name)));
      key_exprs.push_back("NULLIF(" + text + ", '')");
      select += (i ? ", " : "") + key_exprs.back();
    }
    AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT " + select + ", count(*) FROM (" +
                                              source_sql + ") AS __aq_src GROUP BY ALL"));
    for (const auto& r : rows.rows) {
      Part p;
      p.rows = std::stoll(r[pcols.size()].value_or("0"));
      for (size_t i = 0; i < pcols.size(); ++i) {
        const DeltaField* f = snap.schema.Find(pcols[i]);
        p.values[f->physical_name] = r[i];
        p.texts.push_back(r[i]);
        p.dir += pcols[i] + "=" + (r[i] ? HiveEscape(*r[i]) : "__HIVE_DEFAULT_PARTITION__") + "/";
      }
      parts.push_back(std::move(p));
    }
  }
  std::map<std::string, const Part*> part_of_file;  // full path -> its partition
  auto add_file = [&](const std::string& rel, const std::string& full, const Part& p) {
    part_of_file[full] = &p;
    out.paths.push_back(full);
    FileAction add;
    add.path = rel;
    add.partition_values = p.values;
    add.size = FileSize(full);
    add.modification_time = FileMtimeMillis(full);
    add.data_change = true;
    out.bytes += add.size;
    out.adds.push_back(std::move(add));
  };
  int64_t copied = -1;  // rows the COPY read from the source
  if (parts.size() <= 1) {
    // At most one partition: every source row belongs to it, no filter needed.
    for (const Part& p : parts) {
      std::string rel = p.dir + "part-00000-" + NewUuid() + "-c000.zstd.parquet";
      std::string full = snap.root + "/" + rel;
      if (!p.dir.empty()) {
        AQ_RETURN_IF_ERROR(MakeDirs(snap.root + "/" + p.dir));
      }
      auto copy =
          conn.Query("COPY (SELECT " + data_cols + " FROM (" + source_sql + ") AS __aq_src) TO " +
                     engine::QuoteLiteral(full) + " (FORMAT parquet, COMPRESSION zstd)");
      if (!copy.ok()) {
        (void)RemovePath(full);
        return copy.status();
      }
      if (!copy->rows.empty() && !copy->rows[0].empty() && copy->rows[0][0]) {
        copied = std::stoll(*copy->rows[0][0]);
      }
      add_file(rel, full, p);
    }
  } else {
    Status st =
        WritePartitionsInOnePass(conn, snap, source_sql, key_exprs, parts, &copied, add_file);
    if (!st.ok()) {
      RemoveFiles(out.paths);
      return st;
    }
  }
  if (rows_in < 0) {
    rows_in = copied < 0 ? 0 : copied;  // streamed input: what the single COPY consumed
  }
  Status st = FillStats(conn, snap, partition_cols, out);
  if (st.ok()) {
    st = CheckRowsWritten(rows_in, out.adds);
  }
  if (st.ok() && !pcols.empty()) {
    // Per partition too: each partition's files hold exactly its source rows.
    std::map<const Part*, std::vector<FileAction>> adds_of_part;
    for (size_t i = 0; i < out.adds.size() && i < out.paths.size(); ++i) {
      adds_of_part[part_of_file[out.paths[i]]].push_back(out.adds[i]);
    }
    for (const Part& p : parts) {
      Status part_st = CheckRowsWritten(p.rows, adds_of_part[&p]);
      if (!part_st.ok()) {
        st = part_st.WithPrefix("partition '" + p.dir + "': ");
        break;
      }
    }
  }
  if (!st.ok()) {
    RemoveFiles(out.paths);
    return st;
  }
  // Files with no rows add nothing to the table.
  std::vector<FileAction> kept;
  std::vector<std::string> kept_paths;
  for (size_t i = 0; i < out.adds.size(); ++i) {
    if (out.adds[i].NumRecords() <= 0) {
      (void)RemovePath(out.paths[i]);
      out.bytes -= out.adds[i].size;
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

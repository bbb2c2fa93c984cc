#include "delta/scan.h"

#include <map>
#include <set>

#include "delta/deletion_vector.h"

namespace aqueducts::delta {
namespace {

using FileColumns = std::map<std::string, std::string>;  // top-level name -> DuckDB type

// Top-level column names and types of each file, from the Parquet footers.
Result<std::map<std::string, FileColumns>> ReadFileColumns(engine::Connection& conn,
                                                           const std::vector<std::string>& paths) {
  std::map<std::string, FileColumns> out;
  if (paths.empty()) {
    return out;
  }
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT file_name, name, duckdb_type, num_children "
                                            "FROM parquet_schema(" +
                                            SqlStringList(paths) + ")"));
  // Rows come in schema order (depth first) per file; walk the tree to keep top-level names.
  std::string current;
  std::vector<int64_t> pending;  // children left per open group; [0] is the root
  for (const auto& r : rows.rows) {
    const std::string file = r[0].value_or("");
    int64_t children = r[3] ? std::stoll(*r[3]) : 0;
    if (file != current) {
      current = file;
      pending = {children};
      out[file];
      continue;
    }
    while (!pending.empty() && pending.back() == 0) {
      pending.pop_back();
    }
    if (pending.empty()) {
      continue;
    }
    bool top_level = pending.size() == 1;
    pending.back()--;
    if (top_level) {
      out[file][r[1].value_or("")] = r[2].value_or("NESTED");
    }
    if (children > 0) {
      pending.push_back(children);
    }
  }
  return out;
}

std::string Signature(const FileColumns& cols) {
  std::string s;
  for (const auto& [n, t] : cols) {
    s += n + "\x1f" + t + "\x1e";
  }
  return s;
}

}  // namespace

std::string SqlStringList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? ", " : "") + engine::QuoteLiteral(values[i]);
  }
  return out + "]";
}

Result<std::string> BuildScanSql(engine::Connection& conn, const Snapshot& snap,
                                 const std::vector<const FileAction*>& files,
                                 bool with_file_column) {
  const bool mapping = snap.column_mapping != "none";
  std::set<std::string> partition_cols(snap.metadata.partition_columns.begin(),
                                       snap.metadata.partition_columns.end());
  if (files.empty()) {
    std::string sql = "SELECT ";
    for (size_t i = 0; i < snap.schema.fields.size(); ++i) {
      AQ_ASSIGN_OR_RETURN(std::string type, DuckDbType(snap.schema.fields[i].type));
      sql += (i ? ", " : "") + std::string("CAST(NULL AS ") + type + ") AS " +
             engine::QuoteIdent(snap.schema.fields[i].name);
    }
    if (with_file_column) {
      sql += std::string(", CAST(NULL AS VARCHAR) AS ") + kFileColumn;
    }
    return sql + " WHERE false";
  }
  std::vector<std::string> paths;
  for (const FileAction* f : files) {
    paths.push_back(f->FullPath(snap.root));
  }
  AQ_ASSIGN_OR_RETURN(auto file_columns, ReadFileColumns(conn, paths));

  struct Branch {
    std::vector<std::string> paths;
    std::string projection;
    const FileAction* dv_file = nullptr;
  };
  std::map<std::string, Branch> groups;  // keyed by projection (partition literals + file schema)
  std::vector<Branch> dv_branches;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileAction& f = *files[i];
    const FileColumns& cols = file_columns[paths[i]];
    std::string projection;
    for (size_t c = 0; c < snap.schema.fields.size(); ++c) {
      const DeltaField& field = snap.schema.fields[c];
      std::string expr;
      if (partition_cols.count(field.name)) {
        // Partition values are keyed by physical name when column mapping is on.
        auto it = f.partition_values.find(field.physical_name);
        if (it == f.partition_values.end()) {
          it = f.partition_values.find(field.name);
        }
        std::optional<std::string> value;
        if (it != f.partition_values.end()) {
          value = it->second;
        }
        auto lit = PartitionValueLiteral(field.type, value);
        if (!lit.ok()) {
          return lit.status().WithPrefix("file '" + f.path + "', column '" + field.name + "': ");
        }
        expr = *lit;
      } else {
        auto it = cols.find(field.physical_name);
        AQ_ASSIGN_OR_RETURN(expr,
                            ColumnReadExpr(field, mapping, it == cols.end() ? "" : it->second));
      }
      projection += (c ? ", " : "") + expr + " AS " + engine::QuoteIdent(field.name);
    }
    if (with_file_column) {
      projection += std::string(", ") + kFileColumn;
    }
    if (f.deletion_vector) {
      dv_branches.push_back(Branch{{paths[i]}, projection, &f});
    } else {
      Branch& b = groups[projection + "\x1d" + Signature(cols)];
      b.paths.push_back(paths[i]);
      b.projection = projection;
    }
  }
  std::string sql;
  auto add_branch = [&](const std::string& branch) {
    sql += (sql.empty() ? "" : "\nUNION ALL\n") + branch;
  };
  std::string file_opt =
      with_file_column ? std::string(", filename=") + engine::QuoteLiteral(kFileColumn) : "";
  for (auto& [key, b] : groups) {
    add_branch("SELECT " + b.projection + " FROM read_parquet(" + SqlStringList(b.paths) +
               file_opt + ")");
  }
  for (const Branch& b : dv_branches) {
    auto rows = ReadDeletionVector(snap.root, *b.dv_file->deletion_vector);
    if (!rows.ok()) {
      return rows.status().WithPrefix("file '" + b.dv_file->path + "': ");
    }
    std::string branch = "SELECT " + b.projection + " FROM read_parquet(" + SqlStringList(b.paths) +
                         file_opt + ", file_row_number=true)";
    if (!rows->empty()) {
      std::string list = "[";
      for (size_t i = 0; i < rows->size(); ++i) {
        list += (i ? "," : "") + std::to_string((*rows)[i]);
      }
      branch += " WHERE NOT list_contains(" + list + "]::BIGINT[], file_row_number)";
    }
    add_branch(branch);
  }
  return sql;
}

Result<std::string> BuildSnapshotScanSql(engine::Connection& conn, const Snapshot& snap,
                                         bool with_file_column) {
  std::vector<const FileAction*> files;
  for (const auto& f : snap.files) {
    files.push_back(&f);
  }
  return BuildScanSql(conn, snap, files, with_file_column);
}

}  // namespace aqueducts::delta

#include "io/file_destination.h"

#include <filesystem>
#include <map>
#include <set>

#include <unistd.h>

#include "common/hex.h"
#include "engine/value_text.h"
#include "io/file_source.h"
#include "io/files.h"
#include "io/hive_path.h"
#include "io/object_dir.h"
#include "io/output_dir.h"
#include "io/parquet_options.h"
#include "storage/mounts.h"
#include "storage/object_url.h"
#include "storage/store_registry.h"

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;  // path arithmetic only: file operations go through io/files.h
using engine::QuoteIdent;
using engine::QuoteLiteral;

// The path without trailing slashes, so "out/" names the directory "out".
fs::path Target(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  return fs::path(p);
}

// DuckDB guesses CSV compression from the file name; the temporary name hides the extension,
// so say it explicitly.
std::string CsvCompression(const FileDestination& destination, const std::string& path) {
  if (destination.format.compression) {
    return *destination.format.compression;
  }
  auto ends_with = [&path](const std::string& ext) {
    return path.size() >= ext.size() &&
           path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends_with(".gz")) {
    return "gzip";
  }
  if (ends_with(".zst")) {
    return "zstd";
  }
  return "none";
}

struct Column {
  std::string name;
  std::string type;  // DuckDB type name
};

Result<std::vector<Column>> Describe(engine::Connection& conn, const std::string& relation_sql) {
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("DESCRIBE SELECT * FROM (" + relation_sql + ")"));
  std::vector<Column> columns;
  for (const auto& row : rows.rows) {
    if (row.size() >= 2 && row[0] && row[1]) {
      columns.push_back({*row[0], *row[1]});
    }
  }
  return columns;
}

// JSON has no NaN or infinities and no bytes: top-level FLOAT/DOUBLE columns write non-finite
// values as the strings "NaN", "Infinity", "-Infinity", BLOB columns as base64 strings, and
// DECIMAL columns as their exact text (docs/file-outputs.md, "JSON"). Our JSON source turns
// them back for declared types.
std::string JsonRelation(const std::vector<Column>& columns, const std::string& relation_sql) {
  std::string list;
  bool changed = false;
  for (const auto& column : columns) {
    std::string c = QuoteIdent(column.name);
    std::string expr = c;
    if (column.type == "DOUBLE" || column.type == "FLOAT") {
      expr = "CASE WHEN isnan(" + c + ") THEN '\"NaN\"'::JSON WHEN isinf(" + c + ") AND " + c +
             " > 0 THEN '\"Infinity\"'::JSON WHEN isinf(" + c +
             ") THEN '\"-Infinity\"'::JSON ELSE to_json(" + c + ") END";
    } else if (column.type == "BLOB") {
      expr = "to_base64(" + c + ")";
    } else if (column.type.rfind("DECIMAL", 0) == 0) {
      expr = "CAST(" + c + " AS VARCHAR)";  // a JSON number would pass through a double
    }
    changed = changed || expr != c;
    list += (list.empty() ? "" : ", ") + expr + " AS " + c;
  }
  if (!changed) {
    return relation_sql;
  }
  return "SELECT " + list + " FROM (" + relation_sql + ")";
}

std::string PathList(const fs::path& root, const std::vector<std::string>& files) {
  std::string list = "[";
  for (size_t i = 0; i < files.size(); i++) {
    list += (i ? ", " : "") + QuoteLiteral((root / files[i]).string());
  }
  return list + "]";
}

// The rows in `files` (relative to `root`), counted by reading them back as written.
Result<int64_t> CountWritten(engine::Connection& conn, const FileDestination& destination,
                             const std::string& path, const std::vector<Column>& file_columns,
                             const fs::path& root, const std::vector<std::string>& files) {
  if (files.empty()) {
    return 0;
  }
  std::string list = PathList(root, files);
  std::string sql;
  switch (destination.format.format) {
    case FileFormat::kParquet:
      sql = "SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata(" + list + ")";
      break;
    case FileFormat::kCsv: {
      std::string columns = "{";
      for (size_t i = 0; i < file_columns.size(); i++) {
        columns += (i ? ", " : "") + QuoteLiteral(file_columns[i].name) + ": 'VARCHAR'";
      }
      sql = "SELECT count(*) FROM read_csv(" + list + ", auto_detect = false, header = " +
            (destination.format.has_header ? "true" : "false") +
            ", delim = " + QuoteLiteral(std::string(1, destination.format.delimiter)) +
            ", quote = '\"', escape = '\"', columns = " + columns +
            "}, compression = " + QuoteLiteral(CsvCompression(destination, path)) + ")";
      break;
    }
    case FileFormat::kJson:
      sql = "SELECT count(*) FROM read_ndjson_objects(" + list + ")";
      break;
  }
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query(sql));
  int64_t count = engine::ReportedRowCount(rows);
  if (count < 0) {
    return Status::Internal("counting the rows written returned nothing");
  }
  return count;
}

Status CheckCount(int64_t rows_in, int64_t rows_written) {
  if (rows_in != rows_written) {
    return Status::Internal("the query produced " + std::to_string(rows_in) +
                            " rows but the files written hold " + std::to_string(rows_written) +
                            "; nothing was published");
  }
  return Status::OK();
}

int64_t SizeOf(const fs::path& root, const std::vector<std::string>& files) {
  int64_t total = 0;
  for (const auto& file : files) {
    int64_t size = files::SizeOf((root / file).string());
    if (size >= 0) {
      total += size;
    }
  }
  return total;
}

Result<int64_t> RunCopy(engine::Connection& conn, const std::string& relation_sql,
                        const fs::path& to, const std::string& options) {
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("COPY (" + relation_sql + ") TO " +
                                            QuoteLiteral(to.string()) + " (" + options + ")"));
  int64_t count = engine::ReportedRowCount(rows);
  if (count < 0) {
    return Status::Internal("COPY returned no row count");
  }
  return count;
}

std::optional<std::string> FromHex(const std::string& hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigitValue(hex[i]), lo = HexDigitValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// A partitioned write. DuckDB's PARTITION_BY names a NULL "NULL" like the string 'NULL' and
// escapes differently from Hive, so it partitions on a token per value that it writes verbatim
// ('n' for NULL, 'v' + the hex of the value's text), and the files are then moved into Hive
// directories named from the decoded values (io/hive_path.h). Returns the rows COPY wrote and the
// relative paths of the files under `out`.
struct PartitionedOutput {
  int64_t rows = 0;
  std::vector<std::string> files;
  int64_t partitions = 0;
};

// Key expression of a partition column: 'n' for NULL, 'v' + the hex of its text otherwise.
std::string KeySql(const std::string& column) {
  std::string c = QuoteIdent(column);
  return "CASE WHEN " + c + " IS NULL THEN 'n' ELSE 'v' || hex(CAST(" + c + " AS VARCHAR)) END";
}

// The Hive directory (relative) for the tokens of KeySql, one per partition column.
Result<fs::path> DirectoryOf(const std::vector<std::string>& columns,
                             const std::vector<std::string>& tokens) {
  fs::path dir;
  for (size_t i = 0; i < columns.size(); i++) {
    std::optional<std::string> value;
    if (tokens[i] != "n") {
      value =
          tokens[i].empty() || tokens[i][0] != 'v' ? std::nullopt : FromHex(tokens[i].substr(1));
      if (!value) {
        return Status::Internal("unexpected partition token '" + tokens[i] + "'");
      }
    }
    dir /= HiveDirectory(columns[i], value);
  }
  return dir;
}

// DuckDB cannot PARTITION_BY a JSON COPY: the rows are materialised once, then one COPY per
// partition writes its directory.
Result<PartitionedOutput> WritePartitionedJson(engine::Connection& conn,
                                               const FileDestination& destination,
                                               const std::string& relation_sql,
                                               const std::string& file_name, const fs::path& out) {
  const auto& columns = destination.partition_columns;
  std::string table = QuoteIdent("__aqueducts_partitions_" + file_name);
  std::string keys, exclude;
  for (size_t i = 0; i < columns.size(); i++) {
    std::string key = QuoteIdent("__aqueducts_key_" + std::to_string(i));
    keys += (i ? ", " : "") + KeySql(columns[i]) + " AS " + key;
    exclude += (i ? ", " : "") + QuoteIdent(columns[i]) + ", " + key;
  }
  AQ_RETURN_IF_ERROR(conn.Execute("CREATE TEMP TABLE " + table + " AS SELECT *, " + keys +
                                  " FROM (" + relation_sql + ")"));
  struct Drop {
    engine::Connection& conn;
    std::string table;
    ~Drop() { (void)conn.Execute("DROP TABLE IF EXISTS " + table); }
  } drop{conn, table};
  std::string key_list;
  for (size_t i = 0; i < columns.size(); i++) {
    key_list += (i ? ", " : "") + QuoteIdent("__aqueducts_key_" + std::to_string(i));
  }
  AQ_ASSIGN_OR_RETURN(auto distinct, conn.Query("SELECT DISTINCT " + key_list + " FROM " + table));
  PartitionedOutput result;
  AQ_RETURN_IF_ERROR(files::MakeDirs(out.string()));
  for (const auto& row : distinct.rows) {
    std::vector<std::string> tokens;
    std::string where;
    for (size_t i = 0; i < row.size(); i++) {
      tokens.push_back(row[i].value_or(""));
      where += (i ? " AND " : "") + QuoteIdent("__aqueducts_key_" + std::to_string(i)) + " = " +
               QuoteLiteral(tokens.back());
    }
    AQ_ASSIGN_OR_RETURN(fs::path dir, DirectoryOf(columns, tokens));
    AQ_RETURN_IF_ERROR(files::MakeDirs((out / dir).string()));
    fs::path file = dir / (file_name + "-0.json");
    AQ_ASSIGN_OR_RETURN(
        int64_t rows,
        RunCopy(conn, "SELECT * EXCLUDE (" + exclude + ") FROM " + table + " WHERE " + where,
                out / file, "FORMAT json"));
    result.rows += rows;
    result.files.push_back(file.generic_string());
  }
  std::set<std::string> dirs;
  for (const auto& file : result.files) {
    dirs.insert(fs::path(file).parent_path().generic_string());
  }
  if (dirs.size() != distinct.rows.size()) {
    return Status::Internal(std::to_string(distinct.rows.size()) + " partitions became " +
                            std::to_string(dirs.size()) + " directories; nothing was published");
  }
  result.partitions = static_cast<int64_t>(dirs.size());
  return result;
}

Result<PartitionedOutput> WritePartitioned(engine::Connection& conn,
                                           const FileDestination& destination,
                                           const std::string& relation_sql,
                                           const std::string& options, const fs::path& raw,
                                           const fs::path& out) {
  const auto& columns = destination.partition_columns;
  std::string replace, by;
  for (const auto& column : columns) {
    replace += (replace.empty() ? "" : ", ") + KeySql(column) + " AS " + QuoteIdent(column);
    by += (by.empty() ? "" : ", ") + QuoteIdent(column);
  }
  std::string keyed = "SELECT * REPLACE (" + replace + ") FROM (" + relation_sql + ")";
  PartitionedOutput result;
  AQ_ASSIGN_OR_RETURN(result.rows,
                      RunCopy(conn, keyed, raw, options + ", PARTITION_BY (" + by + ")"));
  std::set<std::string> raw_dirs, dirs;
  AQ_RETURN_IF_ERROR(files::MakeDirs(out.string()));
  for (const auto& file : ListOutputFiles(raw.string())) {
    fs::path relative(file);
    std::vector<std::string> parts;
    for (const auto& part : relative.parent_path()) {
      parts.push_back(part.string());
    }
    if (parts.size() != columns.size()) {
      return Status::Internal("unexpected file '" + file + "' in the partitioned output");
    }
    std::vector<std::string> tokens;
    for (const auto& part : parts) {
      size_t eq = part.rfind('=');
      tokens.push_back(eq == std::string::npos ? "" : part.substr(eq + 1));
    }
    AQ_ASSIGN_OR_RETURN(fs::path dir, DirectoryOf(columns, tokens));
    raw_dirs.insert(relative.parent_path().generic_string());
    dirs.insert(dir.generic_string());
    AQ_RETURN_IF_ERROR(files::MakeDirs((out / dir).string()));
    Status moved =
        files::Rename((raw / relative).string(), (out / dir / relative.filename()).string());
    if (!moved.ok()) {
      return Status::IoError("cannot move '" + (raw / relative).string() + "': " + moved.message());
    }
    result.files.push_back((dir / relative.filename()).generic_string());
  }
  if (raw_dirs.size() != dirs.size()) {
    return Status::Internal(std::to_string(raw_dirs.size()) + " partitions became " +
                            std::to_string(dirs.size()) + " directories; nothing was published");
  }
  result.partitions = static_cast<int64_t>(dirs.size());
  (void)files::RemoveTree(raw.string());
  return result;
}

}  // namespace

bool WritesDirectory(const FileDestination& destination) {
  if (destination.single_file.has_value()) {
    return !*destination.single_file;
  }
  if (!destination.partition_columns.empty()) {
    return true;
  }
  std::string path =
      destination.location.IsLocal() ? destination.location.LocalPath() : destination.location.url;
  if (!path.empty() && path.back() == '/') {
    return true;
  }
  return Target(path).extension().empty();
}

Status PrepareFileDestination(const FileDestination& destination) {
  if (destination.single_file == true && !destination.partition_columns.empty()) {
    return Status::InvalidArgument(
        "partition_columns write a directory: remove single_file: true (or set it to false)");
  }
  if (!destination.location.IsLocal()) {
    if (WritesDirectory(destination)) {
      AQ_ASSIGN_OR_RETURN(storage::ObjectUrl url,
                          storage::ParseObjectUrl(Target(destination.location.url).string()));
      if (url.key.empty()) {
        return Status::InvalidArgument(
            "a directory output on an object store needs a prefix inside the bucket (e.g. " +
            url.scheme + "://" + url.bucket + "/out/); the root of a bucket is not written");
      }
    }
    return Status::OK();
  }
  AQ_ASSIGN_OR_RETURN(std::string path, LocalPathOf(destination.location));
  fs::path target = Target(path);
  bool directory = WritesDirectory(destination);
  AQ_ASSIGN_OR_RETURN(files::Kind kind, files::KindOf(target.string()));
  if (kind != files::Kind::kMissing) {
    if (!directory && kind == files::Kind::kDirectory) {
      return Status::InvalidArgument(
          "'" + target.string() +
          "' is a directory; a single-file destination writes one file there and will not "
          "replace a directory (give a file path, or set single_file: false to write files "
          "into the directory)");
    }
    if (directory && kind != files::Kind::kDirectory) {
      return Status::InvalidArgument("'" + target.string() +
                                     "' exists and is not a directory; this destination writes "
                                     "a directory there (single_file: false, partition_columns, "
                                     "or a location without a file extension)");
    }
  }
  fs::path parent = target.parent_path();
  if (parent.empty()) {
    parent = ".";
  }
  fs::path existing = parent;
  auto exists = [](const fs::path& path) {
    auto found = files::KindOf(path.string());
    return !found.ok() || *found != files::Kind::kMissing;
  };
  while (!exists(existing) && existing.has_relative_path() && existing.has_parent_path() &&
         existing.parent_path() != existing) {
    existing = existing.parent_path();
  }
  if (existing.empty()) {
    existing = ".";
  }
  auto existing_kind = files::KindOf(existing.string());
  if (!existing_kind.ok() || *existing_kind != files::Kind::kDirectory) {
    return Status::InvalidArgument("'" + existing.string() + "' is a file, not a directory, so '" +
                                   parent.string() + "' cannot hold the output");
  }
  // A permission probe has no counterpart in the storage seam (object stores answer a write
  // with an error): the one direct file system call of the module, for an early clear error.
  if (::access(existing.c_str(), W_OK) != 0) {
    return Status::IoError("the directory '" + existing.string() + "' is not writable");
  }
  return Status::OK();
}

Result<std::string> CopyOptions(const FileDestination& destination) {
  const DestinationFileType& format = destination.format;
  switch (format.format) {
    case FileFormat::kParquet: {
      AQ_ASSIGN_OR_RETURN(std::string parquet, ParquetCopyOptions(format.parquet_options));
      return "FORMAT parquet" + parquet;
    }
    case FileFormat::kCsv: {
      std::string path = destination.location.url;  // only its extension matters here
      if (destination.location.IsLocal()) {
        AQ_ASSIGN_OR_RETURN(path, LocalPathOf(destination.location));
      }
      return std::string("FORMAT csv, HEADER ") + (format.has_header ? "true" : "false") +
             ", DELIMITER " + QuoteLiteral(std::string(1, format.delimiter)) + ", COMPRESSION " +
             QuoteLiteral(CsvCompression(destination, path));
    }
    case FileFormat::kJson:
      return std::string("FORMAT json");  // newline-delimited: one object per line
  }
  return Status::Internal("unhandled file format");
}

namespace {

// One object on an object store. The store's upload becomes visible only when the COPY
// succeeds (src/engine/object_file_system.cc), so a failed run leaves the previous object as it
// was. The rows are then counted back from the object; a mismatch fails the run.
Result<FileWriteStats> WriteObject(engine::Connection& conn, const FileDestination& destination,
                                   const std::string& relation_sql) {
  AQ_RETURN_IF_ERROR(PrepareFileDestination(destination));
  AQ_ASSIGN_OR_RETURN(std::string options, CopyOptions(destination));
  const std::string& url = destination.location.url;
  AQ_ASSIGN_OR_RETURN(std::vector<Column> columns, Describe(conn, relation_sql));
  std::string relation = destination.format.format == FileFormat::kJson
                             ? JsonRelation(columns, relation_sql)
                             : relation_sql;
  FileWriteStats stats;
  AQ_ASSIGN_OR_RETURN(stats.rows, RunCopy(conn, relation, fs::path(url), options));
  size_t slash = url.rfind('/');
  AQ_ASSIGN_OR_RETURN(int64_t written,
                      CountWritten(conn, destination, url, columns, fs::path(url.substr(0, slash)),
                                   {url.substr(slash + 1)}));
  Status counted = CheckCount(stats.rows, written);
  if (!counted.ok()) {
    return counted.WithPrefix("the object " + url + " was written but is wrong: ");
  }
  stats.bytes = -1;  // unknown without another request; progress shows rows
  return stats;
}

// The columns inside the files: all but the partition columns.
std::vector<Column> FileColumns(const FileDestination& destination,
                                const std::vector<Column>& columns) {
  std::set<std::string> partitioned(destination.partition_columns.begin(),
                                    destination.partition_columns.end());
  std::vector<Column> out;
  for (const auto& column : columns) {
    if (partitioned.count(column.name) == 0) {
      out.push_back(column);
    }
  }
  return out;
}

// A directory on an object store (io/object_dir.h): no rename exists, so the objects are
// written straight into the directory under this run's names (a partitioned write is staged
// under the directory's hidden staging prefix and copied into its Hive directories), counted
// back, and published by the manifest. On failure the run's objects are deleted.
Result<FileWriteStats> WriteObjectDirectory(engine::Connection& conn,
                                            const FileDestination& destination,
                                            const std::string& relation_sql,
                                            const CancelToken* cancel) {
  AQ_RETURN_IF_ERROR(PrepareFileDestination(destination));
  AQ_ASSIGN_OR_RETURN(std::string options, CopyOptions(destination));
  const std::string target = Target(destination.location.url).string();
  // The seam (io/files.h) resolves the directory's URLs with the destination's storage_config.
  auto registry = std::make_shared<storage::StoreRegistry>();
  AQ_RETURN_IF_ERROR(registry->Register(target, destination.storage_config));
  storage::ScopedObjectStores scope(target, registry);

  AQ_ASSIGN_OR_RETURN(std::vector<Column> columns, Describe(conn, relation_sql));
  std::string relation = destination.format.format == FileFormat::kJson
                             ? JsonRelation(columns, relation_sql)
                             : relation_sql;
  std::vector<Column> file_columns = FileColumns(destination, columns);

  FileWriteStats stats;
  AQ_ASSIGN_OR_RETURN(ObjectDirRun run, ObjectDirRun::Begin(target, &stats.warnings));
  const std::string name = "part-" + run.token();
  // Fresh names: DuckDB never overwrites anything, and ignores the objects already there.
  std::string name_options = options + ", FILENAME_PATTERN " + QuoteLiteral(name + "-{i}");
  std::vector<std::string> files;
  int64_t rows_in = 0;
  Status status;
  if (destination.partition_columns.empty()) {
    auto rows = RunCopy(conn, relation, fs::path(target),
                        name_options + ", PER_THREAD_OUTPUT true, OVERWRITE_OR_IGNORE true");
    status = rows.status();
    if (status.ok()) {
      rows_in = *rows;
      auto listed = run.NewFiles();
      status = listed.status();
      if (listed.ok()) {
        files = *listed;
      }
    }
  } else {
    auto written = destination.format.format == FileFormat::kJson
                       ? WritePartitionedJson(conn, destination, relation, name, fs::path(target))
                       : WritePartitioned(conn, destination, relation, name_options,
                                          fs::path(run.StagingUrl()), fs::path(target));
    status = written.status();
    if (status.ok()) {
      rows_in = written->rows;
      files = written->files;
      stats.partitions = written->partitions;
    }
  }
  if (status.ok()) {
    auto written = CountWritten(conn, destination, target, file_columns, fs::path(target), files);
    status = written.ok() ? CheckCount(rows_in, *written) : written.status();
  }
  if (status.ok() && cancel != nullptr && cancel->cancelled()) {
    status = Status::Cancelled("file write cancelled");
  }
  if (status.ok()) {
    stats.rows = rows_in;
    stats.bytes = SizeOf(fs::path(target), files);
    status = run.Commit(files, &stats.warnings);
  }
  if (!status.ok()) {
    run.Abort();
    return status;
  }
  return stats;
}

}  // namespace

Result<FileWriteStats> WriteFileDestination(engine::Connection& conn,
                                            const FileDestination& destination,
                                            const std::string& relation_sql,
                                            const CancelToken* cancel) {
  if (!destination.location.IsLocal()) {
    return WritesDirectory(destination)
               ? WriteObjectDirectory(conn, destination, relation_sql, cancel)
               : WriteObject(conn, destination, relation_sql);
  }
  auto check_cancel = [cancel]() {
    return cancel != nullptr && cancel->cancelled() ? Status::Cancelled("file write cancelled")
                                                    : Status::OK();
  };
  AQ_RETURN_IF_ERROR(PrepareFileDestination(destination));
  AQ_ASSIGN_OR_RETURN(std::string path, LocalPathOf(destination.location));
  AQ_ASSIGN_OR_RETURN(std::string options, CopyOptions(destination));
  fs::path target = Target(path);
  FileWriteStats stats;
  if (!target.parent_path().empty()) {
    Status made = files::MakeDirs(target.parent_path().string());
    if (!made.ok()) {
      return Status::IoError("cannot create the directory '" + target.parent_path().string() +
                             "': " + made.message());
    }
  }
  CleanStaleTemporaries(target.string(), &stats.warnings);

  AQ_ASSIGN_OR_RETURN(std::vector<Column> columns, Describe(conn, relation_sql));
  std::string relation = destination.format.format == FileFormat::kJson
                             ? JsonRelation(columns, relation_sql)
                             : relation_sql;
  std::vector<Column> file_columns = FileColumns(destination, columns);

  fs::path tmp = TemporarySibling(target.string(), "tmp");
  fs::path raw = TemporarySibling(target.string(), "tmp");
  auto cleanup = [&] {
    (void)files::RemoveTree(tmp.string());
    (void)files::RemoveTree(raw.string());
  };
  Status status;
  if (!WritesDirectory(destination)) {
    auto rows = RunCopy(conn, relation, tmp, options);
    status = rows.status();
    if (status.ok()) {
      auto written = CountWritten(conn, destination, path, file_columns, tmp.parent_path(),
                                  {tmp.filename().string()});
      status = written.ok() ? CheckCount(*rows, *written) : written.status();
      stats.rows = *rows;
    }
    if (status.ok()) {
      status = check_cancel();
    }
    if (status.ok()) {
      stats.bytes = SizeOf(tmp.parent_path(), {tmp.filename().string()});
      status = files::Rename(tmp.string(), target.string());
    }
    if (!status.ok()) {
      cleanup();
      return status;
    }
    return stats;
  }

  // A directory: unique file names, so that a merge never meets a name of the previous run.
  const std::string run_token =
      tmp.filename().string().substr(tmp.filename().string().rfind('-') + 1);
  std::string name_options =
      options + ", FILENAME_PATTERN " + QuoteLiteral("part-" + run_token + "-{i}");
  std::vector<std::string> files;
  int64_t rows_in = 0;
  if (destination.partition_columns.empty()) {
    auto rows = RunCopy(conn, relation, tmp, name_options + ", PER_THREAD_OUTPUT true");
    status = rows.status();
    if (status.ok()) {
      rows_in = *rows;
      status = files::MakeDirs(tmp.string());  // an empty result may write no file
      files = ListOutputFiles(tmp.string());
    }
  } else {
    auto written = destination.format.format == FileFormat::kJson
                       ? WritePartitionedJson(conn, destination, relation, "part-" + run_token, tmp)
                       : WritePartitioned(conn, destination, relation, name_options, raw, tmp);
    status = written.status();
    if (status.ok()) {
      rows_in = written->rows;
      files = written->files;
      stats.partitions = written->partitions;
    }
  }
  if (status.ok()) {
    auto written = CountWritten(conn, destination, path, file_columns, tmp, files);
    status = written.ok() ? CheckCount(rows_in, *written) : written.status();
  }
  if (status.ok()) {
    stats.rows = rows_in;
    stats.bytes = SizeOf(tmp, files);
    status = WriteManifest(tmp, std::set<std::string>(files.begin(), files.end()));
  }
  if (status.ok()) {
    status = check_cancel();
  }
  if (status.ok()) {
    status = PublishDirectory(tmp, target, &stats.warnings);
  }
  if (!status.ok()) {
    cleanup();
    return status;
  }
  cleanup();
  return stats;
}

}  // namespace aqueducts::io

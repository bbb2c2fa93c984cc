#include "io/file_source.h"

#include "io/duckdb_types.h"
#include "io/files.h"
#include "io/hive_path.h"
#include "io/output_dir.h"
#include "storage/mounts.h"
#include "storage/store_registry.h"

namespace aqueducts::io {
namespace {

using engine::QuoteIdent;
using engine::QuoteLiteral;

bool IsBinary(const DataType& type) {
  return type.id == TypeId::kBinary || type.id == TypeId::kLargeBinary ||
         type.id == TypeId::kFixedSizeBinary;
}

const char* Extension(FileFormat format) {
  switch (format) {
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kParquet:
      return "parquet";
    case FileFormat::kJson:
      return "json";
  }
  return "";
}

// A header-less CSV without a schema names its columns column_1 ... column_n (DuckDB
// would say column0...). The count comes from binding the reader once, which only sniffs.
Result<std::string> HeaderlessNames(engine::Connection& conn, const std::string& reader) {
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("DESCRIBE SELECT * FROM " + reader + ")"));
  std::string names = "[";
  for (size_t i = 0; i < rows.rows.size(); i++) {
    names += (i ? ", " : "") + QuoteLiteral("column_" + std::to_string(i + 1));
  }
  return names + "]";
}

// The reader call for `paths` (a literal: one path or a glob), without its closing parenthesis
// so callers can append options.
Result<std::string> Reader(engine::Connection& conn, const SourceFileType& format,
                           const std::string& paths) {
  switch (format.format) {
    case FileFormat::kCsv: {
      // A quoted empty string ("") is '' (unless quoted_empty_as_null), an empty field is NULL.
      // Quoting is RFC 4180's (as our CSV destination writes), not sniffed: a file whose only
      // quotes are "" would otherwise be read as unquoted.
      std::string reader = "read_csv(" + paths +
                           ", header = " + (format.has_header ? "true" : "false") +
                           ", delim = " + QuoteLiteral(std::string(1, format.delimiter)) +
                           ", quote = '\"', escape = '\"', allow_quoted_nulls = " +
                           (format.quoted_empty_as_null ? "true" : "false");
      if (!format.schema.empty()) {
        AQ_ASSIGN_OR_RETURN(std::string columns, ColumnsLiteral(format.schema));
        return reader + ", columns = " + columns;
      }
      if (!format.has_header) {
        AQ_ASSIGN_OR_RETURN(std::string names, HeaderlessNames(conn, reader));
        return reader + ", names = " + names;
      }
      return reader;
    }
    case FileFormat::kJson: {
      std::string reader = "read_json(" + paths + ", format = 'newline_delimited'";
      if (!format.schema.empty()) {
        // Binary columns are base64 text in JSON (as our JSON destination writes them); Select
        // decodes them.
        std::vector<Field> schema = format.schema;
        for (auto& field : schema) {
          if (IsBinary(field.data_type)) {
            field.data_type = MakeType(TypeId::kUtf8);
          }
        }
        AQ_ASSIGN_OR_RETURN(std::string columns, ColumnsLiteral(schema));
        reader += ", columns = " + columns;
      }
      return reader;
    }
    case FileFormat::kParquet:
      return "read_parquet(" + paths;
  }
  return Status::Internal("unhandled file format");
}

// A JSON source with declared binary columns decodes their base64 text.
std::string JsonSelect(const SourceFileType& format, const std::string& from) {
  std::string replace;
  for (const auto& field : format.schema) {
    if (IsBinary(field.data_type)) {
      replace += (replace.empty() ? "" : ", ") + std::string("from_base64(") +
                 QuoteIdent(field.name) + ") AS " + QuoteIdent(field.name);
    }
  }
  return replace.empty() ? "SELECT * FROM " + from
                         : "SELECT * REPLACE (" + replace + ") FROM " + from;
}

// Parquet carries its own types, so a declared schema becomes a projection with casts (which
// also selects and orders the columns as declared). `extra` are partition columns kept as is.
Result<std::string> Select(const SourceFileType& format, const std::string& from,
                           const std::vector<std::string>& extra = {}) {
  if (format.format == FileFormat::kJson) {
    return JsonSelect(format, from);
  }
  if (format.format != FileFormat::kParquet || format.schema.empty()) {
    return "SELECT * FROM " + from;
  }
  std::string list;
  for (const auto& field : format.schema) {
    AQ_ASSIGN_OR_RETURN(std::string type, DuckDbTypeName(field.data_type));
    list += (list.empty() ? "" : ", ") + std::string("CAST(") + QuoteIdent(field.name) + " AS " +
            type + ") AS " + QuoteIdent(field.name);
  }
  for (const auto& name : extra) {
    list += ", " + QuoteIdent(name);
  }
  return "SELECT " + list + " FROM " + from;
}

// An object-store directory that a file destination wrote holds a manifest listing the
// objects of its last committed run: only those are read (with the format's extension), so that
// the objects of a run in progress, of a killed run, or of anyone else are never read. Without a
// manifest, the glob of every object with the extension. Local directories are published whole by
// a rename, so they are always read by the glob.
Result<std::string> ManifestPaths(const std::string& dir,
                                  const std::map<std::string, std::string>& storage_config,
                                  const std::string& extension) {
  // The seam (io/files.h) resolves the directory's URLs with the source's storage_config.
  auto registry = std::make_shared<storage::StoreRegistry>();
  AQ_RETURN_IF_ERROR(registry->Register(dir, storage_config));
  storage::ScopedObjectStores scope(dir, registry);
  AQ_ASSIGN_OR_RETURN(auto manifest, ReadManifestIfAny(dir));
  if (!manifest.has_value()) {
    return QuoteLiteral(dir + "/**/*" + extension);
  }
  std::string list;
  for (const auto& relative : *manifest) {
    if (relative.size() > extension.size() &&
        relative.compare(relative.size() - extension.size(), extension.size(), extension) == 0) {
      list += (list.empty() ? "" : ", ") + QuoteLiteral(dir + "/" + relative);
    }
  }
  if (list.empty()) {
    return Status::NotFound("the manifest '" + dir + "/" + kManifestName + "' lists no " +
                            extension +
                            " object: the directory's last committed output has "
                            "none to read");
  }
  return "[" + list + "]";
}

Result<std::string> DirSelect(engine::Connection& conn, const DirSource& source,
                              const std::string& paths);

}  // namespace

Result<std::string> LocalPathOf(const Location& location) {
  if (!location.IsLocal()) {
    return Status::Unsupported("object store scheme '" + location.Scheme() +
                               "' is not supported yet (location " + location.url + ")");
  }
  return location.LocalPath();
}

Result<std::string> FileSourceSql(engine::Connection& conn, const FileSource& source) {
  if (!source.location.IsLocal()) {
    // An object-store URL: DuckDB reads it through the store the runner registered; a missing
    // object is reported by the store, naming the URL.
    AQ_ASSIGN_OR_RETURN(std::string reader,
                        Reader(conn, source.format, QuoteLiteral(source.location.url)));
    return Select(source.format, reader + ")");
  }
  AQ_ASSIGN_OR_RETURN(std::string path, LocalPathOf(source.location));
  AQ_ASSIGN_OR_RETURN(files::Kind kind, files::KindOf(path));
  if (kind == files::Kind::kDirectory) {
    return Status::InvalidArgument("'" + path +
                                   "' is a directory; a file source reads one file (use "
                                   "type: directory to read the files in it)");
  }
  if (kind != files::Kind::kFile) {
    return Status::NotFound("file not found: '" + path + "'");
  }
  AQ_ASSIGN_OR_RETURN(std::string reader, Reader(conn, source.format, QuoteLiteral(path)));
  return Select(source.format, reader + ")");
}

Result<std::string> DirSourceSql(engine::Connection& conn, const DirSource& source) {
  std::string dir = source.location.url;  // object stores: a key prefix, listed by the glob
  if (source.location.IsLocal()) {
    AQ_ASSIGN_OR_RETURN(dir, LocalPathOf(source.location));
    AQ_ASSIGN_OR_RETURN(files::Kind kind, files::KindOf(dir));
    if (kind != files::Kind::kDirectory) {
      return Status::NotFound("directory not found: '" + dir + "'");
    }
  }
  while (dir.size() > 1 && dir.back() == '/') {
    dir.pop_back();
  }
  // Files are selected by the format's default extension, in any sub-directory.
  const std::string extension = std::string(".") + Extension(source.format.format);
  std::string paths = QuoteLiteral(dir + "/**/*" + extension);
  if (!source.location.IsLocal()) {
    AQ_ASSIGN_OR_RETURN(paths, ManifestPaths(dir, source.storage_config, extension));
  }
  return DirSelect(conn, source, paths);
}

Result<std::string> DirSourceSqlOver(engine::Connection& conn, const DirSource& source,
                                     const std::vector<std::string>& files) {
  if (files.empty()) {
    return Status::InvalidArgument("source '" + source.name + "': no file to read");
  }
  std::string list;
  for (const auto& file : files) {
    list += (list.empty() ? "[" : ", ") + QuoteLiteral(file);
  }
  return DirSelect(conn, source, list + "]");
}

namespace {

// The SELECT of a directory source over `paths` (a literal: a glob or a list of files).
Result<std::string> DirSelect(engine::Connection& conn, const DirSource& source,
                              const std::string& paths) {
  AQ_ASSIGN_OR_RETURN(std::string reader, Reader(conn, source.format, paths));
  // Only declared partition columns appear, as in the original listing table.
  reader += ", hive_partitioning = false";
  if (source.partition_columns.empty()) {
    return Select(source.format, reader + ")");
  }
  // Partition values are decoded from each file's path the Hive way (io/hive_path.h), which
  // DuckDB's own hive_partitioning does not do (it reads `NULL` as NULL and leaves %XX as is).
  const std::string file_column = "__aqueducts_file";
  reader += ", filename = " + QuoteLiteral(file_column);
  AQ_ASSIGN_OR_RETURN(std::string inner, Select(source.format, reader + ")", {file_column}));
  std::string list = "* EXCLUDE (" + QuoteIdent(file_column) + ")";
  for (const auto& column : source.partition_columns) {
    AQ_ASSIGN_OR_RETURN(std::string type, DuckDbTypeName(column.data_type));
    list += ", CAST(" + HiveValueSql(QuoteIdent(file_column), column.name) + " AS " + type +
            ") AS " + QuoteIdent(column.name);
  }
  return "SELECT " + list + " FROM (" + inner + ")";
}

}  // namespace

Status RegisterFileSource(engine::Connection& conn, const FileSource& source) {
  AQ_ASSIGN_OR_RETURN(std::string sql, FileSourceSql(conn, source));
  return conn.Execute("CREATE OR REPLACE VIEW " + QuoteIdent(source.name) + " AS " + sql);
}

Status RegisterDirSource(engine::Connection& conn, const DirSource& source) {
  AQ_ASSIGN_OR_RETURN(std::string sql, DirSourceSql(conn, source));
  return conn.Execute("CREATE OR REPLACE VIEW " + QuoteIdent(source.name) + " AS " + sql);
}

}  // namespace aqueducts::io

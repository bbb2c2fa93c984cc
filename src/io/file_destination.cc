#include "io/file_destination.h"

#include <filesystem>
#include <random>

#include <unistd.h>

#include "engine/value_text.h"
#include "io/file_source.h"
#include "io/parquet_options.h"

namespace aqueducts::io {
namespace {

namespace fs = std::filesystem;
using engine::QuoteIdent;
using engine::QuoteLiteral;

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  uint64_t v = rng();
  for (int i = 0; i < 12; i++, v >>= 4) {
    out += kDigits[v & 15];
  }
  return out;
}

// A sibling of `target` that a crash would leave visibly ours: ".<name>.aq-<tag>-<random>".
fs::path Sibling(const fs::path& target, const std::string& tag) {
  return target.parent_path() /
         ("." + target.filename().string() + ".aq-" + tag + "-" + RandomSuffix());
}

// The path without trailing slashes, so "out/" names the directory "out".
fs::path Target(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  return fs::path(p);
}

int64_t SizeOnDisk(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    return static_cast<int64_t>(fs::file_size(path, ec));
  }
  int64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(path, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      total += static_cast<int64_t>(it->file_size(ec));
    }
  }
  return total;
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

// Move the finished temporary output into place. A directory target cannot be replaced by one
// rename, so the old one is renamed aside first and removed once the new one is in.
Status Publish(const fs::path& tmp, const fs::path& target) {
  std::error_code ec;
  if (!fs::is_directory(target, ec)) {
    fs::rename(tmp, target, ec);
    if (ec) {
      return Status::IoError("cannot rename '" + tmp.string() + "' to '" + target.string() +
                             "': " + ec.message());
    }
    return Status::OK();
  }
  fs::path old = Sibling(target, "old");
  fs::rename(target, old, ec);
  if (ec) {
    return Status::IoError("cannot move the existing output '" + target.string() +
                           "' aside: " + ec.message());
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code restore;
    fs::rename(old, target, restore);
    return Status::IoError("cannot rename '" + tmp.string() + "' to '" + target.string() +
                           "': " + ec.message());
  }
  fs::remove_all(old, ec);
  return Status::OK();
}

}  // namespace

Status PrepareFileDestination(const FileDestination& destination) {
  AQ_ASSIGN_OR_RETURN(std::string path, LocalPathOf(destination.location));
  fs::path parent = Target(path).parent_path();
  if (parent.empty()) {
    parent = ".";
  }
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    return Status::NotFound("the directory '" + parent.string() + "' does not exist");
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    return Status::IoError("the directory '" + parent.string() + "' is not writable");
  }
  if (destination.single_file && !destination.partition_columns.empty()) {
    return Status::InvalidArgument(
        "partition_columns need single_file: false (a partitioned write is a directory)");
  }
  return Status::OK();
}

Result<std::string> CopyOptions(const FileDestination& destination) {
  const DestinationFileType& format = destination.format;
  std::string options;
  switch (format.format) {
    case FileFormat::kParquet: {
      AQ_ASSIGN_OR_RETURN(std::string parquet, ParquetCopyOptions(format.parquet_options));
      options = "FORMAT parquet" + parquet;
      break;
    }
    case FileFormat::kCsv: {
      AQ_ASSIGN_OR_RETURN(std::string path, LocalPathOf(destination.location));
      options = std::string("FORMAT csv, HEADER ") + (format.has_header ? "true" : "false") +
                ", DELIMITER " + QuoteLiteral(std::string(1, format.delimiter)) + ", COMPRESSION " +
                QuoteLiteral(CsvCompression(destination, path));
      break;
    }
    case FileFormat::kJson:
      options = "FORMAT json";  // newline-delimited: one object per line
      break;
  }
  if (!destination.single_file) {
    if (destination.partition_columns.empty()) {
      options += ", PER_THREAD_OUTPUT true";
    } else {
      std::string columns;
      for (const auto& column : destination.partition_columns) {
        columns += (columns.empty() ? "" : ", ") + QuoteIdent(column);
      }
      options += ", PARTITION_BY (" + columns + ")";
    }
  }
  return "(" + options + ")";
}

Result<FileWriteStats> WriteFileDestination(engine::Connection& conn,
                                            const FileDestination& destination,
                                            const std::string& relation_sql) {
  AQ_RETURN_IF_ERROR(PrepareFileDestination(destination));
  AQ_ASSIGN_OR_RETURN(std::string path, LocalPathOf(destination.location));
  AQ_ASSIGN_OR_RETURN(std::string options, CopyOptions(destination));
  fs::path target = Target(path);
  fs::path tmp = Sibling(target, "tmp");
  auto rows =
      conn.Query("COPY (" + relation_sql + ") TO " + QuoteLiteral(tmp.string()) + " " + options);
  Status status = rows.status();
  int64_t count = status.ok() ? engine::ReportedRowCount(*rows) : -1;
  if (status.ok() && count < 0) {
    status = Status::Internal("COPY returned no row count");
  }
  if (status.ok()) {
    status = Publish(tmp, target);
  }
  if (!status.ok()) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return status;
  }
  FileWriteStats stats;
  stats.rows = count;
  stats.bytes = SizeOnDisk(target);
  return stats;
}

}  // namespace aqueducts::io

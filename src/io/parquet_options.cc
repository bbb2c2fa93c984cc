#include "io/parquet_options.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/session.h"

namespace aqueducts::io {
namespace {

using engine::QuoteLiteral;

// DataFusion TableParquetOptions keys that DuckDB has no equivalent for: accepted so pipelines
// written for the original keep working, but they change nothing.
const std::set<std::string>& AcceptedKeys() {
  static const std::set<std::string> keys = {"data_pagesize_limit",
                                             "write_batch_size",
                                             "skip_arrow_metadata",
                                             "dictionary_enabled",
                                             "dictionary_page_size_limit",
                                             "statistics_enabled",
                                             "max_statistics_size",
                                             "created_by",
                                             "column_index_truncate_length",
                                             "statistics_truncate_length",
                                             "data_page_row_count_limit",
                                             "encoding",
                                             "bloom_filter_on_read",
                                             "bloom_filter_on_write",
                                             "bloom_filter_fpp",
                                             "bloom_filter_ndv",
                                             "allow_single_file_parallelism",
                                             "maximum_parallel_row_group_writers",
                                             "maximum_buffered_record_batches_per_stream",
                                             "pushdown_filters",
                                             "reorder_filters",
                                             "enable_page_index",
                                             "pruning",
                                             "skip_metadata",
                                             "metadata_size_hint",
                                             "schema_force_view_types",
                                             "binary_as_string",
                                             "coerce_int96",
                                             "compression"};
  return keys;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool IsNumber(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// "zstd(3)" -> COMPRESSION 'zstd', COMPRESSION_LEVEL 3.
Result<std::string> Compression(const std::string& value) {
  std::string codec = Lower(value);
  std::string level;
  if (size_t open = codec.find('('); open != std::string::npos && codec.back() == ')') {
    level = codec.substr(open + 1, codec.size() - open - 2);
    codec = codec.substr(0, open);
  }
  static const std::set<std::string> codecs = {"uncompressed", "snappy",  "gzip", "brotli",
                                               "lz4",          "lz4_raw", "zstd"};
  if (!codecs.count(codec)) {
    return Status::InvalidArgument("invalid Parquet compression '" + value +
                                   "': expected one of uncompressed, snappy, gzip, brotli, lz4, "
                                   "lz4_raw, zstd (optionally with a level, e.g. zstd(3))");
  }
  std::string out = ", COMPRESSION " + QuoteLiteral(codec);
  // DuckDB takes a level for zstd only; other codecs' levels are accepted and ignored.
  if (codec == "zstd" && !level.empty()) {
    if (!IsNumber(level)) {
      return Status::InvalidArgument("invalid Parquet compression level in '" + value + "'");
    }
    out += ", COMPRESSION_LEVEL " + level;
  }
  return out;
}

Result<std::string> PositiveInteger(const std::string& key, const std::string& value) {
  if (!IsNumber(value) || value == "0") {
    return Status::InvalidArgument("invalid value '" + value + "' for Parquet option '" + key +
                                   "': expected a positive integer");
  }
  return value;
}

}  // namespace

Result<std::string> ParquetCopyOptions(const std::map<std::string, std::string>& options) {
  std::string out;
  std::string compression = "zstd";  // issue requirement: ZSTD unless told otherwise
  std::string metadata;
  for (const auto& [key, value] : options) {
    if (key == "compression") {
      compression = value;
    } else if (key == "max_row_group_size" || key == "row_group_size") {
      AQ_ASSIGN_OR_RETURN(std::string n, PositiveInteger(key, value));
      out += ", ROW_GROUP_SIZE " + n;
    } else if (key == "row_group_size_bytes") {
      AQ_ASSIGN_OR_RETURN(std::string n, PositiveInteger(key, value));
      out += ", ROW_GROUP_SIZE_BYTES " + n;
    } else if (key == "writer_version") {
      if (value != "1.0" && value != "2.0") {
        return Status::InvalidArgument("invalid Parquet writer_version '" + value +
                                       "': expected 1.0 or 2.0");
      }
      out += value == "2.0" ? ", PARQUET_VERSION V2" : ", PARQUET_VERSION V1";
    } else if (key.rfind("metadata::", 0) == 0) {
      metadata += (metadata.empty() ? "" : ", ") + QuoteLiteral(key.substr(10)) + ": " +
                  QuoteLiteral(value);
    } else if (size_t sep = key.find("::");
               sep != std::string::npos && AcceptedKeys().count(key.substr(0, sep))) {
      // Per-column option (`<option>::<column>`): DuckDB's writer has no per-column settings.
    } else if (!AcceptedKeys().count(key)) {
      return Status::InvalidArgument("unknown Parquet writer option '" + key +
                                     "' (known: compression, max_row_group_size, row_group_size, "
                                     "row_group_size_bytes, writer_version, metadata::<key>, and "
                                     "the DataFusion TableParquetOptions keys)");
    }
  }
  AQ_ASSIGN_OR_RETURN(std::string codec, Compression(compression));
  out = codec + out;
  if (!metadata.empty()) {
    out += ", KV_METADATA {" + metadata + "}";
  }
  return out;
}

}  // namespace aqueducts::io

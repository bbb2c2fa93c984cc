#include "io/parquet_options.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "engine/session.h"

namespace aqueducts::io {
namespace {

using engine::QuoteLiteral;

constexpr const char* kSupported =
    "supported: compression (uncompressed, snappy, gzip, brotli, lz4, lz4_raw, zstd, zstd(1..22)), "
    "max_row_group_size, row_group_size_bytes, writer_version (1.0, 2.0), dictionary_enabled, "
    "dictionary_page_size_limit, bloom_filter_on_write, bloom_filter_fpp, "
    "statistics_enabled: chunk, skip_arrow_metadata: true, allow_single_file_parallelism: true, "
    "metadata::<key>; see docs/pipeline-format.md";

// Reader-side keys of DataFusion's TableParquetOptions. On a destination they changed nothing in
// the original either (they only steer reading), so they are accepted and have no effect.
const std::set<std::string>& ReadOnlyKeys() {
  static const std::set<std::string> keys = {
      "pushdown_filters", "reorder_filters",      "enable_page_index",       "pruning",
      "skip_metadata",    "metadata_size_hint",   "schema_force_view_types", "binary_as_string",
      "coerce_int96",     "bloom_filter_on_read", "max_predicate_cache_size"};
  return keys;
}

// Writer keys of the original that DuckDB's Parquet writer cannot honour, with the reason.
const std::map<std::string, std::string>& RefusedKeys() {
  static const std::map<std::string, std::string> keys = {
      {"created_by", "DuckDB always writes its own created_by"},
      {"data_pagesize_limit", "DuckDB sizes data pages itself"},
      {"data_page_row_count_limit", "DuckDB sizes data pages itself"},
      {"write_batch_size", "DuckDB has no write batch size"},
      {"encoding",
       "DuckDB chooses encodings itself (dictionary_enabled: false turns dictionaries "
       "off)"},
      {"column_index_truncate_length", "DuckDB writes no column index"},
      {"statistics_truncate_length", "DuckDB cannot truncate statistics"},
      {"max_statistics_size", "DuckDB cannot limit statistics sizes"},
      {"bloom_filter_ndv", "DuckDB sizes bloom filters from the dictionary"},
      {"maximum_parallel_row_group_writers", "DuckDB's writer has no such setting (use --threads)"},
      {"maximum_buffered_record_batches_per_stream", "DuckDB's writer has no such setting"},
  };
  return keys;
}

Status Refuse(const std::string& key, const std::string& value, const std::string& why) {
  return Status::InvalidArgument("Parquet option '" + key + "' (value '" + value +
                                 "') cannot be applied: " + why + "; " + kSupported);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool IsNumber(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

Result<bool> Bool(const std::string& key, const std::string& value) {
  std::string v = Lower(value);
  if (v == "true") {
    return true;
  }
  if (v == "false") {
    return false;
  }
  return Status::InvalidArgument("invalid value '" + value + "' for Parquet option '" + key +
                                 "': expected true or false");
}

// "zstd(3)" -> COMPRESSION 'zstd', COMPRESSION_LEVEL 3. DuckDB takes a level for zstd only.
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
  if (level.empty()) {
    return out;
  }
  if (codec != "zstd") {
    return Refuse("compression", value,
                  "DuckDB's Parquet writer takes a compression level for zstd only; write '" +
                      codec + "' (DuckDB's default level) or zstd(<1..22>)");
  }
  if (!IsNumber(level) || std::atoi(level.c_str()) < 1 || std::atoi(level.c_str()) > 22) {
    return Status::InvalidArgument("invalid Parquet compression level in '" + value +
                                   "': expected zstd(1) to zstd(22)");
  }
  return out + ", COMPRESSION_LEVEL " + level;
}

Result<std::string> PositiveInteger(const std::string& key, const std::string& value) {
  if (!IsNumber(value) || value.find_first_not_of('0') == std::string::npos) {
    return Status::InvalidArgument("invalid value '" + value + "' for Parquet option '" + key +
                                   "': expected a positive integer");
  }
  return value;
}

// One writer option (not compression or metadata) as COPY options; "" when the value is what
// DuckDB does anyway.
Result<std::string> Option(const std::string& key, const std::string& value) {
  if (key == "max_row_group_size" || key == "row_group_size") {
    AQ_ASSIGN_OR_RETURN(std::string n, PositiveInteger(key, value));
    return ", ROW_GROUP_SIZE " + n;
  }
  if (key == "row_group_size_bytes") {
    AQ_ASSIGN_OR_RETURN(std::string n, PositiveInteger(key, value));
    return ", ROW_GROUP_SIZE_BYTES " + n;
  }
  if (key == "writer_version") {
    if (value != "1.0" && value != "2.0") {
      return Status::InvalidArgument("invalid Parquet writer_version '" + value +
                                     "': expected 1.0 or 2.0");
    }
    return std::string(value == "2.0" ? ", PARQUET_VERSION V2" : ", PARQUET_VERSION V1");
  }
  if (key == "dictionary_enabled") {
    AQ_ASSIGN_OR_RETURN(bool on, Bool(key, value));
    return std::string(on ? "" : ", DICTIONARY_SIZE_LIMIT 0");
  }
  if (key == "dictionary_page_size_limit") {
    AQ_ASSIGN_OR_RETURN(std::string n, PositiveInteger(key, value));
    return ", STRING_DICTIONARY_PAGE_SIZE_LIMIT " + n;
  }
  if (key == "bloom_filter_on_write") {
    AQ_ASSIGN_OR_RETURN(bool on, Bool(key, value));
    return std::string(on ? ", WRITE_BLOOM_FILTER true" : ", WRITE_BLOOM_FILTER false");
  }
  if (key == "bloom_filter_fpp") {
    char* end = nullptr;
    double p = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(p > 0 && p < 1)) {
      return Status::InvalidArgument("invalid value '" + value +
                                     "' for Parquet option 'bloom_filter_fpp': expected a "
                                     "probability between 0 and 1 (exclusive)");
    }
    return ", BLOOM_FILTER_FALSE_POSITIVE_RATIO " + value;
  }
  if (key == "statistics_enabled") {
    if (Lower(value) == "chunk") {
      return std::string();
    }
    return Refuse(key, value,
                  "DuckDB always writes column-chunk statistics and no page statistics; use "
                  "'chunk' or remove the key");
  }
  if (key == "skip_arrow_metadata") {
    AQ_ASSIGN_OR_RETURN(bool skip, Bool(key, value));
    if (skip) {
      return std::string();
    }
    return Refuse(key, value, "DuckDB writes no embedded Arrow schema; use true or remove the key");
  }
  if (key == "allow_single_file_parallelism") {
    AQ_ASSIGN_OR_RETURN(bool on, Bool(key, value));
    if (on) {
      return std::string();
    }
    return Refuse(key, value, "DuckDB always writes a single file in parallel; use --threads 1");
  }
  if (ReadOnlyKeys().count(key)) {
    return std::string();
  }
  if (auto it = RefusedKeys().find(key); it != RefusedKeys().end()) {
    return Refuse(key, value, it->second);
  }
  if (size_t sep = key.find("::"); sep != std::string::npos) {
    return Refuse(key, value,
                  "per-column options (<option>::<column>) have no equivalent in DuckDB's "
                  "Parquet writer, whose settings apply to every column");
  }
  return Status::InvalidArgument("unknown Parquet writer option '" + key + "'; " + kSupported);
}

}  // namespace

Result<std::string> ParquetCopyOptions(const std::map<std::string, std::string>& options) {
  std::string out;
  std::string compression = "zstd";  // ZSTD unless told otherwise
  std::string metadata;
  for (const auto& [key, value] : options) {
    if (key == "compression") {
      compression = value;
    } else if (key.rfind("metadata::", 0) == 0) {
      metadata += (metadata.empty() ? "" : ", ") + QuoteLiteral(key.substr(10)) + ": " +
                  QuoteLiteral(value);
    } else {
      AQ_ASSIGN_OR_RETURN(std::string copy, Option(key, value));
      out += copy;
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

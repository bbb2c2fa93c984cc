#pragma once

// Parquet writer options of a file destination translated to DuckDB COPY options.

#include <map>
#include <string>

#include "aqueducts/status.h"

namespace aqueducts::io {

/// The COPY options (", COMPRESSION 'zstd', ROW_GROUP_SIZE 1000") for the DataFusion-style
/// writer `options`. Compression defaults to ZSTD. Every key of the original either maps to a
/// DuckDB COPY option (compression, max_row_group_size, row_group_size_bytes, writer_version,
/// dictionary_enabled, dictionary_page_size_limit, bloom_filter_on_write, bloom_filter_fpp,
/// metadata::<key>), matches what DuckDB does anyway (statistics_enabled: chunk,
/// skip_arrow_metadata: true, allow_single_file_parallelism: true, reader-only keys), or is
/// kInvalidArgument naming the key, why, and what is supported (per-column options included).
Result<std::string> ParquetCopyOptions(const std::map<std::string, std::string>& options);

}  // namespace aqueducts::io

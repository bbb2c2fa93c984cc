#pragma once

// Parquet writer options of a file destination (spec 1.7) translated to DuckDB COPY options.

#include <map>
#include <string>

#include "aqueducts/status.h"

namespace aqueducts::io {

/// The COPY options (", COMPRESSION 'zstd', ROW_GROUP_SIZE 1000") for the DataFusion-style
/// writer `options`. Compression defaults to ZSTD. Mapped keys: compression ("snappy",
/// "zstd(3)", ...), max_row_group_size / row_group_size, row_group_size_bytes, writer_version,
/// metadata::<key>. Other known DataFusion keys (and per-column `<option>::<column>` forms) are
/// accepted and have no effect; an unknown key is kInvalidArgument naming it.
Result<std::string> ParquetCopyOptions(const std::map<std::string, std::string>& options);

}  // namespace aqueducts::io

#pragma once

// Writing Parquet data files for a Delta table, with Delta stats and partition directories.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aqueducts/status.h"

#include "delta/log.h"
#include "engine/session.h"

namespace aqueducts::delta {

struct WrittenFiles {
  std::vector<FileAction> adds;    ///< the new files, relative to the table root
  std::vector<std::string> paths;  ///< their absolute paths (to delete when the commit fails)
  int64_t rows = 0;
  int64_t bytes = 0;
};

/// Write the rows of `source_sql` (columns = snapshot schema, logical names) into new files
/// under the table root: one file per partition, `<col>=<hive-escaped
/// value>/.../part-00000-<uuid>-c000.zstd.parquet`. An empty partition value is logged as
/// null (it shares the NULL partition). `rows_in` is the number of rows of `source_sql`; the
/// write fails (and deletes its files) unless the new files hold exactly that many rows, and
/// each partition's files exactly the source rows of that partition. -1
/// (unpartitioned tables only) takes the count the single COPY read from the source.
Result<WrittenFiles> WriteDataFiles(engine::Connection& conn, const Snapshot& snapshot,
                                    const std::string& source_sql, int64_t rows_in);

/// OK when the numRecords of `adds`' stats sum to `rows_in`; an error naming both otherwise.
Status CheckRowsWritten(int64_t rows_in, const std::vector<FileAction>& adds);

/// Serialized partition value of `expr` (a column of `type`) as Delta writes it, in SQL.
Result<std::string> PartitionValueText(const nlohmann::json& delta_type, const std::string& expr);

/// Delete files (best effort).
void RemoveFiles(const std::vector<std::string>& paths);

}  // namespace aqueducts::delta

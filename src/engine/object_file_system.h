#pragma once

// DuckDB reads and writes s3://, az://, abfss://... paths through our object-store client:
// read_csv/read_parquet/read_json (with globs and hive partitions) and COPY ... TO work on
// them unchanged. DuckDB-free header.

#include <memory>

#include "aqueducts/status.h"

#include "storage/store_registry.h"

namespace duckdb {
class DuckDB;
}

namespace aqueducts::engine {

/// Register the object-store file system on `db` (once; later calls do nothing), resolving
/// every URL through `registry`.
Status InstallObjectFileSystem(duckdb::DuckDB& db,
                               std::shared_ptr<storage::StoreRegistry> registry);

}  // namespace aqueducts::engine

#pragma once

// DataFusion functions written in C++ (datafusion_native.cc): sha224, sha384, sha512,
// named_struct, array_dims, regexp_match and __aq_cardinality (behind the cardinality macro).

#include <string>
#include <vector>

namespace duckdb {
class DatabaseInstance;
}

namespace aqueducts::engine {

/// The names of the functions RegisterDataFusionNativeFunctions adds.
const std::vector<std::string>& DataFusionNativeFunctionNames();

/// Add them to `db`'s system catalog (once per database: see RegisterSystemFunctionsOnce).
void RegisterDataFusionNativeFunctions(duckdb::DatabaseInstance& db);

}  // namespace aqueducts::engine

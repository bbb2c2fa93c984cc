#include "engine/custom_functions.h"

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include <duckdb.hpp>

#include "common/text.h"
#include "engine/arrow_cast.h"
#include "engine/datafusion_functions.h"
#include "engine/datafusion_native.h"
#include "engine/duckdb_error.h"
#include "engine/json_functions.h"
#include "engine/session.h"

namespace aqueducts::engine {
namespace {

// DuckDB's json extension owns the name json_contains (JSON containment), and a C++ function in
// the system catalog cannot replace it, so json_contains is a macro in the default schema (which
// the binder searches first) overloaded for 1..kMaxContainsPath path steps, each calling the
// variadic __aq_json_contains (json_functions.cc). The rest of the json_get* family are C++
// functions with any number of path steps.
constexpr int kMaxContainsPath = 32;

std::string ContainsMacros() {
  std::string sql = "CREATE OR REPLACE MACRO json_contains";
  for (int n = 1; n <= kMaxContainsPath; n++) {
    std::string params = "j";
    for (int i = 1; i <= n; i++) {
      params += ", p" + std::to_string(i);
    }
    sql += (n == 1 ? "(" : ", (") + params + ") AS __aq_json_contains(" + params + ")";
  }
  return sql + ";\n";
}

std::string AllFunctionsSql() {
  std::string sql;
  // Elements re-serialised as compact JSON text, as the original does; a non-array is an error.
  sql +=
      "CREATE OR REPLACE MACRO unnest_json_array(x) AS CASE WHEN x IS NULL THEN NULL "
      "WHEN json_type(x) = 'ARRAY' THEN CAST(json_extract(x, '$[*]') AS VARCHAR[]) "
      "ELSE error('unnest_json_array: expected JSON array, got ' || CAST(x AS VARCHAR)) END;\n";
  sql += ContainsMacros();
  return sql;
}

// The type of the function entry `name` in the schema `main` of the system catalog (`system`)
// or of the connection's default database, if there is one. A catalog lookup: a scan of
// duckdb_functions() builds a row for every function of the database, and the three such scans
// a session used to run on opening were half of the instructions of a small run.
std::optional<duckdb::CatalogType> FunctionEntryType(duckdb::Connection& conn, bool system,
                                                     const std::string& name) {
  std::optional<duckdb::CatalogType> type;
  auto& context = *conn.context;
  context.RunFunctionInTransaction([&] {
    duckdb::Catalog& catalog = system ? duckdb::Catalog::GetSystemCatalog(context)
                                      : duckdb::Catalog::GetCatalog(context, INVALID_CATALOG);
    // The lookup type selects the kind of entry (a table function is not found as a scalar).
    for (auto kind :
         {duckdb::CatalogType::SCALAR_FUNCTION_ENTRY, duckdb::CatalogType::TABLE_FUNCTION_ENTRY,
          duckdb::CatalogType::MACRO_ENTRY, duckdb::CatalogType::AGGREGATE_FUNCTION_ENTRY}) {
      auto entry = catalog.GetEntry(context, kind, DEFAULT_SCHEMA, name,
                                    duckdb::OnEntryNotFound::RETURN_NULL);
      if (entry) {
        type = entry->type;
        return;
      }
    }
  });
  return type;
}

// Earlier versions created the json_get* family as macros in the default schema; in a database
// file written by them those would hide the C++ functions.
std::string DropOldMacrosSql(duckdb::Connection& conn) {
  std::string sql;
  for (const char* name :
       {"json_get", "json_get_json", "json_get_str", "json_get_int", "json_get_float",
        "json_get_bool", "json_get_array", "json_as_text", "json_length", "json_object_keys"}) {
    if (FunctionEntryType(conn, false, name) == duckdb::CatalogType::MACRO_ENTRY) {
      sql += std::string("DROP MACRO ") + name + ";\n";
    }
  }
  return sql;
}

}  // namespace

Status RegisterSystemFunctionsOnce(duckdb::Connection& conn, const std::string& probe,
                                   void (*register_fn)(duckdb::DatabaseInstance&)) {
  try {
    if (FunctionEntryType(conn, true, probe).has_value()) {
      return Status::OK();
    }
    try {
      register_fn(*conn.context->db);
    } catch (const std::exception&) {
      // Another connection of this database registered them first: fine if they are there now.
      if (!FunctionEntryType(conn, true, probe).has_value()) {
        throw;
      }
    }
    return Status::OK();
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

Status RegisterCustomFunctions(duckdb::Connection& conn) {
  AQ_RETURN_IF_ERROR(RegisterSystemFunctionsOnce(conn, "json_get_json", RegisterJsonFunctions)
                         .WithPrefix("Failed to register the custom SQL functions: "));
  try {
    auto result = conn.Query(DropOldMacrosSql(conn) + AllFunctionsSql());
    return CheckResult(*result).WithPrefix("Failed to register the custom SQL functions: ");
  } catch (const std::exception& e) {
    return FromException(e).WithPrefix("Failed to register the custom SQL functions: ");
  }
}

Status RegisterDataFusionFunctions(Connection& conn, const std::vector<std::string>& queries) {
  const std::string prefix = "Failed to register the DataFusion SQL functions: ";
  std::string sql = DataFusionFunctionsSqlFor(queries);
  if (NeedsNativeFunctions(queries, sql)) {
    AQ_RETURN_IF_ERROR(
        RegisterSystemFunctionsOnce(conn.duck(), "named_struct", RegisterDataFusionNativeFunctions)
            .WithPrefix(prefix));
  }
  if (!sql.empty()) {
    AQ_RETURN_IF_ERROR(conn.Execute(sql).WithPrefix(prefix));
  }
  for (const auto& query : queries) {
    std::string lower = ToLowerAscii(query);
    if (lower.find("arrow_cast") != std::string::npos) {
      // arrow_cast needs a bind step (its result type is its argument): a C++ function.
      return RegisterSystemFunctionsOnce(conn.duck(), "arrow_cast", RegisterArrowCast)
          .WithPrefix(prefix);
    }
  }
  return Status::OK();
}

}  // namespace aqueducts::engine

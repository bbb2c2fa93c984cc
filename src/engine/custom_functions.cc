#include "engine/custom_functions.h"

#include <cctype>
#include <string>
#include <vector>

#include <duckdb.hpp>

#include "common/text.h"
#include "engine/arrow_cast.h"
#include "engine/datafusion_functions.h"
#include "engine/duckdb_error.h"
#include "engine/session.h"

namespace aqueducts::engine {
namespace {

// The variadic path of datafusion-functions-json (string: key, integer: index) cannot be a
// DuckDB macro parameter list, so each function is a macro overloaded for 0..kMaxPathArgs path
// arguments (deeper paths: nest the calls, json_get_json(json_get_json(j, ...), ...)). Macros are
// expanded at bind time: the path folds to a constant and DuckDB's json extension does the work at
// full speed, which a per-row C++ UDF would not.
constexpr int kMaxPathArgs = 8;

// A JSON Pointer (RFC 6901) built from the path arguments: "/key/0". Pointer segments address
// object members and array elements alike, which is what a variadic key-or-index path means.
std::string PointerExpr(int n) {
  if (n == 0) {
    return "'$'";
  }
  std::string expr;
  for (int i = 1; i <= n; i++) {
    if (!expr.empty()) {
      expr += " || ";
    }
    std::string p = "p" + std::to_string(i);
    expr += "'/' || replace(replace(CAST(" + p + " AS VARCHAR), '~', '~0'), '/', '~1')";
  }
  return "(" + expr + ")";
}

std::string Params(int n) {
  std::string params = "j";
  for (int i = 1; i <= n; i++) {
    params += ", p" + std::to_string(i);
  }
  return params;
}

// `body` uses $P for the path expression.
std::string Macro(const std::string& name, const std::string& body, int min_args) {
  std::string sql = "CREATE OR REPLACE MACRO " + name;
  for (int n = min_args; n <= kMaxPathArgs; n++) {
    std::string expanded = body;
    for (size_t pos = expanded.find("$P"); pos != std::string::npos;
         pos = expanded.find("$P", pos)) {
      std::string path = PointerExpr(n);
      expanded.replace(pos, 2, path);
      pos += path.size();
    }
    // As in datafusion-functions-json, malformed JSON yields NULL rather than failing the
    // query; TRY costs nothing until a row actually fails.
    sql += (n == min_args ? "(" : ", (") + Params(n) + ") AS TRY(" + expanded + ")";
  }
  return sql + ";\n";
}

std::string AllFunctionsSql() {
  std::string sql;
  // Elements re-serialised as compact JSON text; a non-array is an error.
  sql +=
      "CREATE OR REPLACE MACRO unnest_json_array(x) AS CASE WHEN x IS NULL THEN NULL "
      "WHEN json_type(x) = 'ARRAY' THEN CAST(json_extract(x, '$[*]') AS VARCHAR[]) "
      "ELSE error('unnest_json_array: expected JSON array, got ' || CAST(x AS VARCHAR)) END;\n";
  // json_get returns text: a string value without its quotes (as the original's union value
  // casts to text), JSON null as NULL, anything else as JSON text.
  sql += Macro("json_get",
               "CASE json_type(j, $P) WHEN 'VARCHAR' THEN json_extract_string(j, $P) "
               "WHEN 'NULL' THEN NULL ELSE CAST(json_extract(j, $P) AS VARCHAR) END",
               0);
  sql += Macro("json_get_json", "CAST(json_extract(j, $P) AS VARCHAR)", 0);
  sql += Macro("json_get_str",
               "CASE WHEN json_type(j, $P) = 'VARCHAR' THEN json_extract_string(j, $P) END", 0);
  sql += Macro("json_get_int",
               "CASE WHEN json_type(j, $P) IN ('BIGINT', 'UBIGINT') "
               "THEN TRY_CAST(json_extract_string(j, $P) AS BIGINT) END",
               0);
  sql += Macro("json_get_float",
               "CASE WHEN json_type(j, $P) IN ('DOUBLE', 'BIGINT', 'UBIGINT') "
               "THEN CAST(json_extract_string(j, $P) AS DOUBLE) END",
               0);
  sql += Macro("json_get_bool",
               "CASE WHEN json_type(j, $P) = 'BOOLEAN' "
               "THEN CAST(json_extract_string(j, $P) AS BOOLEAN) END",
               0);
  sql += Macro("json_get_array",
               "CASE WHEN json_type(j, $P) = 'ARRAY' "
               "THEN CAST(json_extract(json_extract(j, $P), '$[*]') AS VARCHAR[]) END",
               0);
  sql += Macro("json_as_text",
               "CASE json_type(j, $P) WHEN 'VARCHAR' THEN json_extract_string(j, $P) "
               "WHEN 'NULL' THEN NULL ELSE CAST(json_extract(j, $P) AS VARCHAR) END",
               0);
  sql += Macro("json_length",
               "CASE json_type(j, $P) WHEN 'ARRAY' THEN CAST(json_array_length(j, $P) AS BIGINT) "
               "WHEN 'OBJECT' THEN CAST(len(json_keys(j, $P)) AS BIGINT) END",
               0);
  // Malformed JSON contains nothing: false, as in the original (NULL stays NULL).
  sql +=
      Macro("json_contains",
            "CASE WHEN j IS NULL THEN NULL ELSE coalesce(TRY(json_exists(j, $P)), false) END", 1);
  // json_keys is DuckDB's own function (same meaning); json_object_keys is ours.
  sql += Macro("json_object_keys",
               "CASE WHEN json_type(j, $P) = 'OBJECT' THEN json_keys(j, $P) END", 0);
  return sql;
}

}  // namespace

Status RegisterCustomFunctions(duckdb::Connection& conn) {
  try {
    auto result = conn.Query(AllFunctionsSql());
    return CheckResult(*result).WithPrefix("Failed to register the custom SQL functions: ");
  } catch (const std::exception& e) {
    return FromException(e).WithPrefix("Failed to register the custom SQL functions: ");
  }
}

namespace {

// arrow_cast needs a bind step (its result type is its argument), so it is a C++ function in
// the system catalog: once per database.
Status RegisterArrowCastOnce(duckdb::Connection& conn) {
  const char* kExists =
      "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'arrow_cast'";
  try {
    auto exists = conn.Query(kExists);
    AQ_RETURN_IF_ERROR(CheckResult(*exists));
    if (exists->GetValue(0, 0).GetValue<int64_t>() > 0) {
      return Status::OK();
    }
    try {
      RegisterArrowCast(*conn.context->db);
    } catch (const std::exception&) {
      // Another connection of this database registered it first: fine if it is there now.
      auto again = conn.Query(kExists);
      if (again->HasError() || again->GetValue(0, 0).GetValue<int64_t>() == 0) {
        throw;
      }
    }
    return Status::OK();
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace

Status RegisterDataFusionFunctions(Connection& conn, const std::vector<std::string>& queries) {
  const std::string prefix = "Failed to register the DataFusion SQL functions: ";
  std::string sql = DataFusionFunctionsSqlFor(queries);
  if (!sql.empty()) {
    AQ_RETURN_IF_ERROR(conn.Execute(sql).WithPrefix(prefix));
  }
  for (const auto& query : queries) {
    std::string lower = ToLowerAscii(query);
    if (lower.find("arrow_cast") != std::string::npos) {
      return RegisterArrowCastOnce(conn.duck()).WithPrefix(prefix);
    }
  }
  return Status::OK();
}

}  // namespace aqueducts::engine

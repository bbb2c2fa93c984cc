#include "engine/value_text.h"

#include <duckdb.hpp>

namespace aqueducts::engine {

std::string ValueText(const duckdb::Value& value) {
  auto id = value.type().id();
  if (id != duckdb::LogicalTypeId::LIST && id != duckdb::LogicalTypeId::ARRAY) {
    return value.ToString();
  }
  const auto& children = id == duckdb::LogicalTypeId::LIST ? duckdb::ListValue::GetChildren(value)
                                                           : duckdb::ArrayValue::GetChildren(value);
  std::string out = "[";
  for (size_t i = 0; i < children.size(); i++) {
    out += i ? ", " : "";
    out += children[i].IsNull() ? "NULL" : ValueText(children[i]);
  }
  return out + "]";
}

int64_t ReportedRowCount(const Database::Rows& rows) {
  if (rows.rows.empty() || rows.rows[0].empty() || !rows.rows[0][0]) {
    return -1;
  }
  return std::stoll(*rows.rows[0][0]);
}

}  // namespace aqueducts::engine

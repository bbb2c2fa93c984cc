// Connection::RenderAs: a stage preview as CSV or JSON lines, for scripts (`run --output`).

#include <cmath>
#include <string>

#include <duckdb.hpp>
#include <duckdb/common/types/blob.hpp>

#include "common/text.h"
#include "engine/duckdb_error.h"
#include "engine/session.h"
#include "engine/value_text.h"

namespace aqueducts::engine {
namespace {

using duckdb::LogicalTypeId;
using duckdb::Value;

// RFC 4180: a field holding a delimiter, a quote or a line break is quoted, quotes doubled. An
// empty text is quoted too, so that it stays apart from NULL (an empty field).
void AppendCsvField(std::string& out, const std::string& text) {
  bool quote = text.empty() || text.find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  out += '"';
}

void AppendJsonValue(std::string& out, const Value& value);

void AppendJsonArray(std::string& out, const duckdb::vector<Value>& children) {
  out += '[';
  for (size_t i = 0; i < children.size(); i++) {
    out += i ? "," : "";
    AppendJsonValue(out, children[i]);
  }
  out += ']';
}

void AppendJsonValue(std::string& out, const Value& value) {
  if (value.IsNull()) {
    out += "null";
    return;
  }
  const auto& type = value.type();
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN:
      out += value.GetValue<bool>() ? "true" : "false";
      return;
    case LogicalTypeId::TINYINT:
    case LogicalTypeId::SMALLINT:
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::HUGEINT:
    case LogicalTypeId::UTINYINT:
    case LogicalTypeId::USMALLINT:
    case LogicalTypeId::UINTEGER:
    case LogicalTypeId::UBIGINT:
    case LogicalTypeId::UHUGEINT:
    case LogicalTypeId::DECIMAL:  // its exact digits: a JSON number has no precision limit
      out += value.ToString();
      return;
    case LogicalTypeId::FLOAT:
    case LogicalTypeId::DOUBLE: {
      double d = value.GetValue<double>();
      if (std::isnan(d)) {
        out += "\"NaN\"";
      } else if (std::isinf(d)) {
        out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      } else {
        out += value.ToString();
      }
      return;
    }
    case LogicalTypeId::BLOB: {
      const auto& bytes = duckdb::StringValue::Get(value);
      AppendJsonString(out, duckdb::Blob::ToBase64(duckdb::string_t(bytes)));
      return;
    }
    case LogicalTypeId::LIST:
      AppendJsonArray(out, duckdb::ListValue::GetChildren(value));
      return;
    case LogicalTypeId::ARRAY:
      AppendJsonArray(out, duckdb::ArrayValue::GetChildren(value));
      return;
    case LogicalTypeId::STRUCT: {
      const auto& children = duckdb::StructValue::GetChildren(value);
      out += '{';
      for (size_t i = 0; i < children.size(); i++) {
        out += i ? "," : "";
        AppendJsonString(out, duckdb::StructType::GetChildName(type, i));
        out += ':';
        AppendJsonValue(out, children[i]);
      }
      out += '}';
      return;
    }
    case LogicalTypeId::MAP: {
      // Entries are {key, value} structs; keys become the object's names as text.
      out += '{';
      const auto& entries = duckdb::ListValue::GetChildren(value);
      for (size_t i = 0; i < entries.size(); i++) {
        const auto& kv = duckdb::StructValue::GetChildren(entries[i]);
        out += i ? "," : "";
        AppendJsonString(out, kv[0].IsNull() ? "null" : ValueText(kv[0]));
        out += ':';
        AppendJsonValue(out, kv[1]);
      }
      out += '}';
      return;
    }
    case LogicalTypeId::VARCHAR:
      if (type.HasAlias() && type.GetAlias() == "JSON") {
        out += duckdb::StringValue::Get(value);  // already JSON
        return;
      }
      AppendJsonString(out, duckdb::StringValue::Get(value));
      return;
    default:  // dates, times, intervals, UUIDs, enums, ...: DuckDB's text
      AppendJsonString(out, ValueText(value));
  }
}

}  // namespace

Result<std::string> Connection::RenderAs(const std::string& sql, uint64_t max_rows,
                                         PreviewFormat format, uint64_t* shown) {
  if (format == PreviewFormat::kTable) {
    return Render(sql, max_rows, {}, shown);
  }
  try {
    auto result = duck().SendQuery(sql);
    AQ_RETURN_IF_ERROR(CheckResult(*result));
    std::string out;
    std::vector<std::string> keys;  // JSON: each column's quoted name and colon
    for (size_t c = 0; c < result->names.size(); c++) {
      if (format == PreviewFormat::kCsv) {
        out += c ? "," : "";
        AppendCsvField(out, result->names[c]);
      } else {
        std::string key;
        AppendJsonString(key, result->names[c]);
        keys.push_back(key + ":");
      }
    }
    if (format == PreviewFormat::kCsv) {
      out += '\n';
    }
    uint64_t rows = 0;
    while (rows < max_rows) {
      auto chunk = result->Fetch();
      AQ_RETURN_IF_ERROR(CheckResult(*result));
      if (!chunk || chunk->size() == 0) {
        break;
      }
      for (duckdb::idx_t r = 0; r < chunk->size() && rows < max_rows; r++, rows++) {
        out += format == PreviewFormat::kJson ? "{" : "";
        for (duckdb::idx_t c = 0; c < chunk->ColumnCount(); c++) {
          Value value = chunk->GetValue(c, r);
          if (format == PreviewFormat::kCsv) {
            out += c ? "," : "";
            if (!value.IsNull()) {
              AppendCsvField(out, ValueText(value));
            }
          } else {
            out += c ? "," : "";
            out += keys[c];
            AppendJsonValue(out, value);
          }
        }
        out += format == PreviewFormat::kJson ? "}\n" : "\n";
      }
    }
    if (shown != nullptr) {
      *shown = rows;
    }
    return out;
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace aqueducts::engine

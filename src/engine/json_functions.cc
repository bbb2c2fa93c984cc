#include "engine/json_functions.h"

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include <duckdb.hpp>
#include <duckdb/main/extension/extension_loader.hpp>

#include "engine/json_scan.h"

namespace aqueducts::engine {
namespace {

// The json_get* family of datafusion-functions-json, as C++ functions with a variadic path
// (string: object key, integer: array index, any number of steps). They answer from the bytes
// of the input (json_scan.h): json_get_json, json_as_text, json_get and the elements of
// json_get_array are slices of the document as written. Malformed JSON gives NULL (json_contains:
// false); a NULL document or a NULL path step gives NULL.
enum class Fn {
  kGet,
  kGetJson,
  kGetStr,
  kGetInt,
  kGetFloat,
  kGetBool,
  kGetArray,
  kAsText,
  kLength,
  kContains,
  kObjectKeys
};

using duckdb::LogicalType;
using duckdb::LogicalTypeId;
using duckdb::string_t;
using duckdb::Vector;

bool IsIntegerType(LogicalTypeId id) {
  switch (id) {
    case LogicalTypeId::TINYINT:
    case LogicalTypeId::SMALLINT:
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::UTINYINT:
    case LogicalTypeId::USMALLINT:
    case LogicalTypeId::UINTEGER:
    case LogicalTypeId::INTEGER_LITERAL:
      return true;
    default:
      return false;
  }
}

// Path steps become BIGINT (index) or VARCHAR (key); anything else is refused at bind time.
duckdb::unique_ptr<duckdb::FunctionData> BindPath(
    duckdb::ClientContext&, duckdb::ScalarFunction& function,
    duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& arguments) {
  function.arguments.resize(1);
  for (size_t i = 1; i < arguments.size(); i++) {
    const LogicalType& type = arguments[i]->return_type;
    if (IsIntegerType(type.id())) {
      function.arguments.push_back(LogicalType::BIGINT);
    } else if (type.id() == LogicalTypeId::VARCHAR || type.id() == LogicalTypeId::SQLNULL ||
               type.id() == LogicalTypeId::STRING_LITERAL ||
               type.id() == LogicalTypeId::UNKNOWN) {  // a macro body or a prepared parameter
      function.arguments.push_back(LogicalType::VARCHAR);
    } else {
      throw duckdb::BinderException(function.name + ": path argument " + std::to_string(i + 1) +
                                    " is " + type.ToString() +
                                    "; a path step is a string (object key) or an integer "
                                    "(array index)");
    }
  }
  return nullptr;
}

// Reads the path of row `row`; false when a step is NULL.
bool ReadPath(const std::vector<duckdb::UnifiedVectorFormat>& formats,
              const std::vector<bool>& is_index, duckdb::idx_t row,
              std::vector<json::PathStep>* path) {
  path->resize(formats.size() - 1);
  for (size_t c = 1; c < formats.size(); c++) {
    const auto& format = formats[c];
    auto idx = format.sel->get_index(row);
    if (!format.validity.RowIsValid(idx)) {
      return false;
    }
    json::PathStep& step = (*path)[c - 1];
    step.is_index = is_index[c];
    if (step.is_index) {
      step.index = duckdb::UnifiedVectorFormat::GetData<int64_t>(format)[idx];
    } else {
      auto key = duckdb::UnifiedVectorFormat::GetData<string_t>(format)[idx];
      step.key.assign(key.GetData(), key.GetSize());
    }
  }
  return true;
}

std::string_view Slice(std::string_view doc, const json::Span& span) {
  return doc.substr(span.begin, span.end - span.begin);
}

std::string Text(std::string_view doc, const json::Span& span) {
  std::string_view raw = Slice(doc, span);
  return span.kind == json::Kind::kString ? json::Unescape(raw) : std::string(raw);
}

// Appends one list (of `texts`) to a LIST(VARCHAR) result at `row`.
void EmitList(Vector& result, duckdb::idx_t row, const std::vector<std::string>& texts) {
  auto offset = duckdb::ListVector::GetListSize(result);
  duckdb::ListVector::Reserve(result, offset + texts.size());
  auto& child = duckdb::ListVector::GetEntry(result);
  auto* child_data = duckdb::FlatVector::GetData<string_t>(child);
  for (size_t i = 0; i < texts.size(); i++) {
    child_data[offset + i] = duckdb::StringVector::AddString(child, texts[i]);
  }
  auto* entries = duckdb::FlatVector::GetData<duckdb::list_entry_t>(result);
  entries[row] = duckdb::list_entry_t(offset, texts.size());
  duckdb::ListVector::SetListSize(result, offset + texts.size());
}

// Writes the answer of `F` for a value that was found; false means NULL.
template <Fn F>
bool EmitFound(std::string_view doc, const json::Lookup& found, Vector& result, duckdb::idx_t row) {
  const json::Span& v = found.value;
  if constexpr (F == Fn::kGet || F == Fn::kAsText || F == Fn::kGetJson || F == Fn::kGetStr) {
    if (F == Fn::kGetStr && v.kind != json::Kind::kString) {
      return false;
    }
    if (F != Fn::kGetJson && v.kind == json::Kind::kNull) {
      return false;
    }
    std::string text = F == Fn::kGetJson ? std::string(Slice(doc, v)) : Text(doc, v);
    duckdb::FlatVector::GetData<string_t>(result)[row] =
        duckdb::StringVector::AddString(result, text);
    return true;
  } else if constexpr (F == Fn::kGetInt) {
    int64_t value = 0;
    if (v.kind != json::Kind::kNumber || !json::ParseInt64(Slice(doc, v), &value)) {
      return false;
    }
    duckdb::FlatVector::GetData<int64_t>(result)[row] = value;
    return true;
  } else if constexpr (F == Fn::kGetFloat) {
    if (v.kind != json::Kind::kNumber) {
      return false;
    }
    std::string_view raw = Slice(doc, v);
    double value = 0;
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (ptr != raw.data() + raw.size() ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
      return false;
    }
    duckdb::FlatVector::GetData<double>(result)[row] = value;
    return true;
  } else if constexpr (F == Fn::kGetBool) {
    if (v.kind != json::Kind::kTrue && v.kind != json::Kind::kFalse) {
      return false;
    }
    duckdb::FlatVector::GetData<bool>(result)[row] = v.kind == json::Kind::kTrue;
    return true;
  } else if constexpr (F == Fn::kLength) {
    if (v.kind != json::Kind::kArray && v.kind != json::Kind::kObject) {
      return false;
    }
    duckdb::FlatVector::GetData<int64_t>(result)[row] = static_cast<int64_t>(found.children.size());
    return true;
  } else if constexpr (F == Fn::kGetArray) {
    if (v.kind != json::Kind::kArray) {
      return false;
    }
    std::vector<std::string> texts;
    for (const auto& child : found.children) {
      texts.emplace_back(Slice(doc, child));
    }
    EmitList(result, row, texts);
    return true;
  } else {
    static_assert(F == Fn::kObjectKeys);
    if (v.kind != json::Kind::kObject) {
      return false;
    }
    std::vector<std::string> texts;
    for (const auto& key : found.keys) {
      texts.push_back(json::Unescape(Slice(doc, key)));
    }
    EmitList(result, row, texts);
    return true;
  }
}

// Writes the answer of `F` for one document; false means NULL.
template <Fn F>
bool Emit(std::string_view doc, const json::Lookup& found, Vector& result, duckdb::idx_t row) {
  if constexpr (F == Fn::kContains) {
    duckdb::FlatVector::GetData<bool>(result)[row] = found.found;
    return true;
  } else {
    return found.found && EmitFound<F>(doc, found, result, row);
  }
}

template <Fn F>
void Execute(duckdb::DataChunk& args, duckdb::ExpressionState&, Vector& result) {
  constexpr bool kWantChildren = F == Fn::kGetArray || F == Fn::kLength || F == Fn::kObjectKeys;
  const bool all_constant = args.AllConstant();
  const duckdb::idx_t count = all_constant ? 1 : args.size();
  std::vector<duckdb::UnifiedVectorFormat> formats(args.ColumnCount());
  std::vector<bool> is_index(args.ColumnCount(), false);
  bool constant_path = true;
  for (duckdb::idx_t c = 0; c < args.ColumnCount(); c++) {
    args.data[c].ToUnifiedFormat(args.size(), formats[c]);
    if (c > 0) {
      is_index[c] = args.data[c].GetType().id() == LogicalTypeId::BIGINT;
      constant_path =
          constant_path && args.data[c].GetVectorType() == duckdb::VectorType::CONSTANT_VECTOR;
    }
  }
  result.SetVectorType(duckdb::VectorType::FLAT_VECTOR);
  auto& validity = duckdb::FlatVector::Validity(result);
  std::vector<json::PathStep> path;
  bool path_ok = constant_path ? ReadPath(formats, is_index, 0, &path) : true;
  const auto* docs = duckdb::UnifiedVectorFormat::GetData<string_t>(formats[0]);
  for (duckdb::idx_t row = 0; row < count; row++) {
    auto idx = formats[0].sel->get_index(row);
    if (!constant_path) {
      path_ok = ReadPath(formats, is_index, row, &path);
    }
    if (!formats[0].validity.RowIsValid(idx) || !path_ok) {
      validity.SetInvalid(row);
      continue;
    }
    std::string_view doc(docs[idx].GetData(), docs[idx].GetSize());
    json::Lookup found = json::Find(doc, path, kWantChildren);
    if (!Emit<F>(doc, found, result, row)) {
      validity.SetInvalid(row);
    }
  }
  if (all_constant) {
    result.SetVectorType(duckdb::VectorType::CONSTANT_VECTOR);
  }
}

template <Fn F>
duckdb::ScalarFunction Make(const std::string& name, const LogicalType& result) {
  duckdb::ScalarFunction function(name, {LogicalType::VARCHAR}, result, Execute<F>, BindPath);
  function.varargs = LogicalType::ANY;
  function.null_handling = duckdb::FunctionNullHandling::SPECIAL_HANDLING;
  return function;
}

}  // namespace

void RegisterJsonFunctions(duckdb::DatabaseInstance& db) {
  const LogicalType kText = LogicalType::VARCHAR;
  const LogicalType kTextList = LogicalType::LIST(LogicalType::VARCHAR);
  duckdb::ExtensionLoader loader(db, "aqueducts");
  loader.RegisterFunction(Make<Fn::kGet>("json_get", kText));
  loader.RegisterFunction(Make<Fn::kGetJson>("json_get_json", kText));
  loader.RegisterFunction(Make<Fn::kGetStr>("json_get_str", kText));
  loader.RegisterFunction(Make<Fn::kGetInt>("json_get_int", LogicalType::BIGINT));
  loader.RegisterFunction(Make<Fn::kGetFloat>("json_get_float", LogicalType::DOUBLE));
  loader.RegisterFunction(Make<Fn::kGetBool>("json_get_bool", LogicalType::BOOLEAN));
  loader.RegisterFunction(Make<Fn::kGetArray>("json_get_array", kTextList));
  loader.RegisterFunction(Make<Fn::kAsText>("json_as_text", kText));
  loader.RegisterFunction(Make<Fn::kLength>("json_length", LogicalType::BIGINT));
  loader.RegisterFunction(Make<Fn::kObjectKeys>("json_object_keys", kTextList));
  // DuckDB's json extension owns the name json_contains (JSON containment), so ours is reached
  // through macros in the default schema (custom_functions.cc) that call this one.
  loader.RegisterFunction(Make<Fn::kContains>("__aq_json_contains", LogicalType::BOOLEAN));
}

}  // namespace aqueducts::engine

// DataFusion functions that need C++ rather than a macro: a result type that depends on constant
// arguments (named_struct, array_dims), a digest DuckDB lacks (sha224, sha384, sha512), a regular
// expression's capture groups as a list (regexp_match), and cardinality of nested arrays.
// docs/sql-functions.md gives each one's DataFusion semantics.
#include "engine/datafusion_native.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <duckdb.hpp>
#include <duckdb/execution/expression_executor.hpp>
#include <duckdb/main/extension/extension_loader.hpp>
#include <openssl/evp.h>
#include <re2/re2.h>

namespace aqueducts::engine {
namespace {

using duckdb::DataChunk;
using duckdb::ExpressionState;
using duckdb::idx_t;
using duckdb::LogicalType;
using duckdb::LogicalTypeId;
using duckdb::Value;
using duckdb::Vector;

// ---- sha224 / sha384 / sha512: the binary digest of a string's UTF-8 bytes or of a blob ----

template <const EVP_MD* (*kAlgorithm)()>
void ExecuteDigest(DataChunk& args, ExpressionState&, Vector& result) {
  duckdb::UnaryExecutor::Execute<duckdb::string_t, duckdb::string_t>(
      args.data[0], result, args.size(), [&](duckdb::string_t input) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        if (EVP_Digest(input.GetData(), input.GetSize(), digest, &length, kAlgorithm(), nullptr) !=
            1) {
          throw duckdb::InternalException("OpenSSL could not compute the digest");
        }
        return duckdb::StringVector::AddStringOrBlob(result, reinterpret_cast<const char*>(digest),
                                                     length);
      });
}

template <const EVP_MD* (*kAlgorithm)()>
duckdb::ScalarFunctionSet DigestFunction(const std::string& name) {
  duckdb::ScalarFunctionSet set(name);
  set.AddFunction(
      duckdb::ScalarFunction({LogicalType::VARCHAR}, LogicalType::BLOB, ExecuteDigest<kAlgorithm>));
  set.AddFunction(
      duckdb::ScalarFunction({LogicalType::BLOB}, LogicalType::BLOB, ExecuteDigest<kAlgorithm>));
  return set;
}

// ---- named_struct('a', x, 'b', y, ...): a struct whose field names are constant strings ----

std::string ConstantString(duckdb::ClientContext& context, duckdb::Expression& argument,
                           const std::string& what) {
  if (!argument.IsFoldable()) {
    throw duckdb::BinderException(what + " must be a constant string");
  }
  Value value = duckdb::ExpressionExecutor::EvaluateScalar(context, argument);
  if (value.IsNull() || value.type().id() != LogicalTypeId::VARCHAR) {
    throw duckdb::BinderException(what + " must be a constant string, not " +
                                  (value.IsNull() ? "NULL" : value.type().ToString()));
  }
  return value.ToString();
}

duckdb::unique_ptr<duckdb::FunctionData> BindNamedStruct(
    duckdb::ClientContext& context, duckdb::ScalarFunction& function,
    duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& arguments) {
  if (arguments.empty() || arguments.size() % 2 != 0) {
    throw duckdb::BinderException(
        "named_struct takes name/value pairs: an even number of arguments, at least two (got " +
        std::to_string(arguments.size()) + ")");
  }
  duckdb::child_list_t<LogicalType> fields;
  std::set<std::string> seen;
  for (idx_t i = 0; i < arguments.size(); i += 2) {
    std::string name =
        ConstantString(context, *arguments[i],
                       "named_struct: argument " + std::to_string(i + 1) + " (a field name)");
    if (!seen.insert(name).second) {
      throw duckdb::BinderException("named_struct: the field name '" + name + "' is given twice");
    }
    fields.emplace_back(name, arguments[i + 1]->return_type);
  }
  function.arguments.clear();
  for (auto& argument : arguments) {
    function.arguments.push_back(argument->return_type);
  }
  function.return_type = LogicalType::STRUCT(std::move(fields));
  return nullptr;
}

void ExecuteNamedStruct(DataChunk& args, ExpressionState&, Vector& result) {
  auto& entries = duckdb::StructVector::GetEntries(result);
  bool all_constant = true;
  for (idx_t i = 1; i < args.ColumnCount(); i += 2) {
    all_constant &= args.data[i].GetVectorType() == duckdb::VectorType::CONSTANT_VECTOR;
  }
  for (idx_t i = 1, field = 0; i < args.ColumnCount(); i += 2, ++field) {
    if (!all_constant) {
      args.data[i].Flatten(args.size());
    }
    entries[field]->Reference(args.data[i]);
  }
  result.SetVectorType(all_constant ? duckdb::VectorType::CONSTANT_VECTOR
                                    : duckdb::VectorType::FLAT_VECTOR);
}

// ---- array_dims(list) and cardinality(list | map) ----

bool IsList(const LogicalType& type) {
  return type.id() == LogicalTypeId::LIST || type.id() == LogicalTypeId::ARRAY;
}

duckdb::unique_ptr<duckdb::FunctionData> BindListArgument(
    const char* name, duckdb::ScalarFunction& function,
    duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& arguments, bool maps_too) {
  const LogicalType& type = arguments[0]->return_type;
  // UNKNOWN: a macro's parameter while DuckDB checks the macro's body.
  bool ok = IsList(type) || type.id() == LogicalTypeId::SQLNULL ||
            type.id() == LogicalTypeId::UNKNOWN || (maps_too && type.id() == LogicalTypeId::MAP);
  if (!ok) {
    throw duckdb::BinderException(std::string(name) + " takes an array" +
                                  (maps_too ? " or a map" : "") + ", not " + type.ToString());
  }
  function.arguments[0] = type;
  return nullptr;
}

duckdb::unique_ptr<duckdb::FunctionData> BindArrayDims(
    duckdb::ClientContext&, duckdb::ScalarFunction& function,
    duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& arguments) {
  return BindListArgument("array_dims", function, arguments, false);
}

duckdb::unique_ptr<duckdb::FunctionData> BindCardinality(
    duckdb::ClientContext&, duckdb::ScalarFunction& function,
    duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& arguments) {
  return BindListArgument("cardinality", function, arguments, true);
}

// One nesting level of a list argument (LIST, ARRAY or MAP), read in unified form over the
// whole length of its vector: entry(i) is where the children of the value at physical index i
// lie in the next level's vector.
struct ListLevel {
  duckdb::UnifiedVectorFormat format;
  idx_t array_size = 0;  // ARRAY: the fixed length; 0 for LIST and MAP

  bool Valid(idx_t physical) const { return format.validity.RowIsValid(physical); }
  idx_t Physical(idx_t position) const { return format.sel->get_index(position); }
  duckdb::list_entry_t Entry(idx_t physical) const {
    if (array_size > 0) {
      return duckdb::list_entry_t(physical * array_size, array_size);
    }
    return duckdb::UnifiedVectorFormat::GetData<duckdb::list_entry_t>(format)[physical];
  }
};

// The list levels of `vector` (`count` rows), outermost first, down to the first level whose
// elements are not lists. Empty when the argument is not a list (a NULL literal). A MAP is one
// level: its entries are what it holds.
std::vector<ListLevel> ListLevelsOf(Vector& vector, idx_t count) {
  std::vector<ListLevel> levels;
  Vector* at = &vector;
  idx_t length = count;
  while (IsList(at->GetType()) || (levels.empty() && at->GetType().id() == LogicalTypeId::MAP)) {
    ListLevel level;
    at->ToUnifiedFormat(length, level.format);
    if (at->GetType().id() == LogicalTypeId::ARRAY) {
      level.array_size = duckdb::ArrayType::GetSize(at->GetType());
      length = duckdb::ArrayVector::GetTotalSize(*at);
      at = &duckdb::ArrayVector::GetEntry(*at);
    } else {
      bool map = at->GetType().id() == LogicalTypeId::MAP;
      length = duckdb::ListVector::GetListSize(*at);
      at = &duckdb::ListVector::GetEntry(*at);
      levels.push_back(std::move(level));
      if (map) {
        break;
      }
      continue;
    }
    levels.push_back(std::move(level));
  }
  return levels;
}

// Writes `values` as the list of row `row` of a LIST(UBIGINT) result.
void AppendList(Vector& result, idx_t row, const std::vector<uint64_t>& values) {
  idx_t size = duckdb::ListVector::GetListSize(result);
  duckdb::ListVector::Reserve(result, size + values.size());
  auto* child = duckdb::FlatVector::GetData<uint64_t>(duckdb::ListVector::GetEntry(result));
  std::copy(values.begin(), values.end(), child + size);
  duckdb::FlatVector::GetData<duckdb::list_entry_t>(result)[row] =
      duckdb::list_entry_t(size, values.size());
  duckdb::ListVector::SetListSize(result, size + values.size());
}

// DataFusion's array_dims: the length of the array, then of its first element, and so on while
// the first element is a non-NULL array.
void ExecuteArrayDims(DataChunk& args, ExpressionState&, Vector& result) {
  idx_t count = args.size();
  std::vector<ListLevel> levels = ListLevelsOf(args.data[0], count);
  result.SetVectorType(duckdb::VectorType::FLAT_VECTOR);
  auto& validity = duckdb::FlatVector::Validity(result);
  std::vector<uint64_t> dims;
  for (idx_t row = 0; row < count; ++row) {
    idx_t physical = levels.empty() ? 0 : levels[0].Physical(row);
    if (levels.empty() || !levels[0].Valid(physical)) {
      validity.SetInvalid(row);
      continue;
    }
    dims.clear();
    for (size_t level = 0; level < levels.size(); ++level) {
      duckdb::list_entry_t entry = levels[level].Entry(physical);
      dims.push_back(entry.length);
      if (entry.length == 0 || level + 1 == levels.size()) {
        break;
      }
      physical = levels[level + 1].Physical(entry.offset);
      if (!levels[level + 1].Valid(physical)) {
        break;
      }
    }
    AppendList(result, row, dims);
  }
}

// Elements of the (nested) array at `physical` of `levels[level]`, counted at the innermost
// level; NULL inner arrays count none, NULL elements count one each.
uint64_t CountLeaves(const std::vector<ListLevel>& levels, size_t level, idx_t physical) {
  duckdb::list_entry_t entry = levels[level].Entry(physical);
  if (level + 1 == levels.size()) {
    return entry.length;
  }
  const ListLevel& next = levels[level + 1];
  uint64_t total = 0;
  for (idx_t i = 0; i < entry.length; ++i) {
    idx_t child = next.Physical(entry.offset + i);
    if (next.Valid(child)) {
      total += CountLeaves(levels, level + 1, child);
    }
  }
  return total;
}

// cardinality: the leaves of a (nested) array, or the entries of a map.
void ExecuteCardinality(DataChunk& args, ExpressionState&, Vector& result) {
  idx_t count = args.size();
  std::vector<ListLevel> levels = ListLevelsOf(args.data[0], count);
  result.SetVectorType(duckdb::VectorType::FLAT_VECTOR);
  auto* out = duckdb::FlatVector::GetData<uint64_t>(result);
  auto& validity = duckdb::FlatVector::Validity(result);
  for (idx_t row = 0; row < count; ++row) {
    idx_t physical = levels.empty() ? 0 : levels[0].Physical(row);
    if (levels.empty() || !levels[0].Valid(physical)) {
      validity.SetInvalid(row);
      continue;
    }
    out[row] = CountLeaves(levels, 0, physical);
  }
}

// ---- regexp_match(s, pattern [, flags]): the first match's capture groups as a list ----

// The pattern with DataFusion's flags (i, m, s, U: the regex crate's, which RE2 spells the same)
// as an inline flag group. 'g' (global) is refused, as DataFusion refuses it.
std::string PatternWithFlags(const std::string& pattern, const std::string& flags) {
  if (flags.empty()) {
    return pattern;
  }
  for (char c : flags) {
    if (c == 'g') {
      throw duckdb::InvalidInputException(
          "regexp_match does not support the global flag 'g' (use regexp_extract_all)");
    }
    if (c != 'i' && c != 'm' && c != 's' && c != 'U') {
      throw duckdb::InvalidInputException("regexp_match: unknown flag '" + std::string(1, c) +
                                          "' (supported: i, m, s, U)");
    }
  }
  return "(?" + flags + ")" + pattern;
}

// The compiled patterns of one thread's executions of regexp_match (DuckDB keeps one local state
// per thread and expression), so that a constant pattern is compiled once per thread, not once
// per chunk.
class RegexCache : public duckdb::FunctionLocalState {
 public:
  const re2::RE2& Get(const std::string& pattern) {
    auto it = compiled_.find(pattern);
    if (it != compiled_.end()) {
      return *it->second;
    }
    if (compiled_.size() > 64) {
      compiled_.clear();
    }
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto regex = std::make_unique<re2::RE2>(pattern, options);
    if (!regex->ok()) {
      throw duckdb::InvalidInputException("regexp_match: invalid regular expression '" + pattern +
                                          "': " + regex->error());
    }
    return *compiled_.emplace(pattern, std::move(regex)).first->second;
  }

 private:
  std::map<std::string, std::unique_ptr<re2::RE2>> compiled_;
};

duckdb::unique_ptr<duckdb::FunctionLocalState> InitRegexpMatch(
    ExpressionState&, const duckdb::BoundFunctionExpression&, duckdb::FunctionData*) {
  return duckdb::make_uniq<RegexCache>();
}

void ExecuteRegexpMatch(DataChunk& args, ExpressionState& state, Vector& result) {
  auto& cache = duckdb::ExecuteFunctionState::GetFunctionState(state)->Cast<RegexCache>();
  const LogicalType text_list = LogicalType::LIST(LogicalType::VARCHAR);
  for (idx_t row = 0; row < args.size(); ++row) {
    Value text = args.data[0].GetValue(row);
    Value pattern = args.data[1].GetValue(row);
    Value flags = args.ColumnCount() > 2 ? args.data[2].GetValue(row) : Value("");
    if (text.IsNull() || pattern.IsNull() || flags.IsNull()) {
      result.SetValue(row, Value(text_list));
      continue;
    }
    const re2::RE2& regex =
        cache.Get(PatternWithFlags(pattern.GetValue<std::string>(), flags.GetValue<std::string>()));
    std::string input = text.GetValue<std::string>();
    int groups = regex.NumberOfCapturingGroups();
    std::vector<re2::StringPiece> found(static_cast<size_t>(groups) + 1);
    if (!regex.Match(input, 0, input.size(), re2::RE2::UNANCHORED, found.data(),
                     static_cast<int>(found.size()))) {
      result.SetValue(row, Value(text_list));
      continue;
    }
    duckdb::vector<Value> items;
    // No group: the whole match; otherwise each group, NULL where it took no part in the match.
    for (size_t i = groups == 0 ? 0 : 1; i < found.size(); ++i) {
      items.push_back(found[i].data() == nullptr
                          ? Value(LogicalType::VARCHAR)
                          : Value(std::string(found[i].data(), found[i].size())));
    }
    result.SetValue(row, Value::LIST(LogicalType::VARCHAR, std::move(items)));
  }
}

}  // namespace

const std::vector<std::string>& DataFusionNativeFunctionNames() {
  static const std::vector<std::string> names = {"sha224",       "sha384",     "sha512",
                                                 "named_struct", "array_dims", "__aq_cardinality",
                                                 "regexp_match"};
  return names;
}

void RegisterDataFusionNativeFunctions(duckdb::DatabaseInstance& db) {
  duckdb::ExtensionLoader loader(db, "aqueducts");
  loader.RegisterFunction(DigestFunction<EVP_sha224>("sha224"));
  loader.RegisterFunction(DigestFunction<EVP_sha384>("sha384"));
  loader.RegisterFunction(DigestFunction<EVP_sha512>("sha512"));

  duckdb::ScalarFunction named_struct("named_struct", {}, LogicalType::ANY, ExecuteNamedStruct,
                                      BindNamedStruct);
  named_struct.varargs = LogicalType::ANY;
  named_struct.null_handling = duckdb::FunctionNullHandling::SPECIAL_HANDLING;
  loader.RegisterFunction(named_struct);

  loader.RegisterFunction(duckdb::ScalarFunction("array_dims", {LogicalType::ANY},
                                                 LogicalType::LIST(LogicalType::UBIGINT),
                                                 ExecuteArrayDims, BindArrayDims));
  loader.RegisterFunction(duckdb::ScalarFunction("__aq_cardinality", {LogicalType::ANY},
                                                 LogicalType::UBIGINT, ExecuteCardinality,
                                                 BindCardinality));

  duckdb::ScalarFunctionSet regexp_match("regexp_match");
  const LogicalType text_list = LogicalType::LIST(LogicalType::VARCHAR);
  for (size_t arity : {2, 3}) {
    duckdb::vector<LogicalType> arguments(arity, LogicalType::VARCHAR);
    regexp_match.AddFunction(duckdb::ScalarFunction(arguments, text_list, ExecuteRegexpMatch,
                                                    nullptr, nullptr, nullptr, InitRegexpMatch));
  }
  loader.RegisterFunction(regexp_match);
}

}  // namespace aqueducts::engine

// Functions of DataFusion's SQL dialect (the original's stage language) that DuckDB lacks or
// defines differently, as DuckDB macros under the DataFusion names with DataFusion's semantics.
// docs/sql-functions.md lists every DataFusion function and what we do about it.
#include "engine/datafusion_functions.h"

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "common/text.h"
#include "engine/datafusion_native.h"

namespace aqueducts::engine {
namespace {

// One statement per line. Directives expand to overloads (macros cannot be variadic):
//   @FMT name|one-arg body|body with formats  -> (x), (x, f1) ... (x, f1..f8); $F = [f1, ...]
//   @VAR name|body                            -> 0..32 arguments; $A = a1, ...; $C = c0 := a1, ...
//   @PAIRS name|body                          -> 1..16 key/value pairs; $K = keys, $V = values
// Macros bind only when used, but DuckDB checks a body when it is created: arguments that must
// be constants (regex options, separators) are avoided by construction. `typeof(x)` is folded
// at bind time, so CASE on it picks the branch for the argument's type (every branch must bind
// for every type, hence the casts through VARCHAR and TRY_CAST).
constexpr const char* kTemplate = R"SQL(
CREATE OR REPLACE MACRO __aq_is_num(x) AS typeof(x) IN ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE') OR typeof(x) LIKE 'DECIMAL%';
CREATE OR REPLACE MACRO __aq_is_float(x) AS typeof(x) IN ('FLOAT', 'DOUBLE') OR typeof(x) LIKE 'DECIMAL%';
CREATE OR REPLACE MACRO __aq_epoch_ns(x, unit) AS CASE WHEN __aq_is_float(x) THEN CAST(round(TRY_CAST(x AS DOUBLE) * unit) AS BIGINT) ELSE CAST(TRY_CAST(x AS HUGEINT) * unit AS BIGINT) END;
CREATE OR REPLACE MACRO __aq_ts_ns(x, unit) AS CASE WHEN __aq_is_num(x) THEN make_timestamp_ns(__aq_epoch_ns(x, unit)) ELSE CAST(CAST(x AS VARCHAR) AS TIMESTAMP_NS) END;
CREATE OR REPLACE MACRO __aq_ts_fmt(x, unit, formats) AS CASE WHEN __aq_is_num(x) THEN make_timestamp_ns(__aq_epoch_ns(x, unit)) ELSE CAST(strptime(CAST(x AS VARCHAR), formats) AS TIMESTAMP_NS) END;
@FMT to_timestamp|__aq_ts_ns(x, 1000000000)|__aq_ts_fmt(x, 1000000000, $F)
@FMT to_timestamp_nanos|__aq_ts_ns(x, 1)|__aq_ts_fmt(x, 1, $F)
@FMT to_timestamp_micros|CAST(__aq_ts_ns(x, 1000) AS TIMESTAMP)|CAST(__aq_ts_fmt(x, 1000, $F) AS TIMESTAMP)
@FMT to_timestamp_millis|CAST(date_trunc('millisecond', CAST(__aq_ts_ns(x, 1000000) AS TIMESTAMP)) AS TIMESTAMP_MS)|CAST(date_trunc('millisecond', CAST(__aq_ts_fmt(x, 1000000, $F) AS TIMESTAMP)) AS TIMESTAMP_MS)
@FMT to_timestamp_seconds|CAST(date_trunc('second', CAST(__aq_ts_ns(x, 1000000000) AS TIMESTAMP)) AS TIMESTAMP_S)|CAST(date_trunc('second', CAST(__aq_ts_fmt(x, 1000000000, $F) AS TIMESTAMP)) AS TIMESTAMP_S)
@FMT to_date|CASE WHEN __aq_is_num(x) THEN DATE '1970-01-01' + CAST(TRY_CAST(x AS BIGINT) AS INTEGER) ELSE CAST(CAST(CAST(x AS VARCHAR) AS TIMESTAMP) AS DATE) END|CASE WHEN __aq_is_num(x) THEN DATE '1970-01-01' + CAST(TRY_CAST(x AS BIGINT) AS INTEGER) ELSE CAST(strptime(CAST(x AS VARCHAR), $F) AS DATE) END
@FMT to_unixtime|CAST(trunc(epoch_ns(__aq_ts_ns(x, 1000000000)) / 1000000000) AS BIGINT)|CAST(trunc(epoch_ns(__aq_ts_fmt(x, 1000000000, $F)) / 1000000000) AS BIGINT)
CREATE OR REPLACE MACRO from_unixtime(x) AS CAST(make_timestamp(CAST(x AS BIGINT) * 1000000) AS TIMESTAMP_S);
CREATE OR REPLACE MACRO date_bin(stride, source) AS time_bucket(stride, CAST(source AS TIMESTAMP), TIMESTAMP '1970-01-01 00:00:00'), (stride, source, origin) AS time_bucket(stride, CAST(source AS TIMESTAMP), CAST(origin AS TIMESTAMP));
CREATE OR REPLACE MACRO to_char(x, format) AS strftime(x, format);
CREATE OR REPLACE MACRO date_format(x, format) AS strftime(x, format);
CREATE OR REPLACE MACRO nvl(x, y) AS coalesce(x, y);
CREATE OR REPLACE MACRO nvl2(x, y, z) AS CASE WHEN x IS NOT NULL THEN y ELSE z END;
CREATE OR REPLACE MACRO iszero(x) AS x = 0;
CREATE OR REPLACE MACRO nanvl(x, y) AS CASE WHEN isnan(x) THEN y ELSE x END;
CREATE OR REPLACE MACRO signum(x) AS CAST(sign(x) AS DOUBLE);
CREATE OR REPLACE MACRO btrim(s) AS trim(s), (s, chars) AS trim(s, chars);
CREATE OR REPLACE MACRO find_in_set(s, list) AS CASE WHEN s IS NULL OR list IS NULL THEN NULL ELSE coalesce(list_position(string_split(list, ','), s), 0) END;
CREATE OR REPLACE MACRO initcap(s) AS array_to_string(list_transform(regexp_extract_all(s, '[[:alnum:]]+|[^[:alnum:]]+'), w -> upper(w[1]) || lower(w[2:])), '');
CREATE OR REPLACE MACRO "overlay"(s, r, pos) AS s[:pos - 1] || r || s[pos + length(r):], (s, r, pos, n) AS s[:pos - 1] || r || s[pos + n:];
CREATE OR REPLACE MACRO __aq_parts_len(parts, delim) AS coalesce(list_sum(list_transform(parts, p -> length(p))), 0) + greatest(len(parts) - 1, 0) * length(delim);
CREATE OR REPLACE MACRO substr_index(s, delim, n) AS CASE WHEN n > 0 THEN s[:__aq_parts_len(string_split(s, delim)[:n], delim)] WHEN n < 0 THEN s[length(s) - __aq_parts_len(string_split(s, delim)[n:], delim) + 1:] ELSE '' END;
CREATE OR REPLACE MACRO substring_index(s, delim, n) AS substr_index(s, delim, n);
CREATE OR REPLACE MACRO to_hex(x) AS lower(system.main.to_hex(x));
CREATE OR REPLACE MACRO uuid() AS CAST(gen_random_uuid() AS VARCHAR);
CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p), (s, p, flags) AS regexp_matches(s, '(?' || flags || ')' || p);
CREATE OR REPLACE MACRO regexp_count(s, p) AS CAST(len(regexp_extract_all(s, p)) AS BIGINT), (s, p, start) AS CAST(len(regexp_extract_all(substr(s, start), p)) AS BIGINT), (s, p, start, flags) AS CAST(len(regexp_extract_all(substr(s, start), '(?' || flags || ')' || p)) AS BIGINT);
CREATE OR REPLACE MACRO regexp_instr(s, p) AS CASE WHEN s IS NULL OR p IS NULL THEN NULL WHEN regexp_matches(s, p) THEN CAST(length(string_split_regex(s, p)[1]) + 1 AS BIGINT) ELSE 0 END;
CREATE OR REPLACE MACRO encode(x) AS system.main.encode(x), (x, f) AS CASE lower(f) WHEN 'hex' THEN lower(hex(x)) WHEN 'base64' THEN rtrim(to_base64(CAST(x AS BLOB)), '=') ELSE error('encode: unsupported encoding ''' || f || ''' (expected hex or base64)') END;
CREATE OR REPLACE MACRO decode(x) AS system.main.decode(x), (x, f) AS CASE lower(f) WHEN 'hex' THEN unhex(CAST(x AS VARCHAR)) WHEN 'base64' THEN from_base64(CAST(x AS VARCHAR) || repeat('=', (4 - length(CAST(x AS VARCHAR)) % 4) % 4)) ELSE error('decode: unsupported encoding ''' || f || ''' (expected hex or base64)') END;
CREATE OR REPLACE MACRO digest(x, algorithm) AS CASE lower(algorithm) WHEN 'md5' THEN unhex(md5(x)) WHEN 'sha224' THEN sha224(x) WHEN 'sha256' THEN unhex(sha256(x)) WHEN 'sha384' THEN sha384(x) WHEN 'sha512' THEN sha512(x) ELSE error('digest: algorithm ''' || algorithm || ''' is not available (md5, sha224, sha256, sha384 and sha512 are)') END;
CREATE OR REPLACE MACRO cardinality(x) AS __aq_cardinality(x);
@VAR make_array|list_value($A)
@VAR make_list|list_value($A)
CREATE OR REPLACE MACRO array_element(a, i) AS list_extract(a, i);
CREATE OR REPLACE MACRO list_element(a, i) AS list_extract(a, i);
CREATE OR REPLACE MACRO array_empty(a) AS len(a) = 0;
CREATE OR REPLACE MACRO list_empty(a) AS len(a) = 0;
CREATE OR REPLACE MACRO empty(a) AS len(a) = 0;
CREATE OR REPLACE MACRO array_except(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE list_filter(a, (x, i) -> NOT list_contains(b, x) AND list_position(a, x) = i) END;
CREATE OR REPLACE MACRO list_except(a, b) AS array_except(a, b);
CREATE OR REPLACE MACRO array_union(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE list_filter(list_concat(a, b), (x, i) -> list_position(list_concat(a, b), x) = i) END;
CREATE OR REPLACE MACRO list_union(a, b) AS array_union(a, b);
CREATE OR REPLACE MACRO __aq_join(a, sep) AS CASE WHEN a IS NULL OR sep IS NULL THEN NULL WHEN len(list_filter(a, v -> v IS NOT NULL)) = 0 THEN '' ELSE list_reduce(list_transform(list_filter(a, v -> v IS NOT NULL), v -> CAST(v AS VARCHAR)), (x, y) -> x || sep || y) END;
CREATE OR REPLACE MACRO array_join(a, sep) AS __aq_join(a, sep);
CREATE OR REPLACE MACRO list_join(a, sep) AS __aq_join(a, sep);
CREATE OR REPLACE MACRO list_to_string(a, sep) AS __aq_join(a, sep);
CREATE OR REPLACE MACRO array_ndims(a) AS CAST((length(typeof(a)) - length(replace(typeof(a), '[]', ''))) / 2 AS BIGINT);
CREATE OR REPLACE MACRO list_ndims(a) AS array_ndims(a);
CREATE OR REPLACE MACRO array_positions(a, x) AS list_filter(list_transform(a, (v, i) -> CASE WHEN v = x THEN CAST(i AS BIGINT) END), p -> p IS NOT NULL);
CREATE OR REPLACE MACRO list_positions(a, x) AS array_positions(a, x);
CREATE OR REPLACE MACRO array_remove_n(a, x, n) AS list_filter(a, (v, i) -> v IS DISTINCT FROM x OR len(list_filter(a[:i], w -> w = x)) > n);
CREATE OR REPLACE MACRO array_remove(a, x) AS array_remove_n(a, x, 1);
CREATE OR REPLACE MACRO array_remove_all(a, x) AS list_filter(a, v -> v IS DISTINCT FROM x);
CREATE OR REPLACE MACRO list_remove(a, x) AS array_remove_n(a, x, 1);
CREATE OR REPLACE MACRO list_remove_n(a, x, n) AS array_remove_n(a, x, n);
CREATE OR REPLACE MACRO list_remove_all(a, x) AS array_remove_all(a, x);
CREATE OR REPLACE MACRO array_replace_n(a, x, y, n) AS list_transform(a, (v, i) -> CASE WHEN v = x AND len(list_filter(a[:i], w -> w = x)) <= n THEN y ELSE v END);
CREATE OR REPLACE MACRO array_replace(a, x, y) AS array_replace_n(a, x, y, 1);
CREATE OR REPLACE MACRO array_replace_all(a, x, y) AS list_transform(a, v -> CASE WHEN v = x THEN y ELSE v END);
CREATE OR REPLACE MACRO list_replace(a, x, y) AS array_replace_n(a, x, y, 1);
CREATE OR REPLACE MACRO list_replace_n(a, x, y, n) AS array_replace_n(a, x, y, n);
CREATE OR REPLACE MACRO list_replace_all(a, x, y) AS array_replace_all(a, x, y);
CREATE OR REPLACE MACRO array_repeat(x, n) AS list_transform(range(CAST(n AS BIGINT)), i -> x);
CREATE OR REPLACE MACRO list_repeat(x, n) AS array_repeat(x, n);
CREATE OR REPLACE MACRO array_resize(a, n) AS array_resize(a, n, NULL), (a, n, v) AS CASE WHEN len(a) >= n THEN a[:n] ELSE list_concat(a, list_transform(range(CAST(n - len(a) AS BIGINT)), i -> v)) END;
CREATE OR REPLACE MACRO list_resize(a, n) AS array_resize(a, n), (a, n, v) AS array_resize(a, n, v);
CREATE OR REPLACE MACRO arrays_overlap(a, b) AS list_has_any(a, b);
CREATE OR REPLACE MACRO array_any_value(a) AS list_filter(a, v -> v IS NOT NULL)[1];
CREATE OR REPLACE MACRO list_any_value(a) AS array_any_value(a);
CREATE OR REPLACE MACRO array_max(a) AS list_max(a);
CREATE OR REPLACE MACRO array_min(a) AS list_min(a);
CREATE OR REPLACE MACRO list_length(a) AS array_length(a);
CREATE OR REPLACE MACRO list_pop_back(a) AS array_pop_back(a);
CREATE OR REPLACE MACRO list_pop_front(a) AS array_pop_front(a);
CREATE OR REPLACE MACRO list_push_back(a, x) AS array_append(a, x);
CREATE OR REPLACE MACRO array_push_back(a, x) AS array_append(a, x);
CREATE OR REPLACE MACRO list_push_front(x, a) AS array_prepend(x, a);
CREATE OR REPLACE MACRO array_push_front(x, a) AS array_prepend(x, a);
CREATE OR REPLACE MACRO string_to_array(s, d) AS string_split(s, d), (s, d, null_str) AS list_transform(string_to_array(s, d), v -> CASE WHEN v = null_str THEN NULL ELSE v END);
CREATE OR REPLACE MACRO string_to_list(s, d) AS string_to_array(s, d), (s, d, null_str) AS string_to_array(s, d, null_str);
CREATE OR REPLACE MACRO get_field(s, name) AS struct_extract(s, name);
@VAR struct|struct_pack($C)
@PAIRS make_map|map([$K], [$V])
CREATE OR REPLACE MACRO var(x) AS var_samp(x);
CREATE OR REPLACE MACRO var_sample(x) AS var_samp(x);
CREATE OR REPLACE MACRO var_population(x) AS var_pop(x);
CREATE OR REPLACE MACRO covar(x, y) AS covar_samp(x, y);
CREATE OR REPLACE MACRO approx_distinct(x) AS CAST(approx_count_distinct(x) AS UBIGINT);
CREATE OR REPLACE MACRO approx_median(x) AS approx_quantile(x, 0.5);
CREATE OR REPLACE MACRO approx_percentile_cont(x, p) AS approx_quantile(x, p), (x, p, centroids) AS approx_quantile(x, p);
CREATE OR REPLACE MACRO arrow_typeof(x) AS CASE typeof(x) WHEN 'BOOLEAN' THEN 'Boolean' WHEN 'TINYINT' THEN 'Int8' WHEN 'SMALLINT' THEN 'Int16' WHEN 'INTEGER' THEN 'Int32' WHEN 'BIGINT' THEN 'Int64' WHEN 'UTINYINT' THEN 'UInt8' WHEN 'USMALLINT' THEN 'UInt16' WHEN 'UINTEGER' THEN 'UInt32' WHEN 'UBIGINT' THEN 'UInt64' WHEN 'FLOAT' THEN 'Float32' WHEN 'DOUBLE' THEN 'Float64' WHEN 'VARCHAR' THEN 'Utf8' WHEN 'BLOB' THEN 'Binary' WHEN 'DATE' THEN 'Date32' WHEN 'TIME' THEN 'Time64(Microsecond)' WHEN 'TIMESTAMP' THEN 'Timestamp(Microsecond, None)' WHEN 'TIMESTAMP_NS' THEN 'Timestamp(Nanosecond, None)' WHEN 'TIMESTAMP_MS' THEN 'Timestamp(Millisecond, None)' WHEN 'TIMESTAMP_S' THEN 'Timestamp(Second, None)' WHEN 'TIMESTAMP WITH TIME ZONE' THEN 'Timestamp(Microsecond, Some("UTC"))' WHEN 'INTERVAL' THEN 'Interval(MonthDayNano)' WHEN 'NULL' THEN 'Null' ELSE CASE WHEN typeof(x) LIKE 'DECIMAL(%' THEN 'Decimal128(' || replace(typeof(x)[9:-2], ',', ', ') || ')' ELSE typeof(x) END END;
CREATE OR REPLACE MACRO lpad(s, n) AS system.main.lpad(s, n, ' '), (s, n, p) AS system.main.lpad(s, n, p);
CREATE OR REPLACE MACRO rpad(s, n) AS system.main.rpad(s, n, ' '), (s, n, p) AS system.main.rpad(s, n, p);
CREATE OR REPLACE MACRO octet_length(s) AS CASE WHEN typeof(s) IN ('BLOB', 'BIT') THEN system.main.octet_length(TRY_CAST(s AS BLOB)) ELSE CAST(strlen(CAST(s AS VARCHAR)) AS BIGINT) END;
)SQL";

constexpr int kMaxFormats = 8;
constexpr int kMaxVarArgs = 32;

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

std::string List(const std::string& prefix, int first, int last, const std::string& sep = ", ") {
  std::string out;
  for (int i = first; i <= last; i++) {
    out += (i == first ? "" : sep) + prefix + std::to_string(i);
  }
  return out;
}

// "name|a|b" -> {"name", "a", "b"}
std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, '|')) {
    parts.push_back(part);
  }
  return parts;
}

std::string Expand(const std::string& line) {
  std::string overloads;
  auto add = [&](const std::string& params, const std::string& body) {
    overloads += (overloads.empty() ? "(" : ", (") + params + ") AS " + body;
  };
  std::vector<std::string> parts = Split(line.substr(line.find(' ') + 1));
  if (line.rfind("@FMT ", 0) == 0) {
    add("x", parts[1]);
    for (int n = 1; n <= kMaxFormats; n++) {
      add("x, " + List("f", 1, n), ReplaceAll(parts[2], "$F", "[" + List("f", 1, n) + "]"));
    }
  } else if (line.rfind("@VAR ", 0) == 0) {
    for (int n = parts[1].find("$A") != std::string::npos ? 0 : 1; n <= kMaxVarArgs; n++) {
      std::string named;
      for (int i = 1; i <= n; i++) {
        named += (i == 1 ? "c" : ", c") + std::to_string(i - 1) + " := a" + std::to_string(i);
      }
      add(List("a", 1, n), ReplaceAll(ReplaceAll(parts[1], "$A", List("a", 1, n)), "$C", named));
    }
  } else {  // @PAIRS
    for (int n = 1; n <= kMaxVarArgs / 2; n++) {
      std::string params;
      for (int i = 1; i <= n; i++) {
        params += (i == 1 ? "k" : ", k") + std::to_string(i) + ", v" + std::to_string(i);
      }
      add(params, ReplaceAll(ReplaceAll(parts[1], "$K", List("k", 1, n)), "$V", List("v", 1, n)));
    }
  }
  return "CREATE OR REPLACE MACRO " + parts[0] + overloads + ";\n";
}

}  // namespace

std::string DataFusionFunctionsSql() {
  std::string sql;
  std::stringstream in(kTemplate);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      continue;
    }
    sql += line[0] == '@' ? Expand(line) : line + "\n";
  }
  return sql;
}

namespace {

struct Definition {
  std::string name;  // lower case, unquoted
  std::string sql;   // the CREATE statement
};

// The statements of the template with the name each defines, in template order (helpers first).
const std::vector<Definition>& Definitions() {
  static const std::vector<Definition> definitions = [] {
    std::vector<Definition> out;
    std::stringstream in(DataFusionFunctionsSql());
    std::string line;
    const std::string prefix = "CREATE OR REPLACE MACRO ";
    while (std::getline(in, line)) {
      size_t start = prefix.size();
      size_t end = line.find('(', start);
      std::string name = line.substr(start, end - start);
      if (!name.empty() && name.front() == '"') {
        name = name.substr(1, name.size() - 2);
      }
      out.push_back({name, line + "\n"});
    }
    return out;
  }();
  return definitions;
}

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Whether `text` (lower case) uses `name` as a whole word.
bool Mentions(const std::string& text, const std::string& name) {
  for (size_t pos = text.find(name); pos != std::string::npos; pos = text.find(name, pos + 1)) {
    bool before = pos > 0 && IsWordChar(text[pos - 1]);
    bool after = pos + name.size() < text.size() && IsWordChar(text[pos + name.size()]);
    if (!before && !after) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string DataFusionFunctionsSqlFor(const std::vector<std::string>& queries) {
  std::string text;
  for (const auto& q : queries) {
    text += ToLowerAscii(q) + "\n";
  }
  const auto& defs = Definitions();
  std::vector<bool> needed(defs.size(), false);
  // Mentioned by a query, or by the body of a needed definition (helpers, aliases): repeat
  // until nothing new is needed.
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < defs.size(); i++) {
      if (needed[i]) {
        continue;
      }
      bool used = Mentions(text, defs[i].name);
      for (size_t j = 0; j < defs.size() && !used; j++) {
        used = needed[j] && j != i && Mentions(ToLowerAscii(defs[j].sql), defs[i].name);
      }
      if (used) {
        needed[i] = grew = true;
      }
    }
  }
  std::string sql;
  for (size_t i = 0; i < defs.size(); i++) {
    if (needed[i]) {
      sql += defs[i].sql;
    }
  }
  return sql;
}

bool NeedsNativeFunctions(const std::vector<std::string>& queries, const std::string& macros) {
  std::string text = ToLowerAscii(macros);
  for (const auto& q : queries) {
    text += "\n" + ToLowerAscii(q);
  }
  for (const auto& name : DataFusionNativeFunctionNames()) {
    if (Mentions(text, name)) {
      return true;
    }
  }
  return false;
}

}  // namespace aqueducts::engine

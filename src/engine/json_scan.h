#pragma once

// A validating single-pass JSON scanner that locates the value at a path and returns byte spans
// of the input: the json_get* SQL functions (json_functions.cc) answer from the raw text of the
// document, byte for byte, instead of re-serialising a parsed tree (which loses the spelling of
// numbers, e.g. integers beyond 64 bits, `1.50` or `1e3`, and the document's own spacing).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aqueducts::engine::json {

/// One step of a path: an object key (`is_index == false`) or an array index.
struct PathStep {
  bool is_index = false;
  std::string key;
  int64_t index = 0;
};

enum class Kind { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

/// Bytes [begin, end) of the document. A string's span includes its quotes.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  Kind kind = Kind::kNull;
};

struct Lookup {
  bool valid = false;  // the whole text is one well-formed JSON value (RFC 8259)
  bool found = false;  // valid, and the path leads to a value
  Span value;
  std::vector<Span> children;  // of a found array or object: elements / member values
  std::vector<Span> keys;      // of a found object: member keys (quoted spans), in order
};

/// Nesting deeper than this is reported as invalid (the scanner recurses).
constexpr int kMaxNesting = 1000;

/// Validates `text` and finds the value at `path`: a key step matches the first member of an
/// object with that (unescaped) name, an index step the element of an array at that position
/// (counted from 0; negative indexes match nothing). With `want_children`, the found value's
/// elements or members are listed too.
Lookup Find(std::string_view text, const std::vector<PathStep>& path, bool want_children);

/// The text of a quoted string span (escapes resolved, surrogate pairs joined into UTF-8). The
/// span must come from a successful Find (escapes already validated).
std::string Unescape(std::string_view quoted);

/// A JSON number that is written as an integer (no fraction, no exponent) and fits in int64.
bool ParseInt64(std::string_view number, int64_t* out);

}  // namespace aqueducts::engine::json

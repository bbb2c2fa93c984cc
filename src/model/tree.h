#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aqueducts/loader.h"
#include "aqueducts/status.h"

namespace aqueducts::model_internal {

/// \brief A format-neutral document tree (YAML, JSON and TOML all read into it) that remembers the
/// line of every node, so model errors can say "<file>:<line>: <path>: <message>".
struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  /// How a scalar was written. YAML plain scalars have no type of their own (kPlain).
  enum class ScalarType { kPlain, kString, kBool, kInt, kFloat };

  Kind kind = Kind::kNull;
  ScalarType scalar_type = ScalarType::kPlain;
  std::string scalar;       ///< the text of a scalar (booleans as "true"/"false")
  int line = 0;             ///< 1-based; 0 when unknown
  std::vector<Node> items;  ///< kSequence
  std::vector<std::pair<std::string, Node>> entries;  ///< kMap, in document order
  /// kMap: the 1-based line of each entry's key, parallel to `entries` (0 when unknown). May be
  /// shorter than `entries` for trees built by hand; KeyLine falls back to the value's line.
  std::vector<int> key_lines;

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMap() const { return kind == Kind::kMap; }
  /// The value of `key` in a map, or nullptr.
  const Node* Find(const std::string& key) const;
  /// The line of the key of entry `index` (the value's line when the key's is unknown).
  int KeyLine(size_t index) const;
};

/// Bounds on what any document may build, so every input loads or fails quickly in little
/// memory (docs/pipeline-format.md, "Limits"). Values count scalars, lists and mappings; YAML
/// aliases count once per use.
inline constexpr size_t kMaxTreeNodes = 100000;
inline constexpr size_t kMaxTreeBytes = size_t{16} << 20;
inline constexpr size_t kMaxTreeDepth = 64;

/// Parse `text` into a tree. Syntax errors are kParseError with
/// "<display_name>:<line>:<column>: <parser message>" and the format's catalogue id
/// (aqueducts::template::yaml_parse_error, json_parse_error, toml_parse_error). A document
/// beyond the limits above, or with a NUL byte in any key or string, is refused with the file,
/// line and field path.
Result<Node> ReadTree(const std::string& text, Format format, const std::string& display_name);

/// The catalogue id of parse errors of a format.
const char* ParseErrorId(Format format);

/// Error status "<display_name>:<line>:<column>: <what>: <detail>" with the format's id.
Status SyntaxError(Format format, const std::string& display_name, int line, int column,
                   const std::string& detail);

/// The JSON reader (json_reader.cc), exposed for ReadTree.
Result<Node> ReadJsonTree(const std::string& text, const std::string& display_name);

}  // namespace aqueducts::model_internal

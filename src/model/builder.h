#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aqueducts/loader.h"
#include "aqueducts/model.h"

#include "model/tree.h"

namespace aqueducts::model_internal {

/// The field path of item `index` of the list at `path`: "path[index]".
inline std::string ItemPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

/// Accepted spellings of one key: the canonical name first, then its aliases.
using Keys = std::initializer_list<const char*>;

/// \brief Reads typed values out of a Node tree, building errors of the form
/// "<file>:<line>: <field path>: <message>" (kParseError, the format's catalogue id).
class TreeReader {
 public:
  TreeReader(std::string display_name, Format format, std::string base_dir)
      : display_name_(std::move(display_name)), format_(format), base_dir_(std::move(base_dir)) {}

  Status Error(const Node& at, const std::string& path, const std::string& message) const;

  /// The value of the first of `keys` present in `map` (null values count as absent), or nullptr.
  /// `*path_out` (optional) receives path + "." + the key found.
  const Node* Find(const Node& map, Keys keys, const std::string& path,
                   std::string* path_out = nullptr) const;
  /// As Find, but a missing key is an error naming path + "." + the canonical key.
  Result<const Node*> Require(const Node& map, Keys keys, const std::string& path,
                              std::string* path_out) const;

  Status ExpectMap(const Node& node, const std::string& path) const;
  Status ExpectSequence(const Node& node, const std::string& path) const;

  Result<std::string> String(const Node& node, const std::string& path) const;
  Result<bool> Bool(const Node& node, const std::string& path) const;
  Result<uint64_t> UInt(const Node& node, const std::string& path) const;
  Result<int64_t> Int(const Node& node, const std::string& path) const;
  Result<char> Char(const Node& node, const std::string& path) const;
  Result<Location> ReadLocation(const Node& node, const std::string& path) const;
  Result<DataType> Type(const Node& node, const std::string& path, const char* context) const;
  Result<std::vector<std::string>> StringList(const Node& node, const std::string& path) const;
  Result<std::map<std::string, std::string>> StringMap(const Node& node,
                                                       const std::string& path) const;
  Result<std::vector<Field>> Schema(const Node& node, const std::string& path) const;

  // Field readers: read the first present key of `keys` from `map` into `*out`. Required ones fail
  // when absent; optional ones leave `*out` (its default) untouched.
  Status RequiredString(const Node& map, Keys keys, const std::string& path,
                        std::string* out) const;
  Status RequiredLocation(const Node& map, Keys keys, const std::string& path, Location* out) const;
  Status OptionalString(const Node& map, Keys keys, const std::string& path,
                        std::optional<std::string>* out) const;
  Status OptionalBool(const Node& map, Keys keys, const std::string& path, bool* out) const;
  Status OptionalChar(const Node& map, Keys keys, const std::string& path, char* out) const;
  Status OptionalStringMap(const Node& map, Keys keys, const std::string& path,
                           std::map<std::string, std::string>* out) const;
  Status OptionalStringList(const Node& map, Keys keys, const std::string& path,
                            std::vector<std::string>* out) const;
  Status OptionalSchema(const Node& map, Keys keys, const std::string& path,
                        std::vector<Field>* out) const;

  /// The variant tag at `map[key]` (e.g. "type"), mapped through `tags` (spelling -> canonical).
  /// Unknown spellings fail with "unknown <what> '<x>' (expected a, b, c)".
  Result<std::string> Tag(const Node& map, const char* key, const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& tags,
                          const char* what) const;

  const std::string& base_dir() const { return base_dir_; }

  /// Every key that no reader asked for in a mapping the readers looked into, in document order,
  /// as an error "<file>:<line>: <path>.<key>: unknown key '<key>' (did you mean <nearest>?)".
  /// Mappings read as free-form string maps (storage_config, parquet options, metadata,
  /// table_properties) are never looked into by key, so they are not checked. Call after a
  /// successful ReadAqueduct on `root`.
  std::vector<Status> UnknownKeys(const Node& root) const;

 private:
  // Remember that `keys` are meaningful in `map` (whether present or not).
  void NoteKnown(const Node& map, Keys keys) const;
  void CollectUnknown(const Node& node, const std::string& path, std::vector<Status>* out) const;

  std::string display_name_;
  Format format_;
  std::string base_dir_;
  // The keys asked for in each mapping (by address in the tree being read).
  mutable std::map<const Node*, std::set<std::string>> known_keys_;
};

Result<Source> ReadSource(const TreeReader& reader, const Node& node, const std::string& path);
Result<Destination> ReadDestination(const TreeReader& reader, const Node& node,
                                    const std::string& path);
/// The `type` of a source or destination file format (parquet, csv, json and their aliases).
Result<FileFormat> ReadFileFormatTag(const TreeReader& reader, const Node& node,
                                     const std::string& path);
Result<SourceFileType> ReadSourceFileType(const TreeReader& reader, const Node& node,
                                          const std::string& path);
Result<Aqueduct> ReadAqueduct(const TreeReader& reader, const Node& root);

/// Stage names that repeat an earlier stage's or a source's name (compared as DuckDB compares
/// identifiers: ASCII case-insensitively), each an error naming both and their lines. Call after
/// a successful ReadAqueduct on `root`.
std::vector<Status> DuplicateNames(const TreeReader& reader, const Node& root);

}  // namespace aqueducts::model_internal

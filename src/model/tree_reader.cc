// Typed reads from the generic tree, with errors that name the file, line and field path.

#include <charconv>

#include "model/builder.h"
#include "model/text_util.h"

namespace aqueducts::model_internal {
namespace {

const char* KindName(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNull:
      return "null";
    case Node::Kind::kScalar:
      return "a scalar";
    case Node::Kind::kSequence:
      return "a list";
    case Node::Kind::kMap:
      return "a mapping";
  }
  return "?";
}

// The field reader behind Required*/Optional*: find the first present key of `keys`, read it with
// `read` into `*out`. An absent key is an error when `required`, else leaves `*out` untouched.
template <typename Value, typename Out>
Status ReadField(const TreeReader& reader, const Node& map, Keys keys, const std::string& path,
                 bool required,
                 Result<Value> (TreeReader::*read)(const Node&, const std::string&) const,
                 Out* out) {
  std::string field_path;
  const Node* node = nullptr;
  if (required) {
    AQ_ASSIGN_OR_RETURN(node, reader.Require(map, keys, path, &field_path));
  } else {
    node = reader.Find(map, keys, path, &field_path);
    if (node == nullptr) {
      return Status::OK();
    }
  }
  AQ_ASSIGN_OR_RETURN(*out, (reader.*read)(*node, field_path));
  return Status::OK();
}

}  // namespace

Status TreeReader::Error(const Node& at, const std::string& path,
                         const std::string& message) const {
  std::string where = display_name_;
  if (at.line > 0) {
    where += ":" + std::to_string(at.line);
  }
  if (!path.empty()) {
    where += ": " + path;
  }
  return Status::ParseError(where + ": " + message, ParseErrorId(format_));
}

void TreeReader::NoteKnown(const Node& map, Keys keys) const {
  std::set<std::string>& known = known_keys_[&map];
  for (const char* key : keys) {
    known.insert(key);
  }
}

std::vector<Status> TreeReader::UnknownKeys(const Node& root) const {
  std::vector<Status> out;
  CollectUnknown(root, "", &out);
  return out;
}

void TreeReader::CollectUnknown(const Node& node, const std::string& path,
                                std::vector<Status>* out) const {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.items.size(); ++i) {
      CollectUnknown(node.items[i], ItemPath(path, i), out);
    }
    return;
  }
  if (!node.IsMap()) {
    return;
  }
  auto known = known_keys_.find(&node);
  if (known == known_keys_.end()) {
    return;  // never looked into by key: free-form, or not read at all
  }
  std::vector<std::string> candidates(known->second.begin(), known->second.end());
  for (size_t i = 0; i < node.entries.size(); ++i) {
    const auto& [key, value] = node.entries[i];
    std::string key_path = path.empty() ? key : path + "." + key;
    if (known->second.count(key) == 0) {
      std::string nearest = Nearest(key, candidates);
      // Keys are echoed cut to a readable length (a key can be any text).
      std::string shown = Echo(key);
      key_path = path.empty() ? shown : path + "." + shown;
      std::string message = "unknown key '" + shown + "' (" +
                            (nearest.empty() ? "expected one of " + JoinComma(candidates)
                                             : "did you mean " + nearest + "?") +
                            ")";
      Node at;
      at.line = node.KeyLine(i);
      out->push_back(Error(at, key_path, message));
      continue;
    }
    CollectUnknown(value, key_path, out);
  }
}

const Node* TreeReader::Find(const Node& map, Keys keys, const std::string& path,
                             std::string* path_out) const {
  NoteKnown(map, keys);
  for (const char* key : keys) {
    const Node* value = map.Find(key);
    if (value != nullptr && !value->IsNull()) {
      if (path_out != nullptr) {
        *path_out = path.empty() ? key : path + "." + key;
      }
      return value;
    }
  }
  return nullptr;
}

Result<const Node*> TreeReader::Require(const Node& map, Keys keys, const std::string& path,
                                        std::string* path_out) const {
  const Node* value = Find(map, keys, path, path_out);
  if (value != nullptr) {
    return value;
  }
  std::string key = *keys.begin();
  std::string full = path.empty() ? key : path + "." + key;
  const Node* present = map.Find(key);
  std::string message = present != nullptr && present->IsNull()
                            ? "required field '" + key + "' is empty (null)"
                            : "missing required field '" + key + "'";
  if (keys.size() > 1) {
    std::vector<std::string> aliases(keys.begin() + 1, keys.end());
    message += " (alias: " + JoinComma(aliases) + ")";
  }
  // A key written with a typo is the likeliest cause: name it with its line.
  std::vector<std::string> spellings(keys.begin(), keys.end());
  for (size_t i = 0; i < map.entries.size(); ++i) {
    const std::string& written = map.entries[i].first;
    if (known_keys_[&map].count(written) == 0 && !Nearest(written, spellings).empty()) {
      message += "; found unknown key '" + Echo(written) + "' on line " +
                 std::to_string(map.KeyLine(i)) + ": did you mean " + key + "?";
      break;
    }
  }
  return Error(map, full, message);
}

Status TreeReader::ExpectMap(const Node& node, const std::string& path) const {
  if (node.IsMap()) {
    return Status::OK();
  }
  return Error(node, path, std::string("expected a mapping, got ") + KindName(node));
}

Status TreeReader::ExpectSequence(const Node& node, const std::string& path) const {
  if (node.IsSequence()) {
    return Status::OK();
  }
  return Error(node, path, std::string("expected a list, got ") + KindName(node));
}

Result<std::string> TreeReader::String(const Node& node, const std::string& path) const {
  if (node.IsScalar()) {
    return node.scalar;
  }
  return Error(node, path, std::string("expected a string, got ") + KindName(node));
}

Result<bool> TreeReader::Bool(const Node& node, const std::string& path) const {
  if (node.IsScalar()) {
    const std::string& s = node.scalar;
    if (s == "true" || s == "True" || s == "TRUE") {
      return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      return false;
    }
  }
  return Error(node, path,
               "expected a boolean (true or false), got " +
                   (node.IsScalar() ? "'" + Echo(node.scalar) + "'" : std::string(KindName(node))));
}

Result<int64_t> TreeReader::Int(const Node& node, const std::string& path) const {
  // YAML scalars arrive as text, so numeric strings are accepted whatever the format.
  if (node.IsScalar() && node.scalar_type != Node::ScalarType::kBool) {
    std::string_view text = Trim(node.scalar);
    if (!text.empty() && text[0] == '+') {
      text.remove_prefix(1);
    }
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
      return value;
    }
  }
  return Error(node, path,
               "expected an integer, got " +
                   (node.IsScalar() ? "'" + Echo(node.scalar) + "'" : std::string(KindName(node))));
}

Result<uint64_t> TreeReader::UInt(const Node& node, const std::string& path) const {
  AQ_ASSIGN_OR_RETURN(int64_t value, Int(node, path));
  if (value < 0) {
    return Error(node, path, "expected a non-negative integer, got " + std::to_string(value));
  }
  return static_cast<uint64_t>(value);
}

Result<char> TreeReader::Char(const Node& node, const std::string& path) const {
  AQ_ASSIGN_OR_RETURN(std::string text, String(node, path));
  if (text.size() != 1) {
    return Error(node, path, "expected exactly one character (one byte), got '" + Echo(text) + "'");
  }
  return text[0];
}

Result<Location> TreeReader::ReadLocation(const Node& node, const std::string& path) const {
  AQ_ASSIGN_OR_RETURN(std::string text, String(node, path));
  return ParseLocation(text, base_dir_);
}

Result<DataType> TreeReader::Type(const Node& node, const std::string& path,
                                  const char* context) const {
  AQ_ASSIGN_OR_RETURN(std::string text, String(node, path));
  Result<DataType> type = ParseDataType(text);
  if (!type.ok()) {
    return Error(node, path, context + type.status().message());
  }
  return type;
}

Result<std::vector<std::string>> TreeReader::StringList(const Node& node,
                                                        const std::string& path) const {
  AQ_RETURN_IF_ERROR(ExpectSequence(node, path));
  std::vector<std::string> out;
  for (size_t i = 0; i < node.items.size(); ++i) {
    AQ_ASSIGN_OR_RETURN(std::string item, String(node.items[i], ItemPath(path, i)));
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::map<std::string, std::string>> TreeReader::StringMap(const Node& node,
                                                                 const std::string& path) const {
  AQ_RETURN_IF_ERROR(ExpectMap(node, path));
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : node.entries) {
    AQ_ASSIGN_OR_RETURN(out[key], String(value, path + "." + key));
  }
  return out;
}

Result<std::vector<Field>> TreeReader::Schema(const Node& node, const std::string& path) const {
  AQ_RETURN_IF_ERROR(ExpectSequence(node, path));
  std::vector<Field> fields;
  for (size_t i = 0; i < node.items.size(); ++i) {
    const Node& item = node.items[i];
    std::string item_path = ItemPath(path, i);
    AQ_RETURN_IF_ERROR(ExpectMap(item, item_path));
    Field field;
    AQ_RETURN_IF_ERROR(RequiredString(item, {"name"}, item_path, &field.name));
    std::string type_path;
    AQ_ASSIGN_OR_RETURN(const Node* type,
                        Require(item, {"data_type", "type"}, item_path, &type_path));
    AQ_ASSIGN_OR_RETURN(field.data_type, Type(*type, type_path, "Invalid data type: "));
    AQ_RETURN_IF_ERROR(OptionalBool(item, {"nullable"}, item_path, &field.nullable));
    AQ_RETURN_IF_ERROR(OptionalString(item, {"description"}, item_path, &field.description));
    // Legacy Arrow field `metadata: {}` (the original's own examples carry it): known, ignored.
    (void)Find(item, {"metadata"}, item_path);
    fields.push_back(std::move(field));
  }
  return fields;
}

Status TreeReader::RequiredString(const Node& map, Keys keys, const std::string& path,
                                  std::string* out) const {
  return ReadField(*this, map, keys, path, /*required=*/true, &TreeReader::String, out);
}

Status TreeReader::RequiredLocation(const Node& map, Keys keys, const std::string& path,
                                    Location* out) const {
  return ReadField(*this, map, keys, path, /*required=*/true, &TreeReader::ReadLocation, out);
}

Status TreeReader::OptionalString(const Node& map, Keys keys, const std::string& path,
                                  std::optional<std::string>* out) const {
  return ReadField(*this, map, keys, path, /*required=*/false, &TreeReader::String, out);
}

Status TreeReader::OptionalBool(const Node& map, Keys keys, const std::string& path,
                                bool* out) const {
  return ReadField(*this, map, keys, path, /*required=*/false, &TreeReader::Bool, out);
}

Status TreeReader::OptionalChar(const Node& map, Keys keys, const std::string& path,
                                char* out) const {
  return ReadField(*this, map, keys, path, /*required=*/false, &TreeReader::Char, out);
}

Status TreeReader::OptionalStringMap(const Node& map, Keys keys, const std::string& path,
                                     std::map<std::string, std::string>* out) const {
  return ReadField(*this, map, keys, path, /*required=*/false, &TreeReader::StringMap, out);
}

Status TreeReader::OptionalStringList(const Node& map, Keys keys, const std::string& path,
                                      std::vector<std::string>* out) const {
  return ReadField(*this, map, keys, path, /*required=*/false, &TreeReader::StringList, out);
}

Status TreeReader::OptionalSchema(const Node& map, Keys keys, const std::string& path,
                                  std::vector<Field>* out) const {
  return ReadField(*this, map, keys, path, /*required=*/false, &TreeReader::Schema, out);
}

Result<std::string> TreeReader::Tag(const Node& map, const char* key, const std::string& path,
                                    const std::vector<std::pair<std::string, std::string>>& tags,
                                    const char* what) const {
  std::string tag_path;
  AQ_ASSIGN_OR_RETURN(const Node* node, Require(map, {key}, path, &tag_path));
  AQ_ASSIGN_OR_RETURN(std::string tag, String(*node, tag_path));
  std::vector<std::string> canonical;
  for (const auto& [spelling, name] : tags) {
    if (spelling == tag) {
      return name;
    }
    if (canonical.empty() || canonical.back() != name) {
      canonical.push_back(name);
    }
  }
  return Error(*node, tag_path,
               std::string("unknown ") + what + " '" + Echo(tag) + "' (expected " +
                   JoinComma(canonical) + ")");
}

}  // namespace aqueducts::model_internal

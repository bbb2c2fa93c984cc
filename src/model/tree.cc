#include "model/tree.h"

#include <map>
#include <optional>
#include <sstream>

#include <toml++/toml.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace aqueducts::model_internal {
namespace {

// ---------------------------------------------------------------- YAML

// Thrown by the handlers below to stop a parse; caught in ReadTree's readers.
struct LimitExceeded {
  int line;
  std::string detail;
};

// Counts what a document builds, so no input can make the tree larger than kMaxTreeNodes values,
// kMaxTreeBytes bytes of text or kMaxTreeDepth levels, however it repeats itself (YAML aliases).
class Budget {
 public:
  void Add(size_t nodes, size_t bytes, int line) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > kMaxTreeNodes) {
      throw LimitExceeded{line, "the document has more than " + std::to_string(kMaxTreeNodes) +
                                    " values (counting each use of a YAML alias)"};
    }
    if (bytes_ > kMaxTreeBytes) {
      throw LimitExceeded{line, "the document's text exceeds " +
                                    std::to_string(kMaxTreeBytes >> 20) +
                                    " MiB (counting each use of a YAML alias)"};
    }
  }
  void CheckDepth(size_t depth, int line) const {
    if (depth > kMaxTreeDepth) {
      throw LimitExceeded{
          line, "lists and mappings nest deeper than " + std::to_string(kMaxTreeDepth) + " levels"};
    }
  }

 private:
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

// Values and keys of a subtree, for charging a copy of it.
void Measure(const Node& node, size_t* nodes, size_t* bytes) {
  *nodes += 1;
  *bytes += node.scalar.size();
  for (const Node& item : node.items) {
    Measure(item, nodes, bytes);
  }
  for (const auto& [key, value] : node.entries) {
    *bytes += key.size();
    Measure(value, nodes, bytes);
  }
}

// Builds the tree from yaml-cpp's parse events. Unlike YAML::Load, which shares an aliased node,
// every alias here is a copy charged to the budget, so an alias bomb stops at the limit instead
// of expanding (the tree must be a tree: builders and checks walk it).
class YamlTreeBuilder : public YAML::EventHandler {
 public:
  Node& root() { return root_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node node;
    node.line = mark.line + 1;
    Finish(std::move(node), anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      throw LimitExceeded{mark.line + 1, "an alias refers to the node that contains it"};
    }
    size_t nodes = 0;
    size_t bytes = 0;
    Measure(it->second, &nodes, &bytes);
    budget_.Add(nodes, bytes, mark.line + 1);
    Finish(Node(it->second), 0);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Node node;
    node.line = mark.line + 1;
    node.kind = Node::Kind::kScalar;
    node.scalar = value;
    // yaml-cpp tags quoted scalars "!" and plain ones "?": only plain ones may be numbers,
    // booleans or null.
    node.scalar_type = tag == "!" ? Node::ScalarType::kString : Node::ScalarType::kPlain;
    budget_.Add(1, value.size(), node.line);
    Finish(std::move(node), anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(Node::Kind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(Node::Kind::kMap, mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Open_ {
    Node node;
    YAML::anchor_t anchor = 0;
    std::optional<std::string> key;  // a map's key waiting for its value
    int key_line = 0;                // the line of `key`
  };

  void Open(Node::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Open_ open;
    open.node.kind = kind;
    open.node.line = mark.line + 1;
    open.anchor = anchor;
    budget_.Add(1, 0, open.node.line);
    stack_.push_back(std::move(open));
    budget_.CheckDepth(stack_.size(), mark.line + 1);
  }

  void Close() {
    Open_ open = std::move(stack_.back());
    stack_.pop_back();
    Finish(std::move(open.node), open.anchor);
  }

  // Attach a complete node to its parent (or make it the root) and remember its anchor.
  void Finish(Node node, YAML::anchor_t anchor) {
    if (anchor != 0) {
      size_t nodes = 0;
      size_t bytes = 0;
      Measure(node, &nodes, &bytes);
      budget_.Add(nodes, bytes, node.line);
      anchors_[anchor] = node;
    }
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Open_& parent = stack_.back();
    if (parent.node.IsSequence()) {
      parent.node.items.push_back(std::move(node));
    } else if (!parent.key) {
      parent.key = node.IsScalar() ? node.scalar : std::string("<complex key>");
      parent.key_line = node.line;
    } else {
      parent.node.key_lines.push_back(parent.key_line);
      parent.node.entries.emplace_back(std::move(*parent.key), std::move(node));
      parent.key.reset();
    }
  }

  Budget budget_;
  std::vector<Open_> stack_;
  std::map<YAML::anchor_t, Node> anchors_;
  Node root_;
};

Result<Node> ReadYamlTree(const std::string& text, const std::string& display_name) {
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    YamlTreeBuilder builder;
    parser.HandleNextDocument(builder);
    return std::move(builder.root());
  } catch (const LimitExceeded& e) {
    return SyntaxError(Format::kYaml, display_name, e.line, 0, e.detail);
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    int column = e.mark.is_null() ? 0 : e.mark.column + 1;
    return SyntaxError(Format::kYaml, display_name, line, column, e.msg);
  } catch (const std::exception& e) {
    return SyntaxError(Format::kYaml, display_name, 0, 0, e.what());
  }
}

// ---------------------------------------------------------------- TOML

template <typename T>
std::string Print(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

Node FromToml(const toml::node& toml, Budget* budget, size_t depth) {
  Node node;
  node.line = static_cast<int>(toml.source().begin.line);
  node.kind = Node::Kind::kScalar;
  budget->Add(1, 0, node.line);
  if (const toml::table* table = toml.as_table()) {
    budget->CheckDepth(depth + 1, node.line);
    node.kind = Node::Kind::kMap;
    for (auto&& [key, value] : *table) {
      node.key_lines.push_back(static_cast<int>(key.source().begin.line));
      node.entries.emplace_back(std::string(key.str()), FromToml(value, budget, depth + 1));
    }
  } else if (const toml::array* array = toml.as_array()) {
    budget->CheckDepth(depth + 1, node.line);
    node.kind = Node::Kind::kSequence;
    for (const toml::node& item : *array) {
      node.items.push_back(FromToml(item, budget, depth + 1));
    }
  } else if (auto s = toml.value<std::string>(); s && toml.is_string()) {
    node.scalar_type = Node::ScalarType::kString;
    node.scalar = *s;
  } else if (toml.is_boolean()) {
    node.scalar_type = Node::ScalarType::kBool;
    node.scalar = *toml.value<bool>() ? "true" : "false";
  } else if (toml.is_integer()) {
    node.scalar_type = Node::ScalarType::kInt;
    node.scalar = std::to_string(*toml.value<int64_t>());
  } else if (toml.is_floating_point()) {
    node.scalar_type = Node::ScalarType::kFloat;
    node.scalar = Print(*toml.value<double>());
  } else if (toml.is_date()) {
    node.scalar = Print(*toml.as_date());
  } else if (toml.is_time()) {
    node.scalar = Print(*toml.as_time());
  } else if (toml.is_date_time()) {
    node.scalar = Print(*toml.as_date_time());
  }
  if (node.kind == Node::Kind::kScalar && node.scalar_type == Node::ScalarType::kPlain) {
    // Dates and times are strings to the model (e.g. a Delta source `timestamp`).
    node.scalar_type = Node::ScalarType::kString;
  }
  return node;
}

Result<Node> ReadTomlTree(const std::string& text, const std::string& display_name) {
  Budget budget;
#if TOML_EXCEPTIONS
  try {
    toml::table table = toml::parse(text, display_name);
    return FromToml(table, &budget, 0);
  } catch (const LimitExceeded& e) {
    return SyntaxError(Format::kToml, display_name, e.line, 0, e.detail);
  } catch (const toml::parse_error& e) {
    return SyntaxError(Format::kToml, display_name, static_cast<int>(e.source().begin.line),
                       static_cast<int>(e.source().begin.column), std::string(e.description()));
  }
#else
  toml::parse_result result = toml::parse(text, display_name);
  if (!result) {
    const toml::parse_error& e = result.error();
    return SyntaxError(Format::kToml, display_name, static_cast<int>(e.source().begin.line),
                       static_cast<int>(e.source().begin.column), std::string(e.description()));
  }
  try {
    return FromToml(result.table(), &budget, 0);
  } catch (const LimitExceeded& e) {
    return SyntaxError(Format::kToml, display_name, e.line, 0, e.detail);
  }
#endif
}

// The first key or string of `node` holding a NUL byte: its node and field path, or nullptr.
// DuckDB and C APIs read strings up to a NUL, so SQL after one would be silently dropped.
const Node* FindNul(const Node& node, const std::string& path, std::string* where) {
  if (node.IsScalar() && node.scalar.find('\0') != std::string::npos) {
    *where = path;
    return &node;
  }
  for (size_t i = 0; i < node.items.size(); ++i) {
    if (const Node* found = FindNul(node.items[i], path + "[" + std::to_string(i) + "]", where)) {
      return found;
    }
  }
  for (const auto& [key, value] : node.entries) {
    std::string key_path = path.empty() ? key : path + "." + key;
    if (key.find('\0') != std::string::npos) {
      *where = path.empty() ? "<key>" : path + ".<key>";
      return &value;
    }
    if (const Node* found = FindNul(value, key_path, where)) {
      return found;
    }
  }
  return nullptr;
}

}  // namespace

const Node* Node::Find(const std::string& key) const {
  for (const auto& [name, value] : entries) {
    if (name == key) {
      return &value;
    }
  }
  return nullptr;
}

int Node::KeyLine(size_t index) const {
  if (index < key_lines.size() && key_lines[index] > 0) {
    return key_lines[index];
  }
  return index < entries.size() ? entries[index].second.line : line;
}

const char* ParseErrorId(Format format) {
  switch (format) {
    case Format::kYaml:
      return "aqueducts::template::yaml_parse_error";
    case Format::kJson:
      return "aqueducts::template::json_parse_error";
    case Format::kToml:
      return "aqueducts::template::toml_parse_error";
  }
  return "aqueducts::template::yaml_parse_error";
}

Status SyntaxError(Format format, const std::string& display_name, int line, int column,
                   const std::string& detail) {
  const char* what = format == Format::kYaml   ? "YAML parsing error"
                     : format == Format::kJson ? "JSON parsing error"
                                               : "TOML parsing error";
  std::string where = display_name;
  if (line > 0) {
    where += ":" + std::to_string(line);
  }
  if (line > 0 && column > 0) {
    where += ":" + std::to_string(column);
  }
  return Status::ParseError(where + ": " + what + ": " + detail, ParseErrorId(format));
}

namespace {

// A check of the raw text before a parser sees it, for the nesting that costs yaml-cpp and
// toml++ memory or stack before they report it: YAML flow brackets (a megabyte of '[' takes
// yaml-cpp 250 MB) and TOML dotted keys (a long a.b.c... key overflows toml++'s stack). It counts
// brackets and dots in quoted text too, so it can only over-count; the limit is far above what
// a pipeline nests.
Status CheckRawNesting(const std::string& text, Format format, const std::string& display_name) {
  int line = 1;
  if (format == Format::kYaml) {
    size_t depth = 0;
    for (char c : text) {
      if (c == '\n') {
        ++line;
      } else if (c == '[' || c == '{') {
        if (++depth > kMaxTreeDepth) {
          return SyntaxError(
              format, display_name, line, 0,
              "lists and mappings nest deeper than " + std::to_string(kMaxTreeDepth) + " levels");
        }
      } else if ((c == ']' || c == '}') && depth > 0) {
        --depth;
      }
    }
  } else if (format == Format::kToml) {
    size_t dots = 0;
    bool in_key = true;  // before the line's first '='
    for (char c : text) {
      if (c == '\n') {
        ++line;
        dots = 0;
        in_key = true;
      } else if (c == '=') {
        in_key = false;
      } else if (c == '.' && in_key && ++dots > kMaxTreeDepth) {
        return SyntaxError(format, display_name, line, 0,
                           "a key has more than " + std::to_string(kMaxTreeDepth) + " parts");
      }
    }
  }
  return Status::OK();
}

Result<Node> ReadAnyTree(const std::string& text, Format format, const std::string& display_name) {
  switch (format) {
    case Format::kYaml:
      return ReadYamlTree(text, display_name);
    case Format::kJson:
      return ReadJsonTree(text, display_name);
    case Format::kToml:
      return ReadTomlTree(text, display_name);
  }
  return Status::Internal("unknown format");
}

}  // namespace

Result<Node> ReadTree(const std::string& text, Format format, const std::string& display_name) {
  AQ_RETURN_IF_ERROR(CheckRawNesting(text, format, display_name));
  AQ_ASSIGN_OR_RETURN(Node tree, ReadAnyTree(text, format, display_name));
  std::string path;
  if (const Node* at = FindNul(tree, "", &path)) {
    std::string where = display_name;
    if (at->line > 0) {
      where += ":" + std::to_string(at->line);
    }
    if (!path.empty()) {
      where += ": " + path;
    }
    return Status::ParseError(
        where + ": contains a NUL byte (\\0); pipeline text may not hold NUL bytes",
        ParseErrorId(format));
  }
  return tree;
}

}  // namespace aqueducts::model_internal

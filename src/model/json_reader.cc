// JSON into the generic tree. nlohmann's SAX interface reports no positions, so the handler keeps
// its own cursor: every SAX event is exactly one JSON token, in document order, so skipping
// whitespace and ',' ':' and then the token itself keeps the cursor on the token the event is
// about.

#include <cctype>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/text_util.h"
#include "model/tree.h"

namespace aqueducts::model_internal {
namespace {

// nlohmann prefixes messages with "[json.exception.parse_error.101] parse error at line 1,
// column 2: "; we print our own position, so keep only the explanation, and cut the text it
// quotes ("last read: '...'") to a readable length.
std::string Describe(const std::string& message) {
  std::string text = message;
  if (text.rfind("[json.exception.", 0) == 0) {
    size_t colon = text.find(": ");
    text = colon == std::string::npos ? "invalid JSON" : text.substr(colon + 2);
  }
  const std::string kLastRead = "last read: '";
  size_t begin = text.find(kLastRead);
  if (begin != std::string::npos) {
    begin += kLastRead.size();
    size_t end = text.find("'; ", begin);
    if (end == std::string::npos) {
      end = text.rfind('\'');
    }
    if (end != std::string::npos && end > begin) {
      text = text.substr(0, begin) + Echo(text.substr(begin, end - begin)) + text.substr(end);
    }
  }
  return text;
}

class TreeBuilder : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit TreeBuilder(const std::string& text) : text_(text) {
    if (text_.rfind("\xEF\xBB\xBF", 0) == 0) {
      pos_ = 3;  // nlohmann skips a UTF-8 BOM too
    }
  }

  bool null() override { return Scalar(Node::ScalarType::kPlain, "null", true); }
  bool boolean(bool value) override {
    return Scalar(Node::ScalarType::kBool, value ? "true" : "false");
  }
  bool number_integer(number_integer_t value) override {
    return Scalar(Node::ScalarType::kInt, std::to_string(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return Scalar(Node::ScalarType::kInt, std::to_string(value));
  }
  bool number_float(number_float_t, const string_t& raw) override {
    return Scalar(Node::ScalarType::kFloat, raw);
  }
  bool string(string_t& value) override {
    if (nodes_ >= kMaxTreeNodes) {
      return Refuse("the document has more than " + std::to_string(kMaxTreeNodes) + " values");
    }
    Node node;
    node.kind = Node::Kind::kScalar;
    node.scalar_type = Node::ScalarType::kString;
    node.scalar = value;
    node.line = NextToken();
    SkipString();
    Add(std::move(node));
    return true;
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return Open(Node::Kind::kMap); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(Node::Kind::kSequence); }
  bool end_array() override { return Close(); }
  bool key(string_t& value) override {
    key_lines_.back() = NextToken();
    SkipString();
    keys_.back() = value;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    error_position_ = position;
    if (ex.id == 406) {
      // out_of_range.406: a number beyond the range of a 64-bit float (e.g. 1e99999).
      error_ = "number '" + Echo(last_token) + "' is out of range (the largest is about 1.8e308)";
    } else {
      error_ = Describe(ex.what());
    }
    error_ += FieldSuffix();
    return false;
  }

  Node& root() { return root_; }
  bool too_many() const { return too_many_; }
  size_t error_position() const { return error_position_; }
  const std::string& error() const { return error_; }

 private:
  // Skip separators; return the 1-based line of the next token.
  int NextToken() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_;
      } else if (!std::isspace(static_cast<unsigned char>(c)) && c != ',' && c != ':') {
        break;
      }
      ++pos_;
    }
    return line_;
  }

  // The cursor is on an opening quote; JSON strings hold no raw newlines.
  void SkipString() {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      pos_ += text_[pos_] == '\\' ? 2 : 1;
    }
    ++pos_;
  }

  void SkipLiteral() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == ']' || c == '}') {
        break;
      }
      ++pos_;
    }
  }

  bool Scalar(Node::ScalarType type, std::string text, bool is_null = false) {
    if (nodes_ >= kMaxTreeNodes) {
      return Refuse("the document has more than " + std::to_string(kMaxTreeNodes) + " values");
    }
    Node node;
    node.kind = is_null ? Node::Kind::kNull : Node::Kind::kScalar;
    node.scalar_type = type;
    node.scalar = std::move(text);
    node.line = NextToken();
    SkipLiteral();
    Add(std::move(node));
    return true;
  }

  bool Open(Node::Kind kind) {
    if (open_.size() >= kMaxTreeDepth) {
      return Refuse("lists and mappings nest deeper than " + std::to_string(kMaxTreeDepth) +
                    " levels");
    }
    Node node;
    node.kind = kind;
    node.line = NextToken();
    ++pos_;
    open_.push_back(std::move(node));
    keys_.emplace_back();
    key_lines_.push_back(0);
    return true;
  }

  bool Close() {
    NextToken();
    ++pos_;
    Node node = std::move(open_.back());
    open_.pop_back();
    keys_.pop_back();
    key_lines_.pop_back();
    Add(std::move(node));
    return true;
  }

  // Stop the parse with our own message, positioned at the cursor.
  bool Refuse(const std::string& message) {
    error_position_ = pos_ + 1;
    error_ = message + FieldSuffix();
    return false;
  }

  // " (in field a.b[2])" for the value being read, or "" at the top.
  std::string FieldSuffix() const {
    std::string path;
    for (size_t i = 0; i < open_.size(); ++i) {
      if (open_[i].IsMap()) {
        path += (path.empty() ? "" : ".") + keys_[i];
      } else {
        path += "[" + std::to_string(open_[i].items.size()) + "]";
      }
    }
    return path.empty() ? "" : " (in field " + Echo(path) + ")";
  }

  void Add(Node node) {
    if (++nodes_ > kMaxTreeNodes) {
      too_many_ = true;  // reported by the caller once the parse has stopped
    }
    if (open_.empty()) {
      root_ = std::move(node);
    } else if (open_.back().IsMap()) {
      open_.back().key_lines.push_back(key_lines_.back());
      open_.back().entries.emplace_back(keys_.back(), std::move(node));
    } else {
      open_.back().items.push_back(std::move(node));
    }
  }

  const std::string& text_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Node> open_;
  std::vector<std::string> keys_;
  std::vector<int> key_lines_;  // line of the current key of each open map
  Node root_;
  size_t error_position_ = 0;
  std::string error_;
  size_t nodes_ = 0;
  bool too_many_ = false;
};

}  // namespace

Result<Node> ReadJsonTree(const std::string& text, const std::string& display_name) {
  TreeBuilder builder(text);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text, &builder);
  } catch (const std::exception& e) {
    return SyntaxError(Format::kJson, display_name, 0, 0, Describe(e.what()));
  }
  if (ok && builder.too_many()) {
    return SyntaxError(Format::kJson, display_name, 0, 0,
                       "the document has more than " + std::to_string(kMaxTreeNodes) + " values");
  }
  if (ok) {
    return std::move(builder.root());
  }
  // The error position counts characters read, so the offending one is at position - 1.
  size_t offset = builder.error_position() > 0 ? builder.error_position() - 1 : 0;
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return SyntaxError(Format::kJson, display_name, line, column, builder.error());
}

}  // namespace aqueducts::model_internal

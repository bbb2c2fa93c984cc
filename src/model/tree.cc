#include "model/tree.h"

#include <sstream>

#include <toml++/toml.h>
#include <yaml-cpp/yaml.h>

namespace aqueducts::model_internal {
namespace {

// ---------------------------------------------------------------- YAML

Node FromYaml(const YAML::Node& yaml) {
  Node node;
  node.line = yaml.Mark().is_null() ? 0 : yaml.Mark().line + 1;
  switch (yaml.Type()) {
    case YAML::NodeType::Scalar:
      node.kind = Node::Kind::kScalar;
      node.scalar = yaml.Scalar();
      // yaml-cpp tags quoted scalars "!" and plain ones "?": only plain ones may be numbers,
      // booleans or null.
      node.scalar_type = yaml.Tag() == "!" ? Node::ScalarType::kString : Node::ScalarType::kPlain;
      break;
    case YAML::NodeType::Sequence:
      node.kind = Node::Kind::kSequence;
      for (const YAML::Node& item : yaml) {
        node.items.push_back(FromYaml(item));
      }
      break;
    case YAML::NodeType::Map:
      node.kind = Node::Kind::kMap;
      for (auto it = yaml.begin(); it != yaml.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("<complex key>");
        node.entries.emplace_back(std::move(key), FromYaml(it->second));
      }
      break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      node.kind = Node::Kind::kNull;
      break;
  }
  return node;
}

Result<Node> ReadYamlTree(const std::string& text, const std::string& display_name) {
  try {
    return FromYaml(YAML::Load(text));
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

Node FromToml(const toml::node& toml) {
  Node node;
  node.line = static_cast<int>(toml.source().begin.line);
  node.kind = Node::Kind::kScalar;
  if (const toml::table* table = toml.as_table()) {
    node.kind = Node::Kind::kMap;
    for (auto&& [key, value] : *table) {
      node.entries.emplace_back(std::string(key.str()), FromToml(value));
    }
  } else if (const toml::array* array = toml.as_array()) {
    node.kind = Node::Kind::kSequence;
    for (const toml::node& item : *array) {
      node.items.push_back(FromToml(item));
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
#if TOML_EXCEPTIONS
  try {
    toml::table table = toml::parse(text, display_name);
    return FromToml(table);
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
  return FromToml(result.table());
#endif
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

Result<Node> ReadTree(const std::string& text, Format format, const std::string& display_name) {
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

}  // namespace aqueducts::model_internal

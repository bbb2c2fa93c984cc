#include "storage/xml.h"

#include <expat.h>

namespace aqueducts::storage {
namespace {

struct Builder {
  std::unique_ptr<XmlNode> root;
  std::vector<XmlNode*> open;
};

void OnStart(void* user, const XML_Char* name, const XML_Char** /*attributes*/) {
  auto* builder = static_cast<Builder*>(user);
  std::string local = name;
  if (size_t colon = local.rfind(':'); colon != std::string::npos) {
    local = local.substr(colon + 1);
  }
  auto node = std::make_unique<XmlNode>();
  node->name = std::move(local);
  XmlNode* raw = node.get();
  if (builder->open.empty()) {
    builder->root = std::move(node);
  } else {
    builder->open.back()->children.push_back(std::move(node));
  }
  builder->open.push_back(raw);
}

void OnEnd(void* user, const XML_Char* /*name*/) {
  static_cast<Builder*>(user)->open.pop_back();
}

void OnText(void* user, const XML_Char* text, int length) {
  auto* builder = static_cast<Builder*>(user);
  if (!builder->open.empty()) {
    builder->open.back()->text.append(text, static_cast<size_t>(length));
  }
}

}  // namespace

const XmlNode* XmlNode::Child(std::string_view child) const {
  for (const auto& node : children) {
    if (node->name == child) {
      return node.get();
    }
  }
  return nullptr;
}

std::string XmlNode::ChildText(std::string_view child) const {
  const XmlNode* node = Child(child);
  return node ? node->text : std::string();
}

std::vector<const XmlNode*> XmlNode::Children(std::string_view child) const {
  std::vector<const XmlNode*> out;
  for (const auto& node : children) {
    if (node->name == child) {
      out.push_back(node.get());
    }
  }
  return out;
}

Result<std::unique_ptr<XmlNode>> ParseXml(std::string_view document) {
  // Skip a byte-order mark: some servers send one before the declaration.
  if (document.size() >= 3 && document.substr(0, 3) == "\xEF\xBB\xBF") {
    document.remove_prefix(3);
  }
  XML_Parser parser = XML_ParserCreateNS(nullptr, ':');
  if (parser == nullptr) {
    return Status::Internal("cannot create an XML parser");
  }
  Builder builder;
  XML_SetUserData(parser, &builder);
  XML_SetElementHandler(parser, OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser, OnText);
  bool ok =
      XML_Parse(parser, document.data(), static_cast<int>(document.size()), 1) == XML_STATUS_OK;
  std::string error = ok ? "" : XML_ErrorString(XML_GetErrorCode(parser));
  XML_ParserFree(parser);
  if (!ok || builder.root == nullptr) {
    return Status::IoError("the store answered with malformed XML (" +
                           (error.empty() ? std::string("no root element") : error) + ")");
  }
  return std::move(builder.root);
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace aqueducts::storage

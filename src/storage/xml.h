#pragma once

// A minimal XML tree for the stores' small answers (listings, upload ids, errors), parsed with
// expat. Namespaces are ignored (element names keep only their local part).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::storage {

struct XmlNode {
  std::string name;  ///< local name
  std::string text;  ///< concatenated character data directly inside this element
  std::vector<std::unique_ptr<XmlNode>> children;

  /// The first child called `child`, or nullptr.
  const XmlNode* Child(std::string_view child) const;
  /// The text of the first child called `child`, or "".
  std::string ChildText(std::string_view child) const;
  /// Every child called `child`.
  std::vector<const XmlNode*> Children(std::string_view child) const;
};

/// Parse a document; the result is its root element.
Result<std::unique_ptr<XmlNode>> ParseXml(std::string_view document);

/// Escape text for element content.
std::string XmlEscape(std::string_view text);

}  // namespace aqueducts::storage

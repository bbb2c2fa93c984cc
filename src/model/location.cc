// Location parsing: URLs are kept, file paths become absolute file:// URLs.

#include <cctype>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "aqueducts/model.h"

#include "common/hex.h"
#include "common/text.h"

namespace aqueducts {
namespace {

// Length of a URL scheme at the start of `text` (RFC 3986: ALPHA *( ALPHA / DIGIT / + / - / . )
// followed by ':'), or 0 when there is none.
size_t SchemeLength(const std::string& text) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) {
    return 0;
  }
  for (size_t i = 1; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ':') {
      return i;
    }
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') {
      return 0;
    }
  }
  return 0;
}

// Percent-encode what a URL path may not hold verbatim (the url crate's path-segment set, which
// also covers '%' so that decoding gives the original path back).
std::string EncodePath(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : path) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool escape = c <= 0x20 || c >= 0x7F || c == '"' || c == '#' || c == '<' || c == '>' ||
                  c == '?' || c == '`' || c == '{' || c == '}' || c == '%' || c == '\\' ||
                  c == '^' || c == '|';
    if (escape) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string DecodePercent(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigitValue(text[i + 1]) >= 0 &&
        HexDigitValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Resolve "." and ".." lexically, as a URL path would; no filesystem access (no existence check).
std::string NormalizeAbsolute(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) {
      slash = path.size();
    }
    std::string part = path.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out;
  for (const std::string& part : parts) {
    out += "/" + part;
  }
  bool trailing = !path.empty() && path.back() == '/' && !out.empty();
  return out.empty() ? "/" : (trailing ? out + "/" : out);
}

std::string CurrentDir() {
  std::error_code ec;
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  return ec ? std::string("/") : cwd.string();
}

}  // namespace

std::string Location::Scheme() const {
  size_t n = SchemeLength(url);
  return ToLowerAscii(std::string_view(url).substr(0, n));
}

std::string Location::LocalPath() const {
  if (Scheme() != "file") {
    return {};
  }
  std::string rest = url.substr(5);  // after "file:"
  if (rest.rfind("//", 0) == 0) {
    size_t path_start = rest.find('/', 2);
    rest = path_start == std::string::npos ? "/" : rest.substr(path_start);
  }
  size_t cut = rest.find_first_of("?#");
  if (cut != std::string::npos) {
    rest = rest.substr(0, cut);
  }
  return DecodePercent(rest);
}

Location ParseLocation(const std::string& text, const std::string& base_dir) {
  size_t scheme_length = SchemeLength(text);
  // "C:\x" or "C:/x" is a Windows drive path, not scheme "c".
  bool drive_path = scheme_length == 1 && text.size() > 2 && (text[2] == '\\' || text[2] == '/');
  if (scheme_length > 0 && !drive_path) {
    Location location{text};
    for (size_t i = 0; i < scheme_length; ++i) {
      location.url[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    }
    return location;
  }
  if (drive_path) {
    std::string path = text;
    for (char& c : path) {
      c = c == '\\' ? '/' : c;
    }
    return Location{"file:///" + EncodePath(path)};
  }
  std::string path = text;
  if (path.empty() || path[0] != '/') {
    std::string base = base_dir.empty() ? CurrentDir() : base_dir;
    if (!base.empty() && base[0] != '/') {
      base = CurrentDir() + "/" + base;
    }
    path = base + "/" + path;
  }
  return Location{"file://" + EncodePath(NormalizeAbsolute(path))};
}

}  // namespace aqueducts

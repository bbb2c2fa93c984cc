#include "engine/json_scan.h"

#include <charconv>
#include <cstring>

#include "common/hex.h"
#include "common/utf8.h"

namespace aqueducts::engine::json {
namespace {

// Reads the four hex digits after "\u" at `p`; -1 when they are not hex.
int32_t Hex4(const char* p) {
  int32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = HexDigitValue(p[i]);
    if (h < 0) {
      return -1;
    }
    v = v * 16 + h;
  }
  return v;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

class Scanner {
 public:
  Scanner(std::string_view text, const std::vector<PathStep>& path, bool want_children, Lookup* out)
      : s_(text), path_(path), want_children_(want_children), out_(out) {}

  bool Document() {
    SkipSpace();
    Span span;
    if (!Value(0, 0, &span)) {
      return false;
    }
    SkipSpace();
    return pos_ == s_.size();
  }

 private:
  // `depth` is how many path steps lead here, or -1 when this value is off the path.
  bool Value(int depth, int nesting, Span* span) {
    if (pos_ >= s_.size()) {
      return false;
    }
    span->begin = pos_;
    bool target = depth == static_cast<int>(path_.size());
    bool ok = false;
    switch (s_[pos_]) {
      case '{':
        span->kind = Kind::kObject;
        ok = Object(depth, nesting + 1, target && want_children_);
        break;
      case '[':
        span->kind = Kind::kArray;
        ok = Array(depth, nesting + 1, target && want_children_);
        break;
      case '"':
        span->kind = Kind::kString;
        ok = String();
        break;
      case 't':
        span->kind = Kind::kTrue;
        ok = Literal("true");
        break;
      case 'f':
        span->kind = Kind::kFalse;
        ok = Literal("false");
        break;
      case 'n':
        span->kind = Kind::kNull;
        ok = Literal("null");
        break;
      default:
        span->kind = Kind::kNumber;
        ok = Number();
    }
    span->end = pos_;
    if (ok && target) {
      out_->found = true;
      out_->value = *span;
    }
    return ok;
  }

  bool Object(int depth, int nesting, bool record) {
    if (nesting > kMaxNesting) {
      return false;
    }
    pos_++;  // '{'
    SkipSpace();
    if (Peek() == '}') {
      pos_++;
      return true;
    }
    bool matched = false;
    const PathStep* step = Step(depth, false);
    while (true) {
      if (Peek() != '"') {
        return false;
      }
      Span key{pos_, 0, Kind::kString};
      bool escaped = false;
      if (!String(&escaped)) {
        return false;
      }
      key.end = pos_;
      SkipSpace();
      if (Peek() != ':') {
        return false;
      }
      pos_++;
      SkipSpace();
      int child_depth = -1;
      if (step != nullptr && !matched && KeyEquals(key, escaped, step->key)) {
        matched = true;
        child_depth = depth + 1;
      }
      Span child;
      if (!Value(child_depth, nesting, &child)) {
        return false;
      }
      if (record) {
        out_->keys.push_back(key);
        out_->children.push_back(child);
      }
      SkipSpace();
      char c = Peek();
      pos_++;
      if (c == '}') {
        return true;
      }
      if (c != ',') {
        return false;
      }
      SkipSpace();
    }
  }

  bool Array(int depth, int nesting, bool record) {
    if (nesting > kMaxNesting) {
      return false;
    }
    pos_++;  // '['
    SkipSpace();
    if (Peek() == ']') {
      pos_++;
      return true;
    }
    const PathStep* step = Step(depth, true);
    for (int64_t i = 0;; i++) {
      int child_depth = step != nullptr && step->index == i ? depth + 1 : -1;
      Span child;
      if (!Value(child_depth, nesting, &child)) {
        return false;
      }
      if (record) {
        out_->children.push_back(child);
      }
      SkipSpace();
      char c = Peek();
      pos_++;
      if (c == ']') {
        return true;
      }
      if (c != ',') {
        return false;
      }
      SkipSpace();
    }
  }

  // The next path step when this container is on the path and the step addresses its kind.
  const PathStep* Step(int depth, bool want_index) const {
    if (depth < 0 || depth >= static_cast<int>(path_.size())) {
      return nullptr;
    }
    const PathStep& step = path_[depth];
    return step.is_index == want_index ? &step : nullptr;
  }

  bool KeyEquals(const Span& key, bool escaped, const std::string& want) const {
    std::string_view raw = s_.substr(key.begin + 1, key.end - key.begin - 2);
    if (!escaped) {
      return raw == want;
    }
    return Unescape(s_.substr(key.begin, key.end - key.begin)) == want;
  }

  // A string starting at the opening quote: control characters must be escaped, escapes must
  // be known, and \u escapes of UTF-16 surrogates must pair up.
  bool String(bool* escaped = nullptr) {
    pos_++;  // '"'
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        pos_++;
        return true;
      }
      if (c < 0x20) {
        return false;
      }
      if (c != '\\') {
        pos_++;
        continue;
      }
      if (escaped != nullptr) {
        *escaped = true;
      }
      if (pos_ + 1 >= s_.size()) {
        return false;
      }
      char e = s_[pos_ + 1];
      if (e != 'u') {
        if (e == '\0' || std::strchr("\"\\/bfnrt", e) == nullptr) {
          return false;
        }
        pos_ += 2;
        continue;
      }
      if (pos_ + 6 > s_.size()) {
        return false;
      }
      int32_t unit = Hex4(s_.data() + pos_ + 2);
      if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) {
        return false;  // not hex, or a low surrogate on its own
      }
      pos_ += 6;
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (pos_ + 6 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') {
          return false;
        }
        int32_t low = Hex4(s_.data() + pos_ + 2);
        if (low < 0xDC00 || low > 0xDFFF) {
          return false;
        }
        pos_ += 6;
      }
    }
    return false;
  }

  bool Number() {
    if (Peek() == '-') {
      pos_++;
    }
    if (Peek() == '0') {
      pos_++;
    } else if (IsDigit(Peek())) {
      while (IsDigit(Peek())) {
        pos_++;
      }
    } else {
      return false;
    }
    if (Peek() == '.') {
      pos_++;
      if (!IsDigit(Peek())) {
        return false;
      }
      while (IsDigit(Peek())) {
        pos_++;
      }
    }
    if (Peek() == 'e' || Peek() == 'E') {
      pos_++;
      if (Peek() == '+' || Peek() == '-') {
        pos_++;
      }
      if (!IsDigit(Peek())) {
        return false;
      }
      while (IsDigit(Peek())) {
        pos_++;
      }
    }
    return true;
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) {
      return false;
    }
    pos_ += word.size();
    return true;
  }

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
      pos_++;
    }
  }

  std::string_view s_;
  const std::vector<PathStep>& path_;
  bool want_children_;
  Lookup* out_;
  size_t pos_ = 0;
};

}  // namespace

Lookup Find(std::string_view text, const std::vector<PathStep>& path, bool want_children) {
  Lookup out;
  Scanner scanner(text, path, want_children, &out);
  out.valid = scanner.Document();
  if (!out.valid) {
    return Lookup{};
  }
  return out;
}

std::string Unescape(std::string_view quoted) {
  std::string_view body = quoted.substr(1, quoted.size() - 2);
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); i++) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    switch (e) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (i + 4 >= body.size()) {
          return out;  // cannot happen for a validated span
        }
        uint32_t cp = static_cast<uint32_t>(Hex4(body.data() + i + 1));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < body.size() && body[i + 1] == '\\' &&
            body[i + 2] == 'u') {
          uint32_t low = static_cast<uint32_t>(Hex4(body.data() + i + 3));
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        AppendUtf8(cp, &out);
        break;
      }
      default:  // " \ /
        out.push_back(e);
    }
  }
  return out;
}

bool ParseInt64(std::string_view number, int64_t* out) {
  if (number.find_first_of(".eE") != std::string_view::npos) {
    return false;
  }
  const char* end = number.data() + number.size();
  auto [ptr, ec] = std::from_chars(number.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

}  // namespace aqueducts::engine::json

#include "protocol/sse.h"

namespace aqueducts::protocol {

std::string FormatSse(const std::string& event, const std::string& data) {
  std::string out = "event: " + event + "\n";
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    out += "data: ";
    out.append(data, start, nl == std::string::npos ? std::string::npos : nl - start);
    out += "\n";
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
  out += "\n";
  return out;
}

std::string FormatSse(const SseMessage& message) {
  return FormatSse(message.event, message.data);
}

std::string FormatKeepalive() {
  return ": keepalive\n\n";
}

std::vector<SseMessage> SseParser::Feed(std::string_view bytes) {
  std::vector<SseMessage> out;
  buffer_.append(bytes);
  size_t start = 0;
  while (true) {
    size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) {
      break;
    }
    std::string_view line(buffer_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    ProcessLine(line, &out);
    start = nl + 1;
  }
  buffer_.erase(0, start);
  return out;
}

void SseParser::ProcessLine(std::string_view line, std::vector<SseMessage>* out) {
  if (line.empty()) {
    // A blank line dispatches the message being built (the SSE format: only if it had data).
    if (has_data_) {
      out->push_back(std::move(current_));
    }
    current_ = SseMessage{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    return;
  }
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (field == "event") {
    current_.event = std::string(value);
  } else if (field == "data") {
    if (has_data_) {
      current_.data += '\n';
    }
    current_.data.append(value);
    has_data_ = true;
  }
}

}  // namespace aqueducts::protocol

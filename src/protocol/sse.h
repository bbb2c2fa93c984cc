#pragma once

// Server-Sent Events framing (text/event-stream): formatting on the executor, parsing in clients.

#include <string>
#include <string_view>
#include <vector>

namespace aqueducts::protocol {

/// \brief One SSE message: the `event:` type and the `data:` payload (JSON in our protocol).
struct SseMessage {
  std::string event;
  std::string data;
};

/// Format one message: "event: <type>\ndata: <line>\n...\n\n". Newlines in `data` become
/// several data lines, which a conforming parser joins back with "\n".
std::string FormatSse(const std::string& event, const std::string& data);
/// The same for a whole message (what the Encode* functions return).
std::string FormatSse(const SseMessage& message);

/// The comment frame sent while idle; it also reveals a disconnected client (the write fails).
std::string FormatKeepalive();

/// \brief Incremental SSE parser: feed bytes as they arrive, get complete messages back.
/// Comments (lines starting with ':') are skipped; `id:`/`retry:` fields are ignored.
class SseParser {
 public:
  std::vector<SseMessage> Feed(std::string_view bytes);

 private:
  void ProcessLine(std::string_view line, std::vector<SseMessage>* out);

  std::string buffer_;
  SseMessage current_;
  bool has_data_ = false;
};

}  // namespace aqueducts::protocol

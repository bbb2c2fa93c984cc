#include "protocol/events.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

namespace aqueducts::protocol {
namespace {

using json = nlohmann::json;

SseMessage Make(const std::string& type, json data) {
  // When the event was made (Unix microseconds): lets clients measure delivery delay.
  data["ts_us"] = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  // Invalid UTF-8 (e.g. from a CSV) must not make dump() throw: replace it.
  return SseMessage{type, data.dump(-1, ' ', false, json::error_handler_t::replace)};
}

json Base(const std::string& execution_id) {
  json data = json::object();
  if (!execution_id.empty()) {
    data["execution_id"] = execution_id;
  }
  return data;
}

// Lenient readers: a field of the wrong type counts as absent, so nothing a peer sends throws.
std::string GetString(const json& data, const char* key) {
  auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t GetInt(const json& data, const char* key, int64_t fallback = -1) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_number()) {
    return fallback;
  }
  return it->is_number_float() ? static_cast<int64_t>(it->get<double>()) : it->get<int64_t>();
}

double GetDouble(const json& data, const char* key) {
  auto it = data.find(key);
  return it != data.end() && it->is_number() ? it->get<double>() : -1.0;
}

std::optional<ProgressEvent::Type> EventTypeFromName(const std::string& name) {
  using T = ProgressEvent::Type;
  for (T type : {T::kStarted, T::kSourceRegistered, T::kStageStarted, T::kStageProgress,
                 T::kStageCompleted, T::kDestinationStarted, T::kDestinationCompleted, T::kSpill,
                 T::kLog, T::kCompleted, T::kFailed, T::kCancelled}) {
    if (name == EventTypeName(type)) {
      return type;
    }
  }
  return std::nullopt;
}

std::optional<OutputKind> OutputKindFromName(const std::string& name) {
  using K = OutputKind;
  for (K kind : {K::kShow, K::kShowLimit, K::kExplain, K::kExplainAnalyze, K::kPrintSchema}) {
    if (name == OutputKindName(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

// Length of the longest prefix of `text` from `start`, at most `max` bytes, that does not end
// inside a UTF-8 sequence.
size_t ChunkLength(const std::string& text, size_t start, size_t max) {
  size_t len = std::min(max, text.size() - start);
  if (start + len == text.size()) {
    return len;
  }
  size_t end = start + len;
  while (end > start && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return end > start ? end - start : len;
}

}  // namespace

SseMessage EncodeQueued(const std::string& execution_id, int position) {
  json data = Base(execution_id);
  data["position"] = position;
  return Make("queued", data);
}

SseMessage EncodeStarted(const std::string& execution_id) {
  return Make("started", Base(execution_id));
}

SseMessage EncodeProgress(const std::string& execution_id, int percent) {
  json data = Base(execution_id);
  data["progress"] = std::clamp(percent, 0, 100);
  return Make("progress", data);
}

SseMessage EncodeEvent(const ProgressEvent& event, const std::string& execution_id) {
  json data = Base(execution_id);
  if (event.type == ProgressEvent::Type::kLog) {
    data["level"] = LogLevelName(event.level);
  }
  if (!event.name.empty()) {
    data["name"] = event.name;
  }
  if (event.position >= 0) {
    data["position"] = event.position;
  }
  if (event.sub_position >= 0) {
    data["sub_position"] = event.sub_position;
  }
  if (event.duration_ms >= 0) {
    data["duration_ms"] = event.duration_ms;
  }
  if (event.rows >= 0) {
    data["rows"] = event.rows;
  }
  if (event.bytes >= 0) {
    data["bytes"] = event.bytes;
  }
  if (event.percent >= 0) {
    data["percent"] = event.percent;
  }
  if (event.eta_ms >= 0) {
    data["eta_ms"] = event.eta_ms;
  }
  if (!event.phase.empty()) {
    data["phase"] = event.phase;
  }
  if (!event.message.empty()) {
    data["message"] = event.message;
  }
  return Make(EventTypeName(event.type), data);
}

SseMessage EncodeFailed(const std::string& execution_id, const std::string& message,
                        const std::string& code, const std::string& error_id) {
  json data = Base(execution_id);
  data["message"] = message;
  data["code"] = code;
  if (!error_id.empty()) {
    data["error_id"] = error_id;
  }
  return Make("failed", data);
}

SseMessage EncodeLog(const std::string& execution_id, const std::string& level,
                     const std::string& message, const std::map<std::string, std::string>& fields) {
  json data = Base(execution_id);
  data["level"] = level;
  data["message"] = message;
  if (!fields.empty()) {
    data["fields"] = fields;
  }
  return Make("log", data);
}

std::vector<SseMessage> EncodeOutput(const StageOutput& output, const std::string& execution_id,
                                     size_t chunk_chars) {
  std::vector<SseMessage> messages;
  size_t start = 0;
  int sequence = 0;
  do {
    size_t len = ChunkLength(output.text, start, std::max<size_t>(chunk_chars, 4));
    json data = Base(execution_id);
    data["stage_name"] = output.stage_name;
    data["output_type"] = OutputKindName(output.kind);
    data["sequence"] = sequence++;
    data["last"] = start + len >= output.text.size();
    data["data"] = output.text.substr(start, len);
    if (output.rows_shown >= 0 && start + len >= output.text.size()) {
      data["rows_shown"] = output.rows_shown;
    }
    messages.push_back(Make("stage_output", data));
    start += len;
  } while (start < output.text.size());
  return messages;
}

StatusCode StatusCodeFromName(const std::string& name) {
  for (int i = static_cast<int>(StatusCode::kInvalidArgument);
       i <= static_cast<int>(StatusCode::kInternal); ++i) {
    auto code = static_cast<StatusCode>(i);
    if (name == StatusCodeName(code)) {
      return code;
    }
  }
  return StatusCode::kExecutionError;
}

Result<DecodedMessage> Decode(const SseMessage& message) {
  json data = json::parse(message.data, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded() || !data.is_object()) {
    return Status::ParseError("Event '" + message.event + "' carries data that is not a JSON " +
                              "object: " + message.data.substr(0, 200));
  }
  DecodedMessage out;
  out.type = message.event;
  out.execution_id = GetString(data, "execution_id");
  out.ts_us = GetInt(data, "ts_us");
  if (message.event == "queued") {
    out.kind = DecodedMessage::Kind::kQueued;
    out.position = static_cast<int>(GetInt(data, "position", 0));
  } else if (message.event == "progress") {
    out.kind = DecodedMessage::Kind::kProgress;
    out.percent = static_cast<int>(std::clamp<int64_t>(GetInt(data, "progress", 0), 0, 100));
  } else if (message.event == "stage_output") {
    out.kind = DecodedMessage::Kind::kOutputChunk;
    out.chunk.stage_name = GetString(data, "stage_name");
    out.chunk.kind = OutputKindFromName(GetString(data, "output_type")).value_or(OutputKind::kShow);
    out.chunk.sequence = static_cast<int>(GetInt(data, "sequence", 0));
    auto last = data.find("last");
    out.chunk.last = last == data.end() || !last->is_boolean() || last->get<bool>();
    out.chunk.data = GetString(data, "data");
    out.chunk.rows_shown = GetInt(data, "rows_shown");
  } else if (auto type = EventTypeFromName(message.event)) {
    out.kind = DecodedMessage::Kind::kEvent;
    ProgressEvent& event = out.event;
    event.type = *type;
    event.name = GetString(data, "name");
    if (*type == ProgressEvent::Type::kLog) {
      event.level = ParseLogLevel(GetString(data, "level"));
    }
    event.position = static_cast<int>(GetInt(data, "position"));
    event.sub_position = static_cast<int>(GetInt(data, "sub_position"));
    event.duration_ms = GetInt(data, "duration_ms");
    event.rows = GetInt(data, "rows");
    event.bytes = GetInt(data, "bytes");
    event.percent = GetDouble(data, "percent");
    event.eta_ms = GetInt(data, "eta_ms");
    event.message = GetString(data, "message");
    event.phase = GetString(data, "phase");
    if (*type == ProgressEvent::Type::kFailed) {
      out.failure = Status(StatusCodeFromName(GetString(data, "code")),
                           event.message.empty() ? "Pipeline execution failed" : event.message,
                           GetString(data, "error_id"));
    }
  }
  return out;
}

std::optional<StageOutput> OutputAssembler::Add(const OutputChunk& chunk) {
  auto& chunks = pending_[chunk.stage_name];
  chunks[chunk.sequence] = chunk;
  auto last =
      std::find_if(chunks.begin(), chunks.end(), [](const auto& c) { return c.second.last; });
  if (last == chunks.end() || static_cast<int>(chunks.size()) != last->first + 1 ||
      chunks.begin()->first != 0) {
    return std::nullopt;
  }
  StageOutput output;
  output.stage_name = chunk.stage_name;
  output.kind = chunk.kind;
  for (const auto& [sequence, c] : chunks) {
    output.text += c.data;
  }
  output.rows_shown = last->second.rows_shown;
  pending_.erase(chunk.stage_name);
  return output;
}

ProgressCounter::ProgressCounter(const Aqueduct& aqueduct) {
  int stages = 0;
  for (const auto& group : aqueduct.stages) {
    stages += static_cast<int>(group.size());
  }
  total_ = static_cast<int>(aqueduct.sources.size()) + 2 * stages + (aqueduct.destination ? 1 : 0);
  total_ = std::max(total_, 1);
}

std::optional<int> ProgressCounter::OnEvent(const ProgressEvent& event) {
  using T = ProgressEvent::Type;
  int percent = last_percent_;
  switch (event.type) {
    case T::kStarted:
      percent = std::max(percent, 0);
      break;
    case T::kSourceRegistered:
    case T::kStageStarted:
    case T::kStageCompleted:
    case T::kDestinationCompleted:
      ++done_;
      // Reserve 100 for completion: a run is not done when its last step is.
      percent = std::min(99, done_ * 100 / total_);
      break;
    case T::kCompleted:
      percent = 100;
      break;
    case T::kStageProgress:
      // A running step's own percent fills in the step it completes: a long write moves the
      // overall figure instead of leaving it where the destination started.
      if (event.percent <= 0) {
        return std::nullopt;
      }
      percent =
          std::min(99, static_cast<int>((done_ * 100.0 + std::min(event.percent, 100.0)) / total_));
      break;
    default:
      return std::nullopt;
  }
  if (percent <= last_percent_) {
    return std::nullopt;
  }
  last_percent_ = percent;
  return percent;
}

}  // namespace aqueducts::protocol

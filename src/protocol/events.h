#pragma once

// The executor's event vocabulary (docs/executor-api.md): ProgressEvent / StageOutput <-> SSE
// messages with JSON data. The executor encodes, the CLI decodes; both use this one codec so the
// two ends cannot drift apart.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/status.h"

#include "protocol/sse.h"

namespace aqueducts::protocol {

/// Stage output is split into chunks of at most this many characters.
inline constexpr size_t kOutputChunkChars = 32000;

/// `queued`: the execution waits; `position` executions are ahead of it (0: next to run).
SseMessage EncodeQueued(const std::string& execution_id, int position);
/// `started`: the execution left the queue and runs now.
SseMessage EncodeStarted(const std::string& execution_id);
/// `progress`: overall completion, 0..100.
SseMessage EncodeProgress(const std::string& execution_id, int percent);
/// A runner event (source_registered, stage_started, ..., spill, log, completed, failed,
/// cancelled): the type name is EventTypeName(event.type); data carries the set fields.
SseMessage EncodeEvent(const ProgressEvent& event, const std::string& execution_id);
/// `failed`: the run's error message, its StatusCode name and catalogue id (may be empty).
SseMessage EncodeFailed(const std::string& execution_id, const std::string& message,
                        const std::string& code, const std::string& error_id);
/// A `log` event with a level and structured fields (string values).
SseMessage EncodeLog(const std::string& execution_id, const std::string& level,
                     const std::string& message,
                     const std::map<std::string, std::string>& fields = {});
/// `stage_output` messages: the text split into chunks of at most `chunk_chars` characters
/// (UTF-8 sequences are never split), numbered from 0, the last one flagged `last`.
std::vector<SseMessage> EncodeOutput(const StageOutput& output, const std::string& execution_id,
                                     size_t chunk_chars = kOutputChunkChars);

/// \brief One chunk of a stage's output as received.
struct OutputChunk {
  std::string stage_name;
  OutputKind kind = OutputKind::kShow;
  int sequence = 0;
  bool last = true;
  std::string data;
  int64_t rows_shown = -1;  ///< StageOutput::rows_shown (sent with the last chunk)
};

/// \brief A decoded SSE message.
struct DecodedMessage {
  enum class Kind { kQueued, kProgress, kEvent, kOutputChunk, kUnknown };
  Kind kind = Kind::kUnknown;
  std::string type;          ///< the SSE event type as received
  std::string execution_id;  ///< empty when absent
  int64_t ts_us = -1;        ///< when the executor made the event (Unix microseconds)
  int position = -1;         ///< kQueued
  int percent = -1;          ///< kProgress
  ProgressEvent event;       ///< kEvent (started, stage_*, log, completed, failed, ...)
  OutputChunk chunk;         ///< kOutputChunk
  /// kEvent `failed`: the run's error as the executor had it (code, catalogue id, message), so
  /// that the client reports exactly what a local run of the same failure reports.
  Status failure;
};

/// Decode a message. Unknown event types decode as kUnknown (forward compatible); data that is
/// not a JSON object is kParseError naming the event type.
Result<DecodedMessage> Decode(const SseMessage& message);

/// The StatusCode whose StatusCodeName is `name`; kExecutionError for an unknown or empty name
/// (an older executor).
StatusCode StatusCodeFromName(const std::string& name);

/// \brief Joins the chunks of each stage's output; chunks may arrive in any order.
class OutputAssembler {
 public:
  /// The complete output once its last chunk and all before it have arrived.
  std::optional<StageOutput> Add(const OutputChunk& chunk);

 private:
  std::map<std::string, std::map<int, OutputChunk>> pending_;
};

/// \brief Overall progress of a run from its events: every source registered, stage started,
/// stage completed and the destination count one step (clamped to 0–100); while
/// a step reports its own percent (stage_progress), that fraction of one more step is added.
/// Monotonic and never above 100; 100 only on completion.
class ProgressCounter {
 public:
  explicit ProgressCounter(const Aqueduct& aqueduct);
  /// The new percentage when `event` moved it forward, else nullopt.
  std::optional<int> OnEvent(const ProgressEvent& event);

 private:
  int total_ = 1;
  int done_ = 0;
  int last_percent_ = -1;
};

}  // namespace aqueducts::protocol

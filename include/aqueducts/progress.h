#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace aqueducts {

/// Severity of a kLog event (and of the executor's log lines).
enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError };

/// "trace", "debug", "info", "warn", "error".
const char* LogLevelName(LogLevel level);
/// The level named `text` (as LogLevelName spells it, case-insensitive; "warning" is kWarn);
/// any other text gives kInfo.
LogLevel ParseLogLevel(const std::string& text);

/// \brief One step of a run (the original Aqueducts' progress events, extended with rows, bytes and
/// messages).
struct ProgressEvent {
  enum class Type {
    kStarted,               ///< the run began
    kSourceRegistered,      ///< name
    kStageStarted,          ///< name, position, sub_position
    kStageProgress,         ///< name, percent, rows, eta_ms, bytes, phase: a running step (below)
    kStageCompleted,        ///< name, position, sub_position, duration_ms, rows (-1: streamed)
    kDestinationStarted,    ///< name
    kDestinationCompleted,  ///< name, rows, bytes (-1 unknown), duration_ms
    kSpill,                 ///< bytes: DuckDB temporary-file usage when the memory limit spills
    kLog,                   ///< message, level
    kCompleted,             ///< duration_ms
    kFailed,                ///< message
    kCancelled,             ///< message
  };
  Type type = Type::kStarted;
  std::string name;
  int position = -1;
  int sub_position = -1;
  int64_t duration_ms = -1;
  int64_t rows = -1;
  int64_t bytes = -1;
  double percent = -1;
  /// kStageProgress: estimated milliseconds left, once the percent has moved steadily (-1 unknown).
  int64_t eta_ms = -1;
  std::string message;
  /// kStageProgress: the phase of a step that has phases (a Delta write's `scanning`,
  /// `writing files`, `committing`); empty for a step without phases.
  std::string phase;
  /// kLog: the message's severity.
  LogLevel level = LogLevel::kInfo;
};

// kStageProgress reports a running step: a source being loaded, a stage's query, or the
// destination being written (`name` is then the destination's name). `percent` is DuckDB's own
// progress of the step's query (0-100, -1 unknown; it never goes down), `rows` the rows the step
// has read from its input so far: for a destination the rows handed to the writer, for a
// materialised stage the rows of its result (-1 unknown). The last kStageProgress of a step that
// succeeds has percent 100 and the step's final row count.

/// The snake_case name of an event type ("stage_completed").
const char* EventTypeName(ProgressEvent::Type type);

/// What a stage prints (`show`, `explain`, `print_schema`; docs/pipeline-format.md, "Stages").
enum class OutputKind { kShow, kShowLimit, kExplain, kExplainAnalyze, kPrintSchema };

const char* OutputKindName(OutputKind kind);

/// \brief A stage's printed output: the rendered text (ASCII table, plan or schema).
struct StageOutput {
  std::string stage_name;
  OutputKind kind = OutputKind::kShow;
  std::string text;
  /// For a preview (kShow, kShowLimit): the rows `text` holds; -1 unknown.
  int64_t rows_shown = -1;
};

/// \brief Receives the events of a run. Called from the runner's threads: implementations must
/// be thread-safe. Must not throw.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void OnEvent(const ProgressEvent& event) = 0;
  virtual void OnOutput(const StageOutput& output) = 0;
};

/// \brief A sink that keeps everything; for tests and embedders.
class RecordingSink : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event);
  }
  void OnOutput(const StageOutput& output) override {
    std::lock_guard<std::mutex> lock(mu_);
    outputs_.push_back(output);
  }
  std::vector<ProgressEvent> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::vector<StageOutput> outputs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return outputs_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<ProgressEvent> events_;
  std::vector<StageOutput> outputs_;
};

}  // namespace aqueducts

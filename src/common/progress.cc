#include "aqueducts/progress.h"

#include "common/text.h"

namespace aqueducts {

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

LogLevel ParseLogLevel(const std::string& text) {
  std::string lower = ToLowerAscii(text);
  if (lower == "trace") {
    return LogLevel::kTrace;
  }
  if (lower == "debug") {
    return LogLevel::kDebug;
  }
  if (lower == "warn" || lower == "warning") {
    return LogLevel::kWarn;
  }
  if (lower == "error") {
    return LogLevel::kError;
  }
  return LogLevel::kInfo;
}

const char* EventTypeName(ProgressEvent::Type type) {
  using T = ProgressEvent::Type;
  switch (type) {
    case T::kStarted:
      return "started";
    case T::kSourceRegistered:
      return "source_registered";
    case T::kStageStarted:
      return "stage_started";
    case T::kStageProgress:
      return "stage_progress";
    case T::kStageCompleted:
      return "stage_completed";
    case T::kDestinationStarted:
      return "destination_started";
    case T::kDestinationCompleted:
      return "destination_completed";
    case T::kSpill:
      return "spill";
    case T::kLog:
      return "log";
    case T::kCompleted:
      return "completed";
    case T::kFailed:
      return "failed";
    case T::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

const char* OutputKindName(OutputKind kind) {
  switch (kind) {
    case OutputKind::kShow:
      return "show";
    case OutputKind::kShowLimit:
      return "show_limit";
    case OutputKind::kExplain:
      return "explain";
    case OutputKind::kExplainAnalyze:
      return "explain_analyze";
    case OutputKind::kPrintSchema:
      return "print_schema";
  }
  return "unknown";
}

}  // namespace aqueducts

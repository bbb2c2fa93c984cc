#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "aqueducts/progress.h"

namespace aqueducts::executor {

// LogLevel, ParseLogLevel and LogLevelName are aqueducts' own (aqueducts/progress.h): unknown
// level names give kInfo, as the original executor does.

using LogFields = std::map<std::string, std::string>;

/// \brief Writes structured log lines: one JSON object per line with ts, level, msg, fields.
/// Thread-safe; a line is written and flushed whole.
class Logger {
 public:
  explicit Logger(LogLevel min_level, std::FILE* out = stdout) : min_(min_level), out_(out) {}

  bool Enabled(LogLevel level) const { return level >= min_; }
  void Log(LogLevel level, const std::string& msg, const LogFields& fields = {});
  /// An info line written whatever the level: start-up and shutdown, which tools wait for.
  void Lifecycle(const std::string& msg, const LogFields& fields = {});
  void Info(const std::string& msg, const LogFields& fields = {}) {
    Log(LogLevel::kInfo, msg, fields);
  }
  void Warn(const std::string& msg, const LogFields& fields = {}) {
    Log(LogLevel::kWarn, msg, fields);
  }
  void Error(const std::string& msg, const LogFields& fields = {}) {
    Log(LogLevel::kError, msg, fields);
  }

 private:
  void Write(LogLevel level, const std::string& msg, const LogFields& fields);

  LogLevel min_;
  std::FILE* out_;
  std::mutex mu_;
};

}  // namespace aqueducts::executor

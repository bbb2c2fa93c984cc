#include "executor/logger.h"

#include <algorithm>
#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/redact.h"
#include "common/text.h"

namespace aqueducts::executor {

void Logger::Lifecycle(const std::string& msg, const LogFields& fields) {
  Write(LogLevel::kInfo, msg, fields);
}

void Logger::Log(LogLevel level, const std::string& msg, const LogFields& fields) {
  if (Enabled(level)) {
    Write(level, msg, fields);
  }
}

void Logger::Write(LogLevel level, const std::string& msg, const LogFields& fields) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  nlohmann::json line;
  line["ts"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(now), ms.count());
  line["level"] = LogLevelName(level);
  line["msg"] = msg;
  line["fields"] = fields;
  // Every log line passes the redaction rule (common/redact.h): no credential is ever logged.
  std::string text =
      RedactSecrets(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::lock_guard<std::mutex> lock(mu_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

}  // namespace aqueducts::executor

#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>

namespace aqueducts::server {

/// \brief JSON-lines logger: one object per line {"ts","level","msg","fields"}, written and
/// flushed whole (tests and tools read the "listening" line for the port). Thread-safe.
class Log {
 public:
  explicit Log(std::FILE* out = stdout) : out_(out) {}
  void Write(const char* level, const std::string& msg,
             const std::map<std::string, std::string>& fields = {});
  void Info(const std::string& msg, const std::map<std::string, std::string>& fields = {}) {
    Write("info", msg, fields);
  }
  void Warn(const std::string& msg, const std::map<std::string, std::string>& fields = {}) {
    Write("warn", msg, fields);
  }
  void Error(const std::string& msg, const std::map<std::string, std::string>& fields = {}) {
    Write("error", msg, fields);
  }

 private:
  std::FILE* out_;
  std::mutex mu_;
};

}  // namespace aqueducts::server

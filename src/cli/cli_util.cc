#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/commands.h"

namespace aqueducts::cli {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// What to try next, per catalogue id prefix.
const char* HintFor(const Status& status) {
  const std::string& id = status.id();
  if (id.rfind("aqueducts::template::", 0) == 0 && status.code() == StatusCode::kParseError) {
    return "see the line shown; `aqueducts schema` prints the pipeline format";
  }
  if (id == "aqueducts::template::sql_validation_error" ||
      id == "aqueducts::stage::sql_parse_error") {
    return "stages take one SQL query each (DuckDB dialect: "
           "https://duckdb.org/docs/sql/introduction)";
  }
  if (id == "aqueducts::source::register_file") {
    return "check that the location exists and the format options match the file";
  }
  if (status.code() == StatusCode::kOutOfMemory) {
    return "raise --max-memory, or give --temp-dir on a disk with room to spill";
  }
  return nullptr;
}

}  // namespace

Result<Params> ParseParams(const std::vector<std::string>& flags) {
  Params params;
  for (const auto& flag : flags) {
    auto eq = flag.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument("invalid KEY=value: no '=' found in '" + flag + "'");
    }
    if (eq == 0) {
      return Status::InvalidArgument("invalid KEY=value: empty key in '" + flag + "'");
    }
    params[flag.substr(0, eq)] = flag.substr(eq + 1);
  }
  return params;
}

Result<uint64_t> ParseMemorySize(const std::string& text) {
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos == 0 || !std::isfinite(value) || value <= 0) {
    return Status::InvalidArgument("invalid memory size '" + text +
                                   "': expected a positive number of GB or a size like 512MB");
  }
  std::string unit = Lower(text.substr(pos));
  while (!unit.empty() && unit.front() == ' ') {
    unit.erase(0, 1);
  }
  double scale = 0;
  if (unit.empty() || unit == "g" || unit == "gb" || unit == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = 1024.0 * 1024;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1024.0;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return Status::InvalidArgument("invalid memory size '" + text + "': unknown unit '" + unit +
                                   "' (use KB, MB, GB or TB)");
  }
  return static_cast<uint64_t>(value * scale);
}

void PrintError(const Status& status) {
  std::string head = "Error";
  if (!status.id().empty()) {
    head += "[" + status.id() + "]";
  }
  std::fprintf(stderr, "%s: %s\n", head.c_str(), status.message().c_str());
  if (const char* hint = HintFor(status)) {
    std::fprintf(stderr, "  help: %s\n", hint);
  }
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kCancelled:
      return 130;
    default:
      return kExitFailure;
  }
}

}  // namespace aqueducts::cli

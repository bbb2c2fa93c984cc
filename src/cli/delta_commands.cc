// `aqueducts delta history|vacuum`.
#include <cmath>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "aqueducts/model.h"

#include "cli/commands.h"
#include "delta/maintenance.h"
#include "storage/object_url.h"

namespace aqueducts::cli {
namespace {

// A table argument may be a path, a file:// URL or an object-store URL (s3://, gs://, az://...,
// with credentials from --storage-config KEY=VALUE arguments over the environment:
// docs/object-stores.md). `config` receives the arguments as storage_config keys; a value is
// never shown in a message.
Result<std::string> TablePath(const std::string& table, const std::vector<std::string>& arguments,
                              StorageConfig* config) {
  for (const auto& argument : arguments) {
    size_t eq = argument.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::string key = argument.substr(0, argument.find('='));
      return Status::InvalidArgument(
          "--storage-config takes KEY=VALUE (e.g. aws_region=eu-west-1), "
          "got '" +
          (eq == 0 ? std::string("=...") : key) + "'");
    }
    (*config)[argument.substr(0, eq)] = argument.substr(eq + 1);
  }
  Location location = ParseLocation(table);
  if (storage::IsObjectStoreUrl(location.url)) {
    AQ_RETURN_IF_ERROR(storage::ParseObjectUrl(location.url).status());
    return location.url;
  }
  if (!config->empty() && location.IsLocal()) {
    return Status::InvalidArgument(
        "--storage-config is for object-store tables (s3://, gs://, "
        "az://); '" +
        table + "' is a local path");
  }
  if (!location.IsLocal()) {
    return Status::Unsupported(
        "delta maintenance needs a local path or an s3://, gs:// or az:// "
        "table, got '" +
        storage::RedactUrl(table) + "'");
  }
  return location.LocalPath();
}

std::string FormatTimestamp(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf) + "Z";
}

}  // namespace

int DeltaHistoryCommand(const std::string& table, int limit, bool json,
                        const std::vector<std::string>& storage_config) {
  StorageConfig config;
  auto path = TablePath(table, storage_config, &config);
  if (!path.ok()) {
    PrintError(path.status());
    return kExitFailure;
  }
  auto history = delta::History(*path, config);
  if (!history.ok()) {
    PrintError(history.status());
    return kExitFailure;
  }
  size_t count = history->size();
  if (limit > 0 && static_cast<size_t>(limit) < count) {
    count = static_cast<size_t>(limit);
  }
  if (!json) {
    std::printf("%-8s  %-20s  %-14s  %-28s  %s\n", "VERSION", "TIMESTAMP", "OPERATION", "ENGINE",
                "PARAMETERS");
  }
  for (size_t i = 0; i < count; ++i) {
    const auto& e = (*history)[i];
    if (json) {
      nlohmann::json line = {{"version", e.version},
                             {"timestamp", FormatTimestamp(e.timestamp_ms)},
                             {"operation", e.operation},
                             {"engine_info", e.engine_info}};
      auto params = nlohmann::json::parse(e.operation_parameters, nullptr, false);
      line["operation_parameters"] = params.is_discarded() ? nlohmann::json::object() : params;
      std::printf("%s\n", line.dump().c_str());
    } else {
      std::printf(
          "%-8lld  %-20s  %-14s  %-28s  %s\n", static_cast<long long>(e.version),
          FormatTimestamp(e.timestamp_ms).c_str(), e.operation.empty() ? "-" : e.operation.c_str(),
          e.engine_info.empty() ? "-" : e.engine_info.c_str(), e.operation_parameters.c_str());
    }
  }
  return kExitOk;
}

int DeltaVacuumCommand(const std::string& table, double retain_hours, bool dry_run,
                       const std::vector<std::string>& storage_config) {
  StorageConfig config;
  auto path = TablePath(table, storage_config, &config);
  if (!path.ok()) {
    PrintError(path.status());
    return kExitFailure;
  }
  delta::VacuumOptions options;
  options.storage_config = config;
  options.retain_hours = static_cast<int64_t>(std::ceil(retain_hours));
  options.dry_run = dry_run;
  auto report = delta::Vacuum(*path, options);
  if (!report.ok()) {
    PrintError(report.status());
    return kExitFailure;
  }
  for (const auto& file : report->files) {
    std::printf("%s%s\n", dry_run ? "would delete " : "deleted ", file.c_str());
  }
  std::printf("%s %zu file(s), %s\n", dry_run ? "Would delete" : "Deleted", report->files.size(),
              FormatBytes(report->bytes).c_str());
  return kExitOk;
}

}  // namespace aqueducts::cli

// `aqueducts storage uploads URL`: the multipart uploads left pending under a prefix of an object
// store (a writer killed mid-upload leaves one), listed, and with --abort aborted.
#include <cctype>
#include <cstdio>
#include <ctime>

#include "cli/commands.h"
#include "storage/object_url.h"
#include "storage/pending_uploads.h"
#include "storage/store_options.h"
#include "storage/store_registry.h"

namespace aqueducts::cli {
namespace {

// "0", "90s", "30m", "24h", "7d" (a bare number is seconds) -> seconds; -1 when malformed.
int64_t ParseDuration(const std::string& text) {
  if (text.empty()) {
    return -1;
  }
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  if (digits == 0 || digits > 9 || text.size() - digits > 1) {
    return -1;
  }
  int64_t value = std::stoll(text.substr(0, digits));
  char unit = digits < text.size() ? text[digits] : 's';
  switch (unit) {
    case 's':
      return value;
    case 'm':
      return value * 60;
    case 'h':
      return value * 3600;
    case 'd':
      return value * 86400;
    default:
      return -1;
  }
}

// "25h", "3d", "12m", "40s": an age rounded down to its largest unit.
std::string FormatAge(int64_t seconds) {
  if (seconds >= 2 * 86400) {
    return std::to_string(seconds / 86400) + "d";
  }
  if (seconds >= 2 * 3600) {
    return std::to_string(seconds / 3600) + "h";
  }
  if (seconds >= 120) {
    return std::to_string(seconds / 60) + "m";
  }
  return std::to_string(seconds < 0 ? 0 : seconds) + "s";
}

std::string FormatTime(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int StorageUploadsCommand(const std::string& url, bool abort, const std::string& older_than,
                          const std::vector<std::string>& storage_config) {
  int64_t min_age = ParseDuration(older_than);
  if (min_age < 0) {
    PrintError(
        Status::InvalidArgument("--older-than takes a duration such as 0, 90s, 30m, 24h or "
                                "7d, got '" +
                                older_than + "'"));
    return kExitUsage;
  }
  StorageConfig config;
  for (const auto& argument : storage_config) {
    size_t eq = argument.find('=');
    if (eq == std::string::npos || eq == 0) {
      PrintError(Status::InvalidArgument(
          "--storage-config takes KEY=VALUE (e.g. aws_region=eu-west-1), got '" +
          (eq == 0 ? std::string("=...") : argument) + "'"));
      return kExitFailure;
    }
    config[argument.substr(0, eq)] = argument.substr(eq + 1);
  }
  if (!storage::IsObjectStoreUrl(url)) {
    PrintError(Status::InvalidArgument("storage uploads needs an s3://, gs:// or az:// URL, got '" +
                                       storage::RedactUrl(url) + "'"));
    return kExitUsage;
  }
  auto parsed = storage::ParseObjectUrl(url);
  if (!parsed.ok()) {
    PrintError(parsed.status());
    return kExitFailure;
  }
  if (parsed->kind == storage::StoreKind::kAzure) {
    std::printf(
        "%s: Azure Blob keeps no pending uploads to list or abort. A writer's blocks stay "
        "uncommitted, never replace the blob, and are discarded by the service a week after "
        "they were put.\n",
        parsed->WithKey(parsed->key).c_str());
    return kExitOk;
  }
  auto store = storage::OpenStore(*parsed, config, storage::ProcessEnv());
  if (!store.ok()) {
    PrintError(store.status());
    return kExitFailure;
  }
  storage::PendingUploadStore* pending = storage::PendingUploadsOf(**store);
  if (pending == nullptr) {
    PrintError(Status::Unsupported("the store of " + parsed->WithKey(parsed->key) +
                                   " cannot list pending uploads"));
    return kExitFailure;
  }
  auto uploads = pending->ListUploads(parsed->key);
  if (!uploads.ok()) {
    PrintError(uploads.status());
    return kExitFailure;
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  size_t old = 0;
  size_t aborted = 0;
  for (const auto& upload : *uploads) {
    std::string where = (*store)->UrlOf(upload.key);
    bool known = upload.initiated > 0;
    int64_t age = now - upload.initiated;
    // An upload of unknown age is never taken for an abandoned one.
    bool is_old = known && age >= min_age;
    std::string started =
        known ? "started " + FormatTime(upload.initiated) + ", " + FormatAge(age) + " ago"
              : "start time unknown";
    std::string detail = " (upload " + upload.upload_id + ", " + started + ")";
    if (!is_old) {
      std::printf("keeping %s%s%s\n", where.c_str(), detail.c_str(),
                  known ? (": younger than " + older_than).c_str() : "");
      continue;
    }
    ++old;
    if (!abort) {
      std::printf("would abort %s%s\n", where.c_str(), detail.c_str());
      continue;
    }
    Status status = pending->AbortUpload(upload.key, upload.upload_id);
    if (!status.ok()) {
      PrintError(status);
      std::printf("Aborted %zu of %zu pending upload(s) under %s before the error\n", aborted,
                  uploads->size(), parsed->WithKey(parsed->key).c_str());
      return kExitFailure;
    }
    std::printf("aborted %s%s\n", where.c_str(), detail.c_str());
    ++aborted;
  }
  if (abort) {
    std::printf("Aborted %zu of %zu pending upload(s) under %s (started %s ago or more)\n", aborted,
                uploads->size(), parsed->WithKey(parsed->key).c_str(), older_than.c_str());
  } else {
    std::printf(
        "%zu pending upload(s) under %s, %zu started %s ago or more; nothing aborted (dry "
        "run: add --abort to abort those)\n",
        uploads->size(), parsed->WithKey(parsed->key).c_str(), old, older_than.c_str());
  }
  return kExitOk;
}

}  // namespace aqueducts::cli

#pragma once

// What the CLI tests against the object-store emulators share: a storage_config written as
// YAML, and a run of `aqueducts run` killed with SIGKILL while its multipart upload is under way.

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace aqueducts::testing {

/// `{key: "value", ...}`: an emulator's credentials as a pipeline's storage_config.
inline std::string ConfigYaml(const std::map<std::string, std::string>& config) {
  std::string out = "{";
  for (const auto& [key, value] : config) {
    out += (out.size() > 1 ? ", " : "") + key + ": \"" + value + "\"";
  }
  return out + "}";
}

/// How a killed run went: whether a part of its upload was stored before the kill, and whether
/// the run had already ended by itself (then it was not killed mid-write).
struct KilledRun {
  bool part_seen = false;
  bool exited = false;
};

/// Starts `aqueducts run -f pipeline` (output discarded) and kills it with SIGKILL as soon as the
/// S3 emulator whose data directory is `s3_dir` has stored one part of a multipart upload into
/// `bucket`: s3rver keeps the parts of an upload in progress under
/// <data>/<bucket>/._S3rver_uploads/<id>/, and writes a part's .md5 file once the part is stored.
/// Gives up after three minutes.
inline KilledRun KillRunOnceAPartIsStored(const std::filesystem::path& pipeline,
                                          const std::filesystem::path& s3_dir,
                                          const std::string& bucket = "bucket") {
  namespace fs = std::filesystem;
  KilledRun result;
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(AQ_CLI_PATH, AQ_CLI_PATH, "run", "-f", pipeline.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) {
    result.exited = true;
    return result;
  }
  fs::path uploads = s3_dir / bucket / "._S3rver_uploads";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (!result.part_seen && !result.exited && std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(uploads, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      result.part_seen = result.part_seen || it->path().extension() == ".md5";
    }
    result.exited = waitpid(pid, nullptr, WNOHANG) == pid;
    if (!result.part_seen && !result.exited) {
      usleep(20 * 1000);  // polling the emulator's directory for the event
    }
  }
  if (!result.exited) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  return result;
}

}  // namespace aqueducts::testing

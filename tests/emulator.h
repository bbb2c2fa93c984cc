#pragma once

// Test-only: an object-store emulator (s3rver for S3, azurite for Azure Blob, our own
// tests/emulators/gcs.js for Google Cloud Storage) in a child process on a free loopback port,
// started from tests/emulators/start.js. Each has the buckets "bucket" and "other"; S3
// credentials S3RVER / S3RVER; GCS credentials in files the emulator writes into dir().

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing.h"

namespace aqueducts::testing {

class Emulator {
 public:
  enum class Kind { kS3, kAzure, kGcs };

  /// Start one; nullptr (with a gtest failure) when it does not come up. S3 only:
  /// `conditional_puts` false starts s3rver as it is, ignoring If-None-Match (a store that
  /// cannot do create-only writes).
  static std::unique_ptr<Emulator> Start(Kind kind, bool conditional_puts = true) {
    auto emulator = std::unique_ptr<Emulator>(new Emulator());
    emulator->kind_ = kind;
    char dir[] = "/tmp/aq-emulator-XXXXXX";
    if (mkdtemp(dir) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return nullptr;
    }
    emulator->dir_ = dir;
    int out[2];
    if (pipe(out) != 0) {
      ADD_FAILURE() << "pipe failed";
      return nullptr;
    }
    std::string script = SourceDir() + "/tests/emulators/start.js";
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      setpgid(0, 0);
      const char* which = kind == Kind::kS3      ? (conditional_puts ? "s3" : "s3-plain")
                          : kind == Kind::kAzure ? "azure"
                                                 : "gcs";
      // s3rver's paginated listing needs the legacy OpenSSL provider on Node 17+.
      execlp("node", "node", "--openssl-legacy-provider", script.c_str(), which, dir,
             static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    emulator->pid_ = pid;
    FILE* stream = fdopen(out[0], "r");
    char line[256];
    while (std::fgets(line, sizeof line, stream) != nullptr) {
      int port = 0;
      if (std::sscanf(line, "READY %d", &port) == 1) {
        emulator->port_ = port;
        break;
      }
    }
    std::fclose(stream);
    if (emulator->port_ == 0) {
      ADD_FAILURE() << "the " << Name(kind)
                    << " emulator did not start (is tests/emulators installed? run make setup)";
      return nullptr;
    }
    return emulator;
  }

  ~Emulator() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static const char* Name(Kind kind) {
    return kind == Kind::kS3 ? "S3" : kind == Kind::kAzure ? "Azure" : "GCS";
  }
  /// The URL scheme of this kind's locations ("s3", "az", "gs").
  static const char* Scheme(Kind kind) {
    return kind == Kind::kS3 ? "s3" : kind == Kind::kAzure ? "az" : "gs";
  }

  int port() const { return port_; }
  /// The emulator's data directory (the GCS emulator's credential files are here).
  const std::string& dir() const { return dir_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// storage_config keys that reach this emulator with valid credentials.
  std::map<std::string, std::string> Config() const {
    if (kind_ == Kind::kS3) {
      return {{"aws_access_key_id", "S3RVER"},
              {"aws_secret_access_key", "S3RVER"},
              {"aws_endpoint", endpoint()},
              {"aws_allow_http", "true"},
              {"aws_region", "us-east-1"}};
    }
    if (kind_ == Kind::kGcs) {
      return {{"google_service_account", dir_ + "/service-account.json"},
              {"google_endpoint", endpoint()},
              {"google_allow_http", "true"}};
    }
    return {{"azure_storage_use_emulator", "true"},
            {"azure_storage_endpoint", endpoint() + "/devstoreaccount1"}};
  }

 private:
  Emulator() = default;
  Kind kind_ = Kind::kS3;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace aqueducts::testing

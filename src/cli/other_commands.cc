// `aqueducts schema`, `status`, `cancel`.
#include <cstdio>
#include <fstream>

#include "aqueducts/loader.h"

#include "cli/commands.h"

#if __has_include("cli/remote_client.h")
#include "cli/remote_client.h"
#define AQ_HAVE_REMOTE 1
#endif

namespace aqueducts::cli {

int SchemaCommand(const std::string& output_path) {
  std::string schema = JsonSchema();
  if (output_path.empty()) {
    std::printf("%s\n", schema.c_str());
    return kExitOk;
  }
  std::ofstream out(output_path, std::ios::trunc);
  out << schema << "\n";
  out.close();
  if (!out) {
    PrintError(Status::IoError("cannot write the schema to '" + output_path + "'"));
    return kExitFailure;
  }
  return kExitOk;
}

#ifdef AQ_HAVE_REMOTE
namespace {
RemoteOptions ToRemote(const ExecutorFlags& flags) {
  return RemoteOptions{flags.executor, flags.api_key, flags.ca_cert, flags.insecure};
}
}  // namespace
#endif

#ifdef AQ_HAVE_REMOTE
namespace {
// Print a remote answer, or the error that kept us from getting one.
int PrintAnswer(const Result<std::string>& text) {
  if (!text.ok()) {
    PrintError(text.status());
    return ExitCodeFor(text.status());
  }
  std::printf("%s\n", text->c_str());
  return kExitOk;
}
}  // namespace

int StatusCommand(const ExecutorFlags& flags) {
  return PrintAnswer(RemoteStatus(ToRemote(flags)));
}

int CancelCommand(const ExecutorFlags& flags, const std::string& execution_id) {
  return PrintAnswer(RemoteCancel(ToRemote(flags), execution_id));
}
#else
int StatusCommand(const ExecutorFlags&) {
  PrintError(Status::Unsupported("this build has no remote execution support"));
  return kExitFailure;
}

int CancelCommand(const ExecutorFlags&, const std::string&) {
  PrintError(Status::Unsupported("this build has no remote execution support"));
  return kExitFailure;
}
#endif

}  // namespace aqueducts::cli

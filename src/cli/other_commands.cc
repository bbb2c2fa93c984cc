// `aqueducts schema`, `status`, `cancel`.
#include <cstdio>
#include <fstream>

#include "aqueducts/loader.h"

#include "cli/commands.h"
#include "common/uuid.h"

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

int StatusCommand(const RemoteOptions& remote) {
  return PrintAnswer(RemoteStatus(remote));
}

int CancelCommand(const RemoteOptions& remote, const std::string& execution_id) {
  if (!IsUuid(execution_id)) {  // a usage error: nothing was sent to the executor
    PrintError(Status::InvalidArgument("Invalid execution ID: " + execution_id +
                                       ". Must be a valid UUID."));
    return kExitUsage;
  }
  return PrintAnswer(RemoteCancel(remote, execution_id));
}

}  // namespace aqueducts::cli

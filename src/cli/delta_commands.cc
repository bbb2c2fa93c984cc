// `aqueducts delta history|vacuum`: wired to src/delta once its maintenance API lands.
#include "cli/commands.h"

namespace aqueducts::cli {

int DeltaHistoryCommand(const std::string& table, int, bool) {
  PrintError(Status::Unsupported("delta history is not available in this build (table '" +
                                 table + "')"));
  return kExitFailure;
}

int DeltaVacuumCommand(const std::string& table, double, bool) {
  PrintError(Status::Unsupported("delta vacuum is not available in this build (table '" + table +
                                 "')"));
  return kExitFailure;
}

}  // namespace aqueducts::cli

#include "delta/delta.h"
namespace aqueducts::delta {
Status PrepareDeltaDestination(engine::Session&, const DeltaDestination& d) {
  return Status::Unsupported("Destination " + d.name + " of type delta is unsupported");
}
Result<WriteStats> WriteDeltaDestination(engine::Session&, const DeltaDestination& d,
                                         const std::string&, ProgressSink*) {
  return Status::Unsupported("Destination " + d.name + " of type delta is unsupported");
}
}  // namespace aqueducts::delta

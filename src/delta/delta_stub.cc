// Placeholder until the native Delta implementation lands (issue #3); delete this file then.
#include "delta/delta.h"

namespace aqueducts::delta {

Status RegisterDeltaSource(engine::Session&, const DeltaSource& source) {
  return Status::Unsupported("Source '" + source.name + "' of type 'delta' is unsupported",
                             "aqueducts::source::unsupported");
}
Status PrepareDeltaDestination(engine::Session&, const DeltaDestination& destination) {
  return Status::Unsupported("Destination " + destination.name + " of type delta is unsupported",
                             "aqueducts::destination::unsupported_type");
}
Result<WriteStats> WriteDeltaDestination(engine::Session&, const DeltaDestination& destination,
                                         const std::string&, ProgressSink*) {
  return Status::Unsupported("Destination " + destination.name + " of type delta is unsupported",
                             "aqueducts::destination::unsupported_type");
}

}  // namespace aqueducts::delta

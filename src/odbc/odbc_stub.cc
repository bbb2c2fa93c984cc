// Placeholder until the ODBC implementation lands (issue #5); delete this file then.
#include "odbc/odbc.h"

namespace aqueducts::odbc {

Status RegisterOdbcSource(engine::Session&, const OdbcSource& source) {
  return Status::Unsupported("Source '" + source.name + "' of type 'odbc' is unsupported",
                             "aqueducts::source::unsupported");
}
Status PrepareOdbcDestination(const OdbcDestination& destination) {
  return Status::Unsupported("Destination " + destination.name + " of type odbc is unsupported",
                             "aqueducts::destination::unsupported_type");
}
Result<int64_t> WriteOdbcDestination(engine::Session&, const OdbcDestination& destination,
                                     const std::string&, ProgressSink*) {
  return Status::Unsupported("Destination " + destination.name + " of type odbc is unsupported",
                             "aqueducts::destination::unsupported_type");
}

}  // namespace aqueducts::odbc

// Protocol versions and table features we accept (docs/delta.md, "Limits").
#include <set>

#include "delta/log.h"

namespace aqueducts::delta {
namespace {

const std::set<std::string>& ReaderFeaturesWeRead() {
  static const std::set<std::string> kFeatures = {
      "columnMapping", "deletionVectors", "timestampNtz", "v2Checkpoint", "vacuumProtocolCheck"};
  return kFeatures;
}

const std::set<std::string>& WriterFeaturesWeWrite() {
  static const std::set<std::string> kFeatures = {
      "appendOnly",       "invariants",          "checkConstraints", "changeDataFeed",
      "generatedColumns", "identityColumns",     "columnMapping",    "timestampNtz",
      "v2Checkpoint",     "vacuumProtocolCheck", "domainMetadata",   "deletionVectors"};
  return kFeatures;
}

std::vector<std::string> ImpliedWriterFeatures(int32_t writer) {
  std::vector<std::string> out;
  if (writer >= 2) {
    out.insert(out.end(), {"appendOnly", "invariants"});
  }
  if (writer >= 3) {
    out.push_back("checkConstraints");
  }
  if (writer >= 4) {
    out.insert(out.end(), {"changeDataFeed", "generatedColumns"});
  }
  if (writer >= 5) {
    out.push_back("columnMapping");
  }
  if (writer >= 6) {
    out.push_back("identityColumns");
  }
  return out;
}

bool HasColumnMetadata(const DeltaSchema& schema, const std::string& prefix) {
  for (const auto& f : schema.fields) {
    for (auto& [k, v] : f.metadata.items()) {
      if (k.rfind(prefix, 0) == 0) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

Status CheckReadSupported(const Protocol& protocol, const Metadata& metadata) {
  if (protocol.min_reader > 3 || protocol.min_reader < 1) {
    return Status::Unsupported("unsupported Delta reader version " +
                               std::to_string(protocol.min_reader) +
                               " (this reader supports versions 1 to 3)");
  }
  if (protocol.min_reader == 3) {
    for (const auto& f : protocol.reader_features.value_or(std::vector<std::string>{})) {
      if (!ReaderFeaturesWeRead().count(f)) {
        return Status::Unsupported("unsupported Delta reader feature '" + f +
                                   "' (table requires reader v3)");
      }
    }
  }
  std::string mode = metadata.Config("delta.columnMapping.mode", "none");
  if (mode != "none" && mode != "name" && mode != "id") {
    return Status::Unsupported("unsupported Delta column mapping mode '" + mode + "'");
  }
  return Status::OK();
}

Status CheckWriteSupported(const Snapshot& snap) {
  const Protocol& p = snap.protocol;
  if (p.min_writer > 7) {
    return Status::Unsupported("unsupported Delta writer version " + std::to_string(p.min_writer) +
                               " (this writer supports versions up to 7)");
  }
  std::vector<std::string> features = p.min_writer == 7
                                          ? p.writer_features.value_or(std::vector<std::string>{})
                                          : ImpliedWriterFeatures(p.min_writer);
  for (const auto& f : p.reader_features.value_or(std::vector<std::string>{})) {
    features.push_back(f);
  }
  for (const auto& f : features) {
    if (!WriterFeaturesWeWrite().count(f)) {
      return Status::Unsupported("unsupported Delta writer feature '" + f + "'");
    }
  }
  // Features we understand but do not implement are refused only when actually in use.
  if (snap.column_mapping != "none") {
    return Status::Unsupported("unsupported Delta writer feature 'columnMapping' (mode '" +
                               snap.column_mapping + "')");
  }
  if (HasColumnMetadata(snap.schema, "delta.generationExpression")) {
    return Status::Unsupported(
        "unsupported Delta writer feature 'generatedColumns' (a column has a generation "
        "expression)");
  }
  if (HasColumnMetadata(snap.schema, "delta.identity.")) {
    return Status::Unsupported("unsupported Delta writer feature 'identityColumns'");
  }
  if (HasColumnMetadata(snap.schema, "delta.invariants")) {
    return Status::Unsupported(
        "unsupported Delta writer feature 'invariants' (a column has an invariant)");
  }
  for (const auto& [k, v] : snap.metadata.configuration) {
    if (k.rfind("delta.constraints.", 0) == 0) {
      return Status::Unsupported(
          "unsupported Delta writer feature 'checkConstraints' (constraint '" + k.substr(18) +
          "')");
    }
  }
  return Status::OK();
}

}  // namespace aqueducts::delta

// What a new table may be created with: table properties, column names and partition columns
// are validated before anything is written, and the protocol follows from what is used.
#include "delta/table_create.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "delta/data_files.h"
#include "delta/util.h"

namespace aqueducts::delta {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

bool IsBool(const std::string& v) {
  return v == "true" || v == "false";
}

bool IsPositiveInt(const std::string& v) {
  if (v.empty() || v.size() > 9) {
    return false;
  }
  for (char c : v) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return std::atoll(v.c_str()) > 0;
}

Status Refuse(const std::string& key, const std::string& value, const std::string& why) {
  return Status::Unsupported("table property '" + key + "' = '" + value +
                             "' is not supported: " + why + "; nothing was created");
}

Status Invalid(const std::string& key, const std::string& value, const std::string& expected) {
  return Status::InvalidArgument("table property '" + key + "' = '" + value +
                                 "' is invalid: " + expected + "; nothing was created");
}

// Properties whose `true` value turns on a protocol feature this writer does not implement.
const std::map<std::string, std::string>& FeatureSwitches() {
  static const std::map<std::string, std::string> kSwitches = {
      {"delta.enableChangeDataFeed",
       "change data feed needs _change_data files for every replace/upsert, which this writer "
       "does not write"},
      {"delta.enableRowTracking", "row tracking (row ids and commit versions) is not written"},
      {"delta.enableInCommitTimestamps", "in-commit timestamps are not written"},
      {"delta.enableTypeWidening", "type widening is not implemented"},
      {"delta.enableIcebergCompatV1", "Iceberg compatibility is not implemented"},
      {"delta.enableIcebergCompatV2", "Iceberg compatibility is not implemented"},
      {"delta.enableVariantShredding", "variant shredding is not implemented"},
      {"delta.checkpoint.writeStatsAsStruct",
       "checkpoints carry stats as JSON only (stats_parsed is not written)"},
      {"delta.randomizeFilePrefixes", "file names are not randomized"},
  };
  return kSwitches;
}

// Writer-side settings stored as they are: no protocol feature, honoured as documented.
bool IsPlainSetting(const std::string& key) {
  static const std::set<std::string> kPlain = {"delta.logRetentionDuration",
                                               "delta.setTransactionRetentionDuration",
                                               "delta.isolationLevel",
                                               "delta.enableExpiredLogCleanup",
                                               "delta.checkpoint.writeStatsAsJson",
                                               "delta.targetFileSize",
                                               "delta.tuneFileSizesForRewrites"};
  return kPlain.count(key) > 0;
}

Status CheckProperty(const std::string& key, const std::string& value) {
  if (key.rfind("delta.", 0) != 0) {
    return Status::OK();  // user metadata: stored as given
  }
  if (key == "delta.appendOnly" || key == "delta.enableDeletionVectors") {
    return IsBool(value) ? Status::OK() : Invalid(key, value, "expected true or false");
  }
  if (key == "delta.checkpointInterval" || key == "delta.dataSkippingNumIndexedCols") {
    if (key == "delta.dataSkippingNumIndexedCols" && value == "-1") {
      return Status::OK();
    }
    return IsPositiveInt(value) ? Status::OK() : Invalid(key, value, "expected a positive integer");
  }
  if (key == "delta.deletedFileRetentionDuration" || key == "delta.logRetentionDuration" ||
      key == "delta.setTransactionRetentionDuration") {
    return ParseIntervalMillis(value).has_value()
               ? Status::OK()
               : Invalid(key, value, "expected an interval such as 'interval 7 days'");
  }
  auto sw = FeatureSwitches().find(key);
  if (sw != FeatureSwitches().end()) {
    if (value == "false") {
      return Status::OK();
    }
    if (value == "true") {
      return Refuse(key, value, sw->second);
    }
    return Invalid(key, value, "expected true or false");
  }
  if (key == "delta.checkpointPolicy") {
    if (value == "classic") {
      return Status::OK();
    }
    return Refuse(key, value, "only classic checkpoints are written (no v2 checkpoints)");
  }
  if (key == "delta.columnMapping.mode") {
    if (value == "none") {
      return Status::OK();
    }
    return Refuse(key, value,
                  "column mapping needs physical names and ids, which this writer does not "
                  "assign");
  }
  if (key.rfind("delta.constraints.", 0) == 0) {
    return Refuse(key, value, "CHECK constraints are not enforced by this writer");
  }
  if (key.rfind("delta.feature.", 0) == 0) {
    return Refuse(key, value,
                  "table features cannot be switched on by name; set the feature's own "
                  "property if the writer supports it (docs/delta.md lists them)");
  }
  if (key == "delta.universalFormat.enabledFormats") {
    return Refuse(key, value, "UniForm (Iceberg/Hudi metadata) is not written");
  }
  if (IsPlainSetting(key)) {
    return Status::OK();
  }
  return Refuse(key, value, "unknown to this writer (docs/delta.md lists the supported ones)");
}

// Two names equal but for case, anywhere in the schema (nested struct fields included).
Status CheckCaseDuplicates(const json& struct_type, const std::string& where) {
  std::map<std::string, std::string> seen;  // lower-case -> name
  for (const json& f : struct_type["fields"]) {
    std::string name = f.value("name", "");
    auto [it, fresh] = seen.emplace(Lower(name), name);
    if (!fresh) {
      return Status::InvalidArgument(
          "columns '" + where + it->second + "' and '" + where + name +
          "' differ only by case; Delta column names are case-insensitive; nothing was created");
    }
    // Look inside structs, also as list elements and map values.
    json t = f["type"];
    while (t.is_object() && t.value("type", "") != "struct") {
      if (t.value("type", "") == "array") {
        t = t["elementType"];
      } else if (t.value("type", "") == "map") {
        t = t["valueType"];
      } else {
        break;
      }
    }
    if (t.is_object() && t.value("type", "") == "struct") {
      AQ_RETURN_IF_ERROR(CheckCaseDuplicates(t, where + name + "."));
    }
  }
  return Status::OK();
}

}  // namespace

std::optional<int64_t> ParseIntervalMillis(const std::string& text) {
  // "interval <n> <unit>" (units: millisecond(s), second(s), minute(s), hour(s), day(s),
  // week(s)), the calendar-free forms Delta's retention properties use.
  std::string t = Lower(text);
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < t.size() && t[i] == ' ') {
      ++i;
    }
  };
  skip_spaces();
  if (t.compare(i, 8, "interval") == 0) {
    i += 8;
  }
  skip_spaces();
  size_t start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    ++i;
  }
  if (i == start || i - start > 12) {
    return std::nullopt;
  }
  int64_t n = std::atoll(t.substr(start, i - start).c_str());
  skip_spaces();
  std::string unit = t.substr(i);
  while (!unit.empty() && unit.back() == ' ') {
    unit.pop_back();
  }
  if (!unit.empty() && unit.back() == 's') {
    unit.pop_back();
  }
  static const std::map<std::string, int64_t> kUnits = {
      {"millisecond", 1},    {"second", 1000},          {"minute", 60 * 1000},
      {"hour", 3600 * 1000}, {"day", 24 * 3600 * 1000}, {"week", 7 * 24 * 3600 * 1000LL}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) {
    return std::nullopt;
  }
  return n * it->second;
}

json NewMetadataAction(const NewTable& plan, const DeltaDestination& dest) {
  return json{{"id", NewUuid()},
              {"name", nullptr},
              {"description", nullptr},
              {"format", {{"provider", "parquet"}, {"options", json::object()}}},
              {"schemaString", plan.schema.dump()},
              {"partitionColumns", dest.partition_columns},
              {"createdTime", NowMillis()},
              {"configuration", plan.configuration}};
}

Result<NewTable> PlanNewTable(const DeltaDestination& dest) {
  if (dest.schema.empty()) {
    return Status::InvalidArgument(
        "the table does not exist and `schema` is empty: list the columns to create it");
  }
  NewTable out;
  AQ_ASSIGN_OR_RETURN(out.schema, SchemaJsonOf(dest.schema));
  AQ_RETURN_IF_ERROR(CheckCaseDuplicates(out.schema, ""));
  std::set<std::string> partitions;
  for (const auto& p : dest.partition_columns) {
    const Field* field = nullptr;
    for (const auto& f : dest.schema) {
      if (f.name == p) {
        field = &f;
      }
    }
    if (!field) {
      return Status::InvalidArgument("partition column '" + p + "' is not in `schema`");
    }
    if (!partitions.insert(p).second) {
      return Status::InvalidArgument("partition column '" + p + "' is listed twice");
    }
    AQ_ASSIGN_OR_RETURN(json type, DeltaTypeOf(field->data_type));
    auto text = PartitionValueText(type, "x");
    if (!text.ok()) {
      return text.status().WithPrefix("partition column '" + p + "': ");
    }
  }
  if (partitions.size() == dest.schema.size()) {
    return Status::InvalidArgument(
        "every column is a partition column; a Delta table needs a non-partition column");
  }
  out.configuration = json::object();
  for (const auto& [k, v] : dest.table_properties) {
    if (!v) {
      continue;
    }
    AQ_RETURN_IF_ERROR(CheckProperty(k, *v));
    out.configuration[k] = *v;
  }
  // The protocol: legacy 1/2 unless a feature needs reader 3 / writer 7, which then lists
  // every feature in use.
  std::vector<std::string> reader_features, writer_features;
  if (out.schema.dump().find("\"timestamp_ntz\"") != std::string::npos) {
    reader_features.push_back("timestampNtz");
    writer_features.push_back("timestampNtz");
  }
  if (out.configuration.value("delta.enableDeletionVectors", "") == "true") {
    reader_features.push_back("deletionVectors");
    writer_features.push_back("deletionVectors");
  }
  if (reader_features.empty()) {
    out.protocol = json{{"minReaderVersion", 1}, {"minWriterVersion", 2}};
  } else {
    if (out.configuration.contains("delta.appendOnly")) {
      writer_features.insert(writer_features.begin(), "appendOnly");
    }
    out.protocol = json{{"minReaderVersion", 3},
                        {"minWriterVersion", 7},
                        {"readerFeatures", reader_features},
                        {"writerFeatures", writer_features}};
  }
  return out;
}

}  // namespace aqueducts::delta

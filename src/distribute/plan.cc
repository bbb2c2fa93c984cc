// BuildPlan and its renderings (distribute/plan.h).

#include "distribute/plan.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "common/text.h"
#include "delta/connectors.h"
#include "delta/distributed_append.h"
#include "delta/log.h"
#include "engine/distribution_sql.h"
#include "engine/session.h"
#include "io/file_destination.h"
#include "io/output_dir.h"
#include "storage/mounts.h"
#include "storage/object_url.h"
#include "storage/store_registry.h"

namespace aqueducts::distribute {
namespace {

namespace fs = std::filesystem;

std::string Quote(const std::string& text, char q) {
  std::string out(1, q);
  for (char c : text) {
    out += c;
    if (c == q) {
      out += c;
    }
  }
  return out + q;
}

std::string Bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    unit++;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

const char* Extension(FileFormat format) {
  switch (format) {
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kJson:
      return "json";
    case FileFormat::kParquet:
      break;
  }
  return "parquet";
}

struct SourceFiles {
  std::vector<std::pair<std::string, uint64_t>> files;  // path, bytes
  uint64_t bytes = 0;
  int64_t delta_version = -1;   // a Delta source: the snapshot's version
  size_t deletion_vectors = 0;  // a Delta source: live files with a deletion vector
};

// The live files of a local Delta source at the version it reads (its `version`, the latest at
// its `timestamp`, or the latest), by the native reader's own log replay: paths as the log names
// them (relative to the table root), sizes from the add actions.
Result<SourceFiles> ListDeltaFiles(const DeltaSource& source) {
  std::string prefix = "source '" + source.name + "'";
  AQ_ASSIGN_OR_RETURN(std::string root, delta::TableRoot(source.location));
  Database::Options options;
  options.threads = 1;
  AQ_ASSIGN_OR_RETURN(auto session, engine::Session::Open(options));
  AQ_ASSIGN_OR_RETURN(auto conn, session->Connect());
  auto snapshot = delta::LoadSourceSnapshot(*conn, source, root);
  if (!snapshot.ok()) {
    return snapshot.status().WithPrefix(prefix + ": cannot read the Delta table at '" + root +
                                        "': ");
  }
  SourceFiles out;
  out.delta_version = snapshot->version;
  for (const auto& file : snapshot->files) {
    uint64_t size = file.size > 0 ? static_cast<uint64_t>(file.size) : 0;
    out.files.push_back({file.path, size});
    out.bytes += size;
    out.deletion_vectors += file.deletion_vector ? 1 : 0;
  }
  return out;
}

bool EndsWith(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// The objects an object-store file or directory source reads, with their sizes, through the
// store its storage_config names: one object, or the directory's objects with the format's
// extension (in any sub-directory), only those its manifest lists when it has one, as the source
// itself reads them (io/file_source.h).
Result<SourceFiles> ListObjects(const std::string& name, const std::string& location,
                                const StorageConfig& config, std::optional<FileFormat> dir_format) {
  std::string prefix = "source '" + name + "': ";
  std::string dir = location;
  while (dir_format && !dir.empty() && dir.back() == '/') {
    dir.pop_back();
  }
  auto url = storage::ParseObjectUrl(dir);
  if (!url.ok()) {
    return url.status().WithPrefix(prefix);
  }
  auto store = storage::OpenStore(*url, config);
  if (!store.ok()) {
    return store.status().WithPrefix(prefix);
  }
  SourceFiles out;
  if (!dir_format) {
    auto head = (*store)->Head(url->key);
    if (!head.ok()) {
      return head.status().WithPrefix(prefix);
    }
    out.files.push_back({location, head->size});
    out.bytes = head->size;
    return out;
  }
  std::string extension = std::string(".") + Extension(*dir_format);
  std::string key_prefix = url->key.empty() ? "" : url->key + "/";
  auto listing = (*store)->List(key_prefix);
  if (!listing.ok()) {
    return listing.status().WithPrefix(prefix + "cannot list '" + dir + "': ");
  }
  std::map<std::string, uint64_t> sizes;  // relative key -> bytes
  for (const auto& object : listing->objects) {
    if (object.key.size() > key_prefix.size() && !object.directory) {
      sizes[object.key.substr(key_prefix.size())] = object.size;
    }
  }
  // A directory a file destination wrote: only the objects of its last committed run.
  auto registry = std::make_shared<storage::StoreRegistry>();
  AQ_RETURN_IF_ERROR(registry->Register(dir, config).WithPrefix(prefix));
  storage::ScopedObjectStores scope(dir, registry);
  auto manifest = io::ReadManifestIfAny(dir);
  if (!manifest.ok()) {
    return manifest.status().WithPrefix(prefix);
  }
  for (const auto& [relative, bytes] : sizes) {
    if (!EndsWith(relative, extension) ||
        (manifest->has_value() && (*manifest)->count(relative) == 0)) {
      continue;
    }
    out.files.push_back({dir + "/" + relative, bytes});
    out.bytes += bytes;
  }
  if (out.files.empty()) {
    return Status::NotFound(prefix + "no " + extension + " object under '" + dir + "'");
  }
  return out;
}

// The files a local file or directory source reads: the same glob the source itself uses, asked
// of DuckDB, so the partitions read exactly the files a local run reads. Object-store sources:
// ListObjects.
Result<SourceFiles> ListSourceFiles(const Source& source) {
  if (const auto* table = std::get_if<DeltaSource>(&source)) {
    return ListDeltaFiles(*table);
  }
  if (const auto* file = std::get_if<FileSource>(&source); file && !file->location.IsLocal()) {
    return ListObjects(file->name, file->location.url, file->storage_config, std::nullopt);
  }
  if (const auto* dir = std::get_if<DirSource>(&source); dir && !dir->location.IsLocal()) {
    return ListObjects(dir->name, dir->location.url, dir->storage_config, dir->format.format);
  }
  SourceFiles out;
  if (const auto* file = std::get_if<FileSource>(&source)) {
    std::string path = file->location.LocalPath();
    std::error_code error;
    uint64_t size = fs::file_size(path, error);
    if (error) {
      return Status::NotFound("source '" + file->name + "': file not found: '" + path + "'");
    }
    out.files.push_back({path, size});
    out.bytes = size;
    return out;
  }
  const auto& dir = std::get<DirSource>(source);
  std::string root = dir.location.LocalPath();
  while (root.size() > 1 && root.back() == '/') {
    root.pop_back();
  }
  AQ_ASSIGN_OR_RETURN(auto db, Database::Open());
  auto rows =
      db->Query("SELECT file FROM glob(" +
                Quote(root + "/**/*." + Extension(dir.format.format), '\'') + ") ORDER BY file");
  if (!rows.ok()) {
    return rows.status().WithPrefix("source '" + dir.name + "': cannot list '" + root + "': ");
  }
  for (const auto& row : rows->rows) {
    if (!row[0]) {
      continue;
    }
    std::error_code error;
    uint64_t size = fs::file_size(*row[0], error);
    out.files.push_back({*row[0], error ? 0 : size});
    out.bytes += error ? 0 : size;
  }
  if (out.files.empty()) {
    return Status::NotFound("source '" + dir.name + "': no ." + Extension(dir.format.format) +
                            " file under '" + root + "'");
  }
  return out;
}

// Split files into at most `n` partitions balanced by bytes: the largest file first, each into
// the lightest partition so far.
std::vector<Partition> Balance(std::vector<std::pair<std::string, uint64_t>> files, int n) {
  std::stable_sort(files.begin(), files.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  size_t count = std::min<size_t>(static_cast<size_t>(std::max(n, 1)), files.size());
  std::vector<Partition> parts(count);
  for (const auto& [path, bytes] : files) {
    auto lightest = std::min_element(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
      return a.bytes != b.bytes ? a.bytes < b.bytes : a.files.size() < b.files.size();
    });
    lightest->files.push_back(path);
    lightest->bytes += bytes;
  }
  for (auto& part : parts) {
    std::sort(part.files.begin(), part.files.end());
  }
  return parts;
}

// A source whose files are known before reading it: a file or directory (local or on an object
// store) or a local Delta table.
bool LocalFiles(const Source& source) {
  if (std::holds_alternative<FileSource>(source) || std::holds_alternative<DirSource>(source)) {
    return true;
  }
  if (const auto* table = std::get_if<DeltaSource>(&source)) {
    return table->location.IsLocal();
  }
  return false;
}

std::vector<const Stage*> Flatten(const Aqueduct& aqueduct) {
  std::vector<const Stage*> out;
  for (const auto& group : aqueduct.stages) {
    for (const auto& stage : group) {
      out.push_back(&stage);
    }
  }
  return out;
}

Stage Quiet(Stage stage) {
  stage.show.reset();
  stage.explain = stage.explain_analyze = stage.print_schema = false;
  return stage;
}

DirSource GatheredSource(const std::string& name) {
  DirSource source;
  source.name = name;
  source.format.format = FileFormat::kParquet;
  source.location = ParseLocation("/gathered-placeholder/");
  return source;
}

// Whether a map-only pipeline's Delta destination takes the tasks' own files: an append, or a
// replace without conditions, to a local table (delta::WritableByParts). Sets
// plan.delta_version to the table's latest version, or plan.delta_create when it does not exist
// yet (a given `schema` is checked now, as a local create checks it; without one, each task
// infers it from its rows' columns as a local run does, and the driver checks they agree).
Result<bool> DirectDelta(const Aqueduct& aqueduct, Plan& plan) {
  const auto* delta =
      aqueduct.destination ? std::get_if<DeltaDestination>(&*aqueduct.destination) : nullptr;
  if (delta == nullptr || !delta->location.IsLocal() || !delta::WritableByParts(*delta)) {
    return false;
  }
  std::string prefix = "Delta destination '" + delta->name + "': ";
  AQ_ASSIGN_OR_RETURN(std::string root, delta::TableRoot(delta->location));
  if (!delta::TableExists(root)) {
    if (!delta->schema.empty()) {
      AQ_RETURN_IF_ERROR(delta::NewTableJson(*delta).status().WithPrefix(prefix));
    }
    plan.delta_create = true;
    return true;
  }
  auto listing = delta::ListLog(root);
  if (!listing.ok()) {
    return listing.status().WithPrefix(prefix);
  }
  plan.delta_version = listing->LatestVersion();
  return true;
}

// What BuildPlan works out step by step, shared by its steps (relation names lower case).
struct Planning {
  const PlanOptions& options;
  // Delta sources get the version they were listed at pinned, so every partition and the driver
  // read one snapshot even while the table gets new commits.
  Aqueduct aqueduct;
  std::vector<const Stage*> stages;
  std::map<std::string, engine::QueryAnalysis> analyses;  // by stage name
  std::set<std::string> read;                             // every relation some stage reads
  std::map<std::string, SourceFiles> listed;              // by source name
  const Source* split = nullptr;
  std::map<std::string, Placement> kind;       // relation -> placement
  std::map<std::string, std::string> display;  // relation -> name as written
  std::set<std::string> crossings;             // relations that would leave the partitions
  std::map<std::string, std::string> crossing_why;
  std::string crossing;  // the one that does
  Placement crossing_kind = Placement::kPartition;
  const FileDestination* file_destination = nullptr;
};

// Parse every stage's SQL with DuckDB's parser: what it reads and its shape.
Status AnalyzeStages(Planning& p) {
  p.stages = Flatten(p.aqueduct);
  for (const Stage* stage : p.stages) {
    auto analysis = engine::AnalyzeQuery(stage->query);
    if (!analysis.ok()) {
      return analysis.status().WithPrefix("stage '" + stage->name + "': ");
    }
    p.read.insert(analysis->tables.begin(), analysis->tables.end());
    p.analyses[stage->name] = std::move(*analysis);
  }
  if (p.stages.empty()) {
    return Status::Unsupported("the pipeline has no stage: nothing to distribute");
  }
  return Status::OK();
}

// List every source a stage reads whose files are known up front (pinning Delta versions); the
// split source is the largest.
Status ChooseSplitSource(Planning& p) {
  for (auto& source : p.aqueduct.sources) {
    const std::string& name = SourceName(source);
    if (p.read.count(ToLowerAscii(name)) == 0 || !LocalFiles(source)) {
      continue;
    }
    AQ_ASSIGN_OR_RETURN(p.listed[name], ListSourceFiles(source));
    if (auto* table = std::get_if<DeltaSource>(&source)) {
      table->version = p.listed[name].delta_version;
      table->timestamp.reset();
    }
    if (p.split == nullptr || p.listed[name].bytes > p.listed[SourceName(*p.split)].bytes) {
      p.split = &source;
    }
  }
  if (p.split == nullptr) {
    return Status::Unsupported(
        "no source can be split: a distributed run splits a file or directory source (local or "
        "on an object store) or a local Delta source that a stage reads, and this pipeline has "
        "none");
  }
  return Status::OK();
}

// The split source's description in the plan and its partitions, balanced by bytes.
Status SplitIntoPartitions(Planning& p, Plan& plan) {
  const Source& split = *p.split;
  plan.split_source = SourceName(split);
  plan.split_is_directory = std::holds_alternative<DirSource>(split);
  plan.split_kind = plan.split_is_directory                      ? SplitKind::kDirectory
                    : std::holds_alternative<DeltaSource>(split) ? SplitKind::kDelta
                                                                 : SplitKind::kFile;
  const SourceFiles& files = p.listed[plan.split_source];
  if (plan.split_kind == SplitKind::kDirectory) {
    const auto& dir = std::get<DirSource>(split);
    plan.split_root = dir.location.IsLocal() ? dir.location.LocalPath() : dir.location.url;
  } else if (plan.split_kind == SplitKind::kDelta) {
    plan.split_root = std::get<DeltaSource>(split).location.LocalPath();
    plan.split_version = files.delta_version;
    plan.split_deletion_vectors = files.deletion_vectors;
    if (files.files.empty()) {
      return Status::Unsupported(
          "source '" + plan.split_source + "': the Delta table has no live file at version " +
          std::to_string(plan.split_version) + ": nothing to distribute; run it locally");
    }
  }
  while (plan.split_root.size() > 1 && plan.split_root.back() == '/') {
    plan.split_root.pop_back();
  }
  plan.partitions =
      Balance(files.files, p.options.partitions > 0 ? p.options.partitions : kDefaultPartitions);
  return Status::OK();
}

// Every other source a stage reads is broadcast, within the limit.
Status PlanBroadcasts(Planning& p, Plan& plan) {
  for (const auto& source : p.aqueduct.sources) {
    const std::string& name = SourceName(source);
    if (name == plan.split_source || p.read.count(ToLowerAscii(name)) == 0) {
      continue;
    }
    if (!LocalFiles(source)) {
      return Status::Unsupported(
          "source '" + name + "' (" + SourceTypeName(source) +
          ") cannot be broadcast to the partitions: a distributed run broadcasts only file and "
          "directory sources (local or on an object store) and local Delta sources, whose size "
          "is known before reading them");
    }
    uint64_t bytes = p.listed[name].bytes;
    if (bytes > p.options.broadcast_limit_bytes) {
      return Status::Unsupported(
          "source '" + name + "' (" + Bytes(bytes) + ") is too large to broadcast to every " +
          "partition (limit " + Bytes(p.options.broadcast_limit_bytes) + "; only '" +
          plan.split_source + "' is split): raise --broadcast-limit or run locally");
    }
    plan.broadcasts.push_back({name, bytes, p.listed[name].delta_version});
  }
  return Status::OK();
}

// Where `stage` runs, from what it reads (split, driver-side or broadcast relations) and its
// shape; a relation it makes leave the partitions goes into p.crossings.
Result<StagePlan> PlaceStage(Planning& p, const Plan& plan, const Stage& stage) {
  const auto& analysis = p.analyses[stage.name];
  std::vector<std::string> split_inputs, driver_inputs;
  for (const auto& table : analysis.tables) {
    auto it = p.kind.find(table);
    if (it != p.kind.end() && it->second == Placement::kPartition) {
      split_inputs.push_back(table);
    } else if (it != p.kind.end() &&
               (it->second == Placement::kDriver || it->second == Placement::kPartial)) {
      driver_inputs.push_back(table);
    }
  }
  StagePlan placed{stage.name, Placement::kBroadcast, ""};
  if (split_inputs.size() > 1) {
    return Status::Unsupported(
        "stage '" + stage.name + "' joins '" + p.display[split_inputs[0]] + "' and '" +
        p.display[split_inputs[1]] + "', which are both split across partitions (from source '" +
        plan.split_source +
        "'): a join of two split relations needs a shuffle, which a distributed run does not "
        "do; run it locally");
  }
  if (split_inputs.empty()) {
    placed.where = driver_inputs.empty() ? Placement::kBroadcast : Placement::kDriver;
    placed.why = driver_inputs.empty() ? "reads no split relation"
                                       : "reads '" + p.display[driver_inputs[0]] +
                                             "', which is computed on the driver";
    return placed;
  }
  const std::string& input = split_inputs[0];
  bool whole =
      std::count(analysis.not_splittable.begin(), analysis.not_splittable.end(), input) != 0;
  std::string why;
  if (!driver_inputs.empty()) {
    why = "also reads '" + p.display[driver_inputs[0]] + "', which is computed on the driver";
  } else if (analysis.shape == engine::QueryShape::kWhole) {
    why = analysis.reason;
  } else if (whole) {
    why = "'" + p.display[input] +
          "' is on the kept side of an outer, semi or anti join or in a subquery";
  }
  if (!why.empty()) {
    placed.where = Placement::kDriver;
    placed.why = why + "; needs all of '" + p.display[input] + "' on the driver";
    p.crossings.insert(input);
    p.crossing_why[input] = "stage '" + stage.name + "' needs it whole";
  } else if (analysis.shape == engine::QueryShape::kAggregate) {
    placed.where = Placement::kPartial;
    placed.why = "decomposable aggregate";
    p.crossings.insert(ToLowerAscii(stage.name));
    p.crossing_why[ToLowerAscii(stage.name)] = "its partial aggregates";
  } else {
    placed.where = Placement::kPartition;
    placed.why = "row by row";
  }
  return placed;
}

// Where each stage runs (the split source counts as kPartition, broadcast sources as
// kBroadcast), and the one relation that leaves the partitions.
Status PlaceStages(Planning& p, Plan& plan) {
  p.kind[ToLowerAscii(plan.split_source)] = Placement::kPartition;
  p.display[ToLowerAscii(plan.split_source)] = plan.split_source;
  for (const auto& broadcast : plan.broadcasts) {
    p.kind[ToLowerAscii(broadcast.name)] = Placement::kBroadcast;
  }
  for (const Stage* stage : p.stages) {
    AQ_ASSIGN_OR_RETURN(StagePlan placed, PlaceStage(p, plan, *stage));
    p.kind[ToLowerAscii(stage->name)] = placed.where;
    p.display[ToLowerAscii(stage->name)] = stage->name;
    plan.stages.push_back(placed);
  }
  const Stage& last = *p.stages.back();
  if (p.kind[ToLowerAscii(last.name)] == Placement::kPartition) {
    p.crossings.insert(ToLowerAscii(last.name));
    p.crossing_why[ToLowerAscii(last.name)] = "it feeds the destination";
  }
  if (p.crossings.empty()) {
    return Status::Unsupported("the last stage '" + last.name + "' does not depend on '" +
                               plan.split_source + "', the split source: nothing to distribute");
  }
  if (p.crossings.size() > 1) {
    std::string names;
    for (const auto& name : p.crossings) {
      names += (names.empty() ? "'" : ", '") + p.display[name] + "' (" + p.crossing_why[name] + ")";
    }
    return Status::Unsupported("more than one relation would have to leave the partitions: " +
                               names + "; a distributed run gathers one relation on the driver");
  }
  p.crossing = *p.crossings.begin();
  plan.crossing = p.display[p.crossing];
  p.crossing_kind = p.kind[p.crossing];
  return Status::OK();
}

// The partition pipeline: the sources and stages the crossing needs, then the crossing last
// (a split aggregate in its partial form).
Status BuildPartitionPipeline(Planning& p, Plan& plan) {
  std::set<std::string> needed = {p.crossing};
  for (auto it = p.stages.rbegin(); it != p.stages.rend(); ++it) {
    if (needed.count(ToLowerAscii((*it)->name)) != 0) {
      const auto& tables = p.analyses[(*it)->name].tables;
      needed.insert(tables.begin(), tables.end());
    }
  }
  Aqueduct& part = plan.partition_pipeline;
  part.version = p.aqueduct.version;
  for (const auto& source : p.aqueduct.sources) {
    if (needed.count(ToLowerAscii(SourceName(source))) != 0) {
      part.sources.push_back(source);
    }
  }
  std::vector<Stage> last_group;
  for (const auto& group : p.aqueduct.stages) {
    std::vector<Stage> kept;
    for (const auto& stage : group) {
      std::string key = ToLowerAscii(stage.name);
      if (key == p.crossing) {
        Stage copy = Quiet(stage);
        if (p.crossing_kind == Placement::kPartial) {
          AQ_ASSIGN_OR_RETURN(auto split_sql, engine::SplitAggregate(stage.query, "__aq_gathered"));
          copy.query = split_sql.partial_sql;
          plan.aggregate_sql = stage.query;
          plan.final_sql_preview = split_sql.final_sql;
        }
        last_group.push_back(copy);
      } else if (needed.count(key) != 0) {
        kept.push_back(Quiet(stage));
        if (stage.show || stage.explain || stage.explain_analyze || stage.print_schema) {
          plan.notes.push_back("stage '" + stage.name +
                               "' runs per partition: its show/explain/print_schema output is "
                               "not printed in a distributed run");
        }
      }
    }
    if (!kept.empty()) {
      part.stages.push_back(std::move(kept));
    }
  }
  if (last_group.empty()) {
    // The split source itself crosses: one stage reads it as it is.
    Stage rows;
    rows.name = "__aq_rows";
    rows.query = "SELECT * FROM " + Quote(plan.split_source, '"');
    last_group.push_back(rows);
  }
  part.stages.push_back(std::move(last_group));
  return Status::OK();
}

// How the result reaches the destination, and the partitions' own destination.
Status ChooseOutput(Planning& p, Plan& plan) {
  const Aqueduct& aqueduct = p.aqueduct;
  p.file_destination =
      aqueduct.destination ? std::get_if<FileDestination>(&*aqueduct.destination) : nullptr;
  const FileDestination* file_destination = p.file_destination;
  bool map_only =
      p.crossing_kind == Placement::kPartition && p.crossing == ToLowerAscii(p.stages.back()->name);
  for (const auto& stage : plan.stages) {
    map_only =
        map_only && (stage.where == Placement::kPartition || stage.where == Placement::kBroadcast);
  }
  bool direct = map_only && file_destination != nullptr && file_destination->location.IsLocal() &&
                file_destination->format.format == FileFormat::kParquet &&
                io::WritesDirectory(*file_destination);
  bool direct_delta = false;
  if (map_only) {
    AQ_ASSIGN_OR_RETURN(direct_delta, DirectDelta(aqueduct, plan));
  }
  FileDestination out;
  out.name = "partition output";
  out.location = ParseLocation("/partition-output-placeholder/");
  out.single_file = false;
  if (direct) {
    plan.output = OutputMode::kDirectory;
    out.format = file_destination->format;
    out.partition_columns = file_destination->partition_columns;
  } else if (direct_delta) {
    plan.output = OutputMode::kDelta;
  } else {
    plan.output =
        p.crossing_kind == Placement::kPartial ? OutputMode::kAggregate : OutputMode::kGather;
  }
  plan.partition_pipeline.destination = out;
  if (plan.output == OutputMode::kDelta) {
    // The task writes the table's own data files (it replaces this by an in_memory destination
    // and casts the rows to the table schema).
    plan.partition_pipeline.destination = aqueduct.destination;
  }
  return Status::OK();
}

// kGather / kAggregate: the driver pipeline: the gathered relation as a source, then every
// stage that is not per-partition (the crossing in its final form).
void BuildDriverPipeline(Planning& p, Plan& plan) {
  if (plan.output != OutputMode::kGather && plan.output != OutputMode::kAggregate) {
    return;
  }
  Aqueduct& driver = plan.driver_pipeline;
  driver.version = p.aqueduct.version;
  driver.destination = p.aqueduct.destination;
  plan.gathered_source = p.crossing_kind == Placement::kPartial ? "__aq_gathered" : plan.crossing;
  driver.sources.push_back(GatheredSource(plan.gathered_source));
  std::set<std::string> driver_reads;
  for (const auto& stage : plan.stages) {
    if (stage.where == Placement::kDriver || stage.where == Placement::kBroadcast) {
      const auto& tables = p.analyses[stage.name].tables;
      driver_reads.insert(tables.begin(), tables.end());
    }
  }
  for (const auto& source : p.aqueduct.sources) {
    std::string key = ToLowerAscii(SourceName(source));
    if (key != p.crossing && SourceName(source) != plan.split_source && driver_reads.count(key)) {
      driver.sources.push_back(source);
    }
  }
  for (const auto& group : p.aqueduct.stages) {
    std::vector<Stage> kept;
    for (const auto& stage : group) {
      std::string key = ToLowerAscii(stage.name);
      Placement where = p.kind[key];
      if (key == p.crossing && where == Placement::kPartial) {
        Stage final_stage = stage;
        final_stage.query = plan.final_sql_preview;  // sum types are filled in at commit
        kept.push_back(final_stage);
      } else if (where == Placement::kDriver || where == Placement::kBroadcast) {
        kept.push_back(stage);
      }
    }
    if (!kept.empty()) {
      driver.stages.push_back(std::move(kept));
    }
  }
  if (p.crossing == ToLowerAscii(p.stages.back()->name) &&
      p.crossing_kind == Placement::kPartition) {
    Stage output;
    output.name = "__aq_output";
    output.query = "SELECT * FROM " + Quote(plan.crossing, '"');
    driver.stages.push_back({output});
  }
}

// Where partitions write: beside a local file or Delta destination, else beside the split
// source when it is local. The workers must see it (a directory shared between the machines).
Status ChooseStaging(Planning& p, Plan& plan) {
  const auto* delta =
      p.aqueduct.destination ? std::get_if<DeltaDestination>(&*p.aqueduct.destination) : nullptr;
  const auto* file = std::get_if<FileSource>(p.split);
  std::string anchor;
  if (p.file_destination != nullptr && p.file_destination->location.IsLocal()) {
    anchor = p.file_destination->location.LocalPath();
  } else if (delta != nullptr && delta->location.IsLocal()) {
    anchor = delta->location.LocalPath();
  } else if (file != nullptr && file->location.IsLocal()) {
    anchor = file->location.LocalPath();
  } else if (plan.split_kind != SplitKind::kFile && !storage::IsObjectStoreUrl(plan.split_root)) {
    anchor = plan.split_root;
  } else {
    return Status::Unsupported(
        "source '" + plan.split_source +
        "' is on an object store and the destination is not a local file, directory or Delta "
        "table: the partitions stage their output in a directory shared with the workers, beside "
        "a local destination or a local split source; write to a local (shared) destination or "
        "run it locally");
  }
  while (anchor.size() > 1 && anchor.back() == '/') {
    anchor.pop_back();
  }
  fs::path anchor_path(anchor);
  plan.staging_parent = anchor_path.parent_path().string();
  plan.staging_name = anchor_path.filename().string();
  return Status::OK();
}

}  // namespace

const char* PlacementName(Placement placement) {
  switch (placement) {
    case Placement::kPartition:
      return "per partition";
    case Placement::kPartial:
      return "partial per partition + final on the driver";
    case Placement::kDriver:
      return "on the driver";
    case Placement::kBroadcast:
      return "broadcast (reads no split relation)";
  }
  return "?";
}

Result<Plan> BuildPlan(const Aqueduct& original, const PlanOptions& options) {
  Planning p{options, original};
  Plan plan;
  AQ_RETURN_IF_ERROR(AnalyzeStages(p));
  AQ_RETURN_IF_ERROR(ChooseSplitSource(p));
  AQ_RETURN_IF_ERROR(SplitIntoPartitions(p, plan));
  AQ_RETURN_IF_ERROR(PlanBroadcasts(p, plan));
  AQ_RETURN_IF_ERROR(PlaceStages(p, plan));
  AQ_RETURN_IF_ERROR(BuildPartitionPipeline(p, plan));
  AQ_RETURN_IF_ERROR(ChooseOutput(p, plan));
  BuildDriverPipeline(p, plan);
  AQ_RETURN_IF_ERROR(ChooseStaging(p, plan));
  return plan;
}

namespace {

// kDelta: whether the commit replaces the table's live files.
bool ReplacesTable(const Plan& plan) {
  const auto* delta = plan.partition_pipeline.destination
                          ? std::get_if<DeltaDestination>(&*plan.partition_pipeline.destination)
                          : nullptr;
  return delta != nullptr && delta->write_mode.operation == DeltaWriteMode::Operation::kReplace;
}

}  // namespace

std::string ExplainPlan(const Plan& plan) {
  std::string out = "Distribution plan\n";
  uint64_t total = 0;
  size_t files = 0;
  for (const auto& part : plan.partitions) {
    total += part.bytes;
    files += part.files.size();
  }
  bool object_store = storage::IsObjectStoreUrl(plan.split_root) ||
                      (!plan.partitions.empty() && !plan.partitions[0].files.empty() &&
                       storage::IsObjectStoreUrl(plan.partitions[0].files[0]));
  std::string kind = plan.split_kind == SplitKind::kDirectory
                         ? (object_store ? "object-store directory" : "directory")
                     : plan.split_kind == SplitKind::kDelta
                         ? "Delta table at version " + std::to_string(plan.split_version)
                     : object_store ? "object"
                                    : "file";
  std::string what = std::to_string(files) +
                     (plan.split_kind == SplitKind::kDelta
                          ? " live file(s), " + std::to_string(plan.split_deletion_vectors) +
                                " with a deletion vector"
                          : " file(s)");
  out += "  split source: '" + plan.split_source + "' (" + kind + ", " + what + ", " +
         Bytes(total) + ") into " + std::to_string(plan.partitions.size()) + " partition(s)\n";
  for (size_t i = 0; i < plan.partitions.size(); i++) {
    out += "    partition " + std::to_string(i) + ": " +
           std::to_string(plan.partitions[i].files.size()) + " file(s), " +
           Bytes(plan.partitions[i].bytes) + "\n";
  }
  for (const auto& broadcast : plan.broadcasts) {
    out += "  broadcast source: '" + broadcast.name + "' (" + Bytes(broadcast.bytes) +
           (broadcast.delta_version >= 0
                ? ", Delta table at version " + std::to_string(broadcast.delta_version)
                : std::string()) +
           ")\n";
  }
  out += "  stages:\n";
  for (const auto& stage : plan.stages) {
    out += "    '" + stage.name + "': " + PlacementName(stage.where) +
           (stage.why.empty() ? "" : " (" + stage.why + ")") + "\n";
  }
  out += "  leaves the partitions: '" + plan.crossing + "'\n";
  switch (plan.output) {
    case OutputMode::kDirectory:
      out +=
          "  output: each partition writes its files of the destination directory; the "
          "driver publishes them at once with the directory's manifest\n";
      break;
    case OutputMode::kGather:
      out += "  output: the rows of '" + plan.crossing +
             "' are gathered; the driver runs the rest and writes the destination\n";
      break;
    case OutputMode::kDelta:
      out +=
          "  output: each partition writes Delta data files named after its attempt; the "
          "driver commits the accepted ones in one Delta commit (" +
          (plan.delta_create ? std::string("the first commit of the new table, by put-if-absent")
           : ReplacesTable(plan)
               ? "a replace of every file live at version " + std::to_string(plan.delta_version)
               : "an append read at version " + std::to_string(plan.delta_version)) +
          ")\n";
      break;
    case OutputMode::kAggregate:
      out += "  output: partial aggregates of '" + plan.crossing +
             "' are gathered; the driver runs the final step and the rest\n";
      out +=
          "  partial (per partition): " + plan.partition_pipeline.stages.back().back().query + "\n";
      out += "  final (driver): " + plan.final_sql_preview + "\n";
      break;
  }
  for (const auto& note : plan.notes) {
    out += "  note: " + note + "\n";
  }
  return out;
}

std::string TaskJson(const Plan& plan, size_t index, const std::string& staging_dir) {
  nlohmann::json task;
  task["partition"] = index;
  task["pipeline"] = nlohmann::json::parse(ToJson(plan.partition_pipeline));
  task["split_source"] = plan.split_source;
  task["split_root"] = plan.split_root;
  task["split_is_directory"] = plan.split_is_directory;
  task["split_is_delta"] = plan.split_kind == SplitKind::kDelta;
  task["files"] = plan.partitions[index].files;
  task["output_dir"] = staging_dir + "/attempts";
  if (plan.output == OutputMode::kDelta) {
    task["delta_version"] = plan.delta_version;
    task["delta_create"] = plan.delta_create;
  }
  return task.dump();
}

std::string PlanJson(const Plan& plan, const std::string& staging_dir) {
  nlohmann::json out;
  out["split_source"] = plan.split_source;
  out["crossing"] = plan.crossing;
  out["output"] = plan.output == OutputMode::kDirectory ? "directory"
                  : plan.output == OutputMode::kGather  ? "gather"
                  : plan.output == OutputMode::kDelta   ? "delta"
                                                        : "aggregate";
  out["staging"] = staging_dir;
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& stage : plan.stages) {
    stages.push_back(
        {{"name", stage.name}, {"where", PlacementName(stage.where)}, {"why", stage.why}});
  }
  out["stages"] = stages;
  nlohmann::json tasks = nlohmann::json::array();
  for (size_t i = 0; i < plan.partitions.size(); i++) {
    tasks.push_back({{"partition", i},
                     {"bytes", plan.partitions[i].bytes},
                     {"task", TaskJson(plan, i, staging_dir)}});
  }
  out["tasks"] = tasks;
  if (plan.output == OutputMode::kGather || plan.output == OutputMode::kAggregate) {
    out["driver_pipeline"] = nlohmann::json::parse(ToJson(plan.driver_pipeline));
  }
  out["partition_pipeline"] = nlohmann::json::parse(ToJson(plan.partition_pipeline));
  return out.dump(2);
}

}  // namespace aqueducts::distribute

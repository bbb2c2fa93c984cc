// RunTask (distribute/task.h).

#include "distribute/task.h"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "delta/connectors.h"
#include "delta/distributed_append.h"
#include "delta/log.h"
#include "delta/scan.h"
#include "engine/database_impl.h"
#include "engine/session.h"
#include "io/file_source.h"
#include "io/files.h"
#include "io/output_dir.h"
#include "runner/infer_schema.h"

namespace aqueducts::distribute {
namespace {

namespace fs = std::filesystem;

// Keeps the rows the destination reports.
class RowsSink : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override {
    if (event.type == ProgressEvent::Type::kDestinationCompleted) {
      std::lock_guard<std::mutex> lock(mu_);
      rows_ = event.rows;
    }
  }
  void OnOutput(const StageOutput&) override {}
  int64_t rows() {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_;
  }

 private:
  std::mutex mu_;
  int64_t rows_ = -1;
};

bool PlainId(const std::string& text) {
  if (text.empty() || text.size() > 64) {
    return false;
  }
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// A directory of links to the partition's files, laid out as under the split directory (so
// Hive `col=value/` path segments read the same).
Status LinkFiles(const std::vector<std::string>& files, const std::string& root,
                 const fs::path& into) {
  for (const auto& file : files) {
    fs::path relative = fs::path(file).lexically_relative(root);
    if (relative.empty() || *relative.begin() == "..") {
      return Status::InvalidArgument("'" + file + "' is not under '" + root + "'");
    }
    std::error_code error;
    fs::create_directories((into / relative).parent_path(), error);
    if (!error) {
      fs::create_symlink(file, into / relative, error);
    }
    if (error) {
      return Status::IoError("cannot link '" + file + "' into '" + into.string() +
                             "': " + error.message());
    }
  }
  return Status::OK();
}

// Make the partition's share of a Delta split source readable in `db` as a view named after the
// source: the live files `files` (as the log names them) of the snapshot at the version the
// driver pinned, read by the native Delta reader's scan (deletion vectors applied: the rows they
// delete are dropped). The source then becomes an in_memory source over that view.
Status ReadDeltaShare(Database& db, Source& source, const std::vector<std::string>& files) {
  const auto& table = std::get<DeltaSource>(source);
  if (!table.version) {
    return Status::InvalidArgument("the Delta split source '" + table.name +
                                   "' has no pinned version in the task description");
  }
  AQ_ASSIGN_OR_RETURN(std::string root, delta::TableRoot(table.location));
  AQ_ASSIGN_OR_RETURN(auto conn, engine::SessionOf(db).Connect());
  auto snapshot = delta::LoadSourceSnapshot(*conn, table, root);
  if (!snapshot.ok()) {
    return snapshot.status().WithPrefix("source '" + table.name +
                                        "': cannot read the Delta table '" + root +
                                        "' at version " + std::to_string(*table.version) + ": ");
  }
  std::map<std::string, const delta::FileAction*> live;
  for (const auto& file : snapshot->files) {
    live[file.path] = &file;
  }
  std::vector<const delta::FileAction*> share;
  for (const auto& path : files) {
    auto it = live.find(path);
    if (it == live.end()) {
      return Status::NotFound("source '" + table.name + "': '" + path +
                              "' is not a live file of the Delta table '" + root + "' at version " +
                              std::to_string(*table.version));
    }
    share.push_back(it->second);
  }
  auto sql = delta::BuildScanSql(*conn, *snapshot, share, false);
  if (!sql.ok()) {
    return sql.status().WithPrefix("source '" + table.name + "': ");
  }
  AQ_RETURN_IF_ERROR(
      conn->Execute("CREATE OR REPLACE VIEW " + engine::QuoteIdent(table.name) + " AS " + *sql));
  source = InMemorySource{table.name};
  return Status::OK();
}

// Make the partition's objects of an object-store directory source readable in `db` as a view
// named after the source (the source's own reader over exactly those objects, through the store
// its storage_config names); the source then becomes an in_memory source over that view.
Status ReadObjectShare(Database& db, Source& source, const std::vector<std::string>& files) {
  const auto& dir = std::get<DirSource>(source);
  std::string prefix = "source '" + dir.name + "': ";
  engine::Session& session = engine::SessionOf(db);
  AQ_RETURN_IF_ERROR(
      session.RegisterObjectStore(dir.location.url, dir.storage_config).WithPrefix(prefix));
  AQ_ASSIGN_OR_RETURN(auto conn, session.Connect());
  auto sql = io::DirSourceSqlOver(*conn, dir, files);
  if (!sql.ok()) {
    return sql.status().WithPrefix(prefix);
  }
  Status created =
      conn->Execute("CREATE OR REPLACE VIEW " + engine::QuoteIdent(dir.name) + " AS " + *sql);
  if (!created.ok()) {
    return created.WithPrefix(prefix);
  }
  source = InMemorySource{dir.name};
  return Status::OK();
}

constexpr char kPartitionRows[] = "__aq_partition_rows";

// The partition's rows (table kPartitionRows in `db`, `rows` of them) written as Delta data files
// for the table of `destination` at `version`, or (`create`) for the table it creates, under
// result->dir, named after the attempt. A new table without `schema` gets the columns of the
// partition's rows, as a local run infers them; result->delta_table says which table it was.
Status WriteDeltaPart(Database& db, DeltaDestination destination, int64_t version, bool create,
                      int64_t rows, TaskResult* result) {
  AQ_ASSIGN_OR_RETURN(auto conn, engine::SessionOf(db).Connect());
  std::string prefix = "destination '" + destination.name + "': ";
  if (create && destination.schema.empty()) {
    auto described = conn->Query("DESCRIBE SELECT * FROM " + engine::QuoteIdent(kPartitionRows));
    auto fields = described.ok() ? runner::FieldsOfDescribe(*described)
                                 : Result<std::vector<Field>>(described.status());
    if (!fields.ok()) {
      return fields.status().WithPrefix(
          prefix +
          "the table does not exist and `schema` is empty; inferring it from the partition's "
          "rows failed (write `schema` to pin the types): ");
    }
    destination.schema = *fields;
  }
  if (create) {
    auto table = delta::NewTableJson(destination);
    if (!table.ok()) {
      return table.status().WithPrefix(prefix);
    }
    result->delta_table = table->dump();
  }
  auto part = delta::WriteAppendPart(*conn, destination, create ? -1 : version,
                                     "SELECT * FROM " + engine::QuoteIdent(kPartitionRows),
                                     result->dir, result->attempt);
  (void)conn->Execute("DROP TABLE IF EXISTS " + engine::QuoteIdent(kPartitionRows));
  if (!part.ok()) {
    return part.status().WithPrefix(prefix);
  }
  if (part->rows != rows) {
    return Status::IoError(prefix + "the partition produced " + std::to_string(rows) +
                           " rows but its Delta files hold " + std::to_string(part->rows));
  }
  result->rows = part->rows;
  for (const auto& add : part->adds) {
    result->files.push_back(add.path);
    result->delta_adds.push_back(delta::AddActionJson(add).dump());
  }
  return Status::OK();
}

// The partition's stages are views that DuckDB runs only while the partition's output is
// written, so a stage's error (a failed cast, say) surfaces as the write's, naming the internal
// output. Name the stages streamed into it instead: the one, or the candidates.
Status NameStreamedStages(const Status& status, const Aqueduct& pipeline) {
  const std::string& message = status.message();
  size_t at = std::string::npos;
  for (const std::string& output : {std::string("partition output"), std::string(kPartitionRows)}) {
    std::string label = "destination '" + output + "'. ";
    if (size_t found = message.find(label); found != std::string::npos) {
      at = found + label.size();
      break;
    }
  }
  if (at == std::string::npos || status.code() == StatusCode::kCancelled) {
    return status;
  }
  std::vector<std::string> stages;
  for (const auto& group : pipeline.stages) {
    for (const auto& stage : group) {
      if (stage.name.rfind("__aq_", 0) != 0) {
        stages.push_back("'" + stage.name + "'");
      }
    }
  }
  if (stages.empty()) {
    return status;
  }
  std::string names = stages.back();
  if (stages.size() > 1) {
    names = stages[0];
    for (size_t i = 1; i + 1 < stages.size(); i++) {
      names += ", " + stages[i];
    }
    names += " or " + stages.back();
  }
  std::string where =
      stages.size() == 1
          ? "it runs per partition and streams into the partition's output, where DuckDB raised "
            "the error"
          : "they run per partition and stream into the partition's output, where DuckDB raised "
            "the error without saying which";
  return Status(status.code(),
                "stage " + names + " failed: " + message.substr(at) + " (" + where + ")");
}

// The JSON task description the driver hands to `aqueducts distribute-task` (built in plan.cc).
struct TaskSpec {
  size_t partition = 0;
  Aqueduct pipeline;
  std::vector<std::string> files;
  std::string split_source, split_root, output_dir;
  bool split_is_directory = false;
  bool split_is_delta = false;
  int64_t delta_version = -1;  // writes Delta data files for the table at this version
  bool delta_create = false;   // ... or for the table the destination creates
};

Result<TaskSpec> ParseTask(const std::string& task_json) {
  nlohmann::json task;
  try {
    task = nlohmann::json::parse(task_json);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the task description is not JSON: ") + e.what());
  }
  TaskSpec spec;
  try {
    spec.partition = task.at("partition").get<size_t>();
    spec.split_source = task.at("split_source").get<std::string>();
    spec.split_root = task.at("split_root").get<std::string>();
    spec.split_is_directory = task.at("split_is_directory").get<bool>();
    spec.split_is_delta = task.value("split_is_delta", false);
    spec.files = task.at("files").get<std::vector<std::string>>();
    spec.output_dir = task.at("output_dir").get<std::string>();
    spec.delta_version = task.value("delta_version", int64_t{-1});
    spec.delta_create = task.value("delta_create", false);
    LoadOptions load;
    load.substitute = false;  // the driver substituted the parameters already
    AQ_ASSIGN_OR_RETURN(spec.pipeline,
                        LoadAqueductFromString(task.at("pipeline").dump(), Format::kJson, {}, load,
                                               "the partition pipeline"));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the task description is incomplete: ") + e.what());
  }
  return spec;
}

// Points the split source at this partition's share: a Delta share or object-store objects
// become a view in *db (opened here), local files are linked into *inputs (a directory this
// task removes), a single file replaces the location.
Status PointAtShare(TaskSpec& spec, const std::string& attempt, const std::string& prefix,
                    std::unique_ptr<Database>* db, fs::path* inputs) {
  for (auto& source : spec.pipeline.sources) {
    if (SourceName(source) != spec.split_source) {
      continue;
    }
    if (spec.split_is_delta && std::holds_alternative<DeltaSource>(source)) {
      AQ_ASSIGN_OR_RETURN(*db, Database::Open());
      AQ_RETURN_IF_ERROR(ReadDeltaShare(**db, source, spec.files).WithPrefix(prefix));
    } else if (spec.split_is_directory && !std::get<DirSource>(source).location.IsLocal()) {
      AQ_ASSIGN_OR_RETURN(*db, Database::Open());
      AQ_RETURN_IF_ERROR(ReadObjectShare(**db, source, spec.files).WithPrefix(prefix));
    } else if (spec.split_is_directory) {
      std::error_code error;
      *inputs = fs::temp_directory_path(error) / ("aqueducts-partition-" + attempt);
      AQ_RETURN_IF_ERROR(LinkFiles(spec.files, spec.split_root, *inputs).WithPrefix(prefix));
      std::get<DirSource>(source).location = ParseLocation(inputs->string() + "/");
    } else if (spec.files.size() == 1) {
      std::get<FileSource>(source).location = ParseLocation(spec.files[0]);
    }
  }
  return Status::OK();
}

// Every output file's name gets the attempt id in front; the manifest goes (the driver writes
// the destination's own).
Status NameOutputsAfterAttempt(const std::string& attempt, TaskResult* result) {
  for (const auto& file : io::ListOutputFiles(result->dir)) {
    fs::path relative(file);
    fs::path renamed = relative.parent_path() / (attempt + "-" + relative.filename().string());
    AQ_RETURN_IF_ERROR(
        io::files::Rename(result->dir + "/" + file, result->dir + "/" + renamed.string()));
    result->files.push_back(renamed.generic_string());
  }
  (void)io::files::Remove(result->dir + "/" + io::kManifestName);
  return Status::OK();
}

}  // namespace

Result<TaskResult> RunTask(const std::string& task_json, const std::string& attempt) {
  if (!PlainId(attempt)) {
    return Status::InvalidArgument("--attempt must be letters and digits, not '" + attempt + "'");
  }
  AQ_ASSIGN_OR_RETURN(TaskSpec spec, ParseTask(task_json));
  Aqueduct& pipeline = spec.pipeline;
  TaskResult result;
  result.partition = spec.partition;
  std::string prefix = "partition " + std::to_string(result.partition) + ": ";
  std::unique_ptr<Database> db;  // a Delta or object-store share is a view in it
  fs::path inputs;
  AQ_RETURN_IF_ERROR(PointAtShare(spec, attempt, prefix, &db, &inputs));
  result.attempt = attempt;
  result.dir = spec.output_dir + "/" + attempt;
  std::optional<DeltaDestination> delta_destination;
  if (spec.delta_version >= 0 || spec.delta_create) {
    // The partition's rows stay in this task's database, then become Delta data files.
    const auto* table = std::get_if<DeltaDestination>(&*pipeline.destination);
    if (table == nullptr) {
      return Status::InvalidArgument(prefix +
                                     "the task writes Delta files but its pipeline's "
                                     "destination is not a Delta table");
    }
    delta_destination = *table;
    pipeline.destination = InMemoryDestination{kPartitionRows};
    if (!db) {
      AQ_ASSIGN_OR_RETURN(db, Database::Open());
    }
  } else {
    auto& destination = std::get<FileDestination>(*pipeline.destination);
    destination.location = ParseLocation(result.dir + "/");
  }

  RunOptions options;
  options.database = db.get();
  options.progress_interval_ms = 0;
  RowsSink sink;
  Status status = RunPipeline(pipeline, options, &sink);
  if (!inputs.empty()) {
    (void)io::files::RemoveTree(inputs.string());
  }
  if (status.ok() && delta_destination) {
    status = WriteDeltaPart(*db, *delta_destination, spec.delta_version, spec.delta_create,
                            sink.rows(), &result);
  }
  if (!status.ok()) {
    (void)io::files::RemoveTree(result.dir);
    return NameStreamedStages(status, pipeline).WithPrefix(prefix);
  }
  if (delta_destination) {
    return result;
  }
  result.rows = sink.rows();
  Status named = NameOutputsAfterAttempt(attempt, &result);
  if (!named.ok()) {
    (void)io::files::RemoveTree(result.dir);
    return named.WithPrefix(prefix);
  }
  return result;
}

std::string TaskResultJson(const TaskResult& result) {
  nlohmann::json out = {{"partition", result.partition},
                        {"attempt", result.attempt},
                        {"dir", result.dir},
                        {"files", result.files},
                        {"rows", result.rows}};
  if (!result.delta_adds.empty()) {
    nlohmann::json adds = nlohmann::json::array();
    for (const auto& add : result.delta_adds) {
      adds.push_back(nlohmann::json::parse(add));
    }
    out["delta_adds"] = adds;
  }
  if (!result.delta_table.empty()) {
    out["delta_table"] = nlohmann::json::parse(result.delta_table);
  }
  return out.dump();
}

Result<std::vector<TaskResult>> ParseTaskResults(const std::string& json) {
  std::vector<TaskResult> out;
  try {
    for (const auto& item : nlohmann::json::parse(json)) {
      TaskResult result;
      result.partition = item.at("partition").get<size_t>();
      result.attempt = item.at("attempt").get<std::string>();
      result.dir = item.at("dir").get<std::string>();
      result.files = item.at("files").get<std::vector<std::string>>();
      result.rows = item.at("rows").get<int64_t>();
      if (item.contains("delta_table")) {
        result.delta_table = item.at("delta_table").dump();
      }
      if (item.contains("delta_adds")) {
        for (const auto& add : item.at("delta_adds")) {
          result.delta_adds.push_back(add.dump());
        }
      }
      out.push_back(std::move(result));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the partitions' results are not readable: ") +
                                   e.what());
  }
  return out;
}

}  // namespace aqueducts::distribute

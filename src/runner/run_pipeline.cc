// RunPipeline (run.h): sources -> stage groups -> destination, with events.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "aqueducts/loader.h"
#include "aqueducts/locations.h"
#include "aqueducts/run.h"

#include "engine/custom_functions.h"
#include "engine/database_impl.h"
#include "engine/dialect_rewrite.h"
#include "engine/row_tap.h"
#include "engine/session.h"
#include "runner/endpoints.h"
#include "runner/infer_schema.h"
#include "runner/run_monitor.h"
#include "runner/stage_exec.h"
#include "runner/stage_plan.h"

namespace aqueducts {
namespace {

using engine::QuoteIdent;
using runner::Emitter;
using runner::RunMonitor;
using runner::StagePlan;
using Clock = std::chrono::steady_clock;

ProgressEvent Event(ProgressEvent::Type type, std::string name = {}) {
  ProgressEvent event;
  event.type = type;
  event.name = std::move(name);
  return event;
}

// One connection for each of `n` steps that run at the same time.
Result<std::vector<std::unique_ptr<engine::Connection>>> Connections(engine::Session& session,
                                                                     size_t n) {
  std::vector<std::unique_ptr<engine::Connection>> conns;
  for (size_t i = 0; i < n; i++) {
    AQ_ASSIGN_OR_RETURN(auto conn, session.Connect());
    conns.push_back(std::move(conn));
  }
  return conns;
}

// Run step(0) .. step(n - 1) at once: step 0 on the calling thread, the others on their own
// threads; returns when all have finished. `step` must not throw.
void RunConcurrently(size_t n, const std::function<void(size_t)>& step) {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; i++) {
    threads.emplace_back(step, i);
  }
  if (n > 0) {
    step(0);
  }
  for (auto& thread : threads) {
    thread.join();
  }
}

/// \brief The state of one run: its session, its objects and what to drop when.
class PipelineRun {
 public:
  PipelineRun(const Aqueduct& aqueduct, const RunOptions& options, ProgressSink* sink)
      : aqueduct_(aqueduct), options_(options), emitter_(sink), events_(emitter_) {}

  Status Run();

 private:
  Status Steps(engine::Session& session);
  Status RegisterSources(engine::Session& session);
  Status RunGroup(engine::Session& session, int position);
  Status WriteDestination(engine::Session& session, engine::Connection& conn);
  Result<Destination> InferredDestination(engine::Session& session, engine::Connection& conn,
                                          const Stage& last);
  void Drop(engine::Connection& conn, const std::string& name, bool is_table);
  void DropAfter(engine::Connection& conn, int position);
  void Cleanup(engine::Connection& conn, bool keep_results);
  connector::RunContext Context(engine::Session& session, engine::Connection& conn,
                                connector::StepProgress* step = nullptr) {
    return connector::RunContext(session, conn, options_.cancel.get(), &events_, step);
  }

  const Aqueduct& aqueduct_;
  const RunOptions& options_;
  Emitter emitter_;
  runner::EmitterSink events_;  // the connectors' view of emitter_
  std::vector<std::vector<StagePlan>> plan_;
  RunMonitor* monitor_ = nullptr;
  std::vector<std::string> source_objects_;  // views or tables
  std::map<std::string, bool> live_stages_;  // name -> is a table
  // A new Delta table without `schema`: created from the final stage's columns at write time.
  bool infer_schema_ = false;
};

Status PipelineRun::Run() {
  auto start = Clock::now();
  emitter_.Emit(Event(ProgressEvent::Type::kStarted));
  Status status = ValidateSql(aqueduct_).WithPrefix("", "aqueducts::stage::sql_parse_error");
  if (status.ok()) {
    status = ValidateLocations(aqueduct_);
  }
  std::unique_ptr<engine::Session> owned;
  engine::Session* session = nullptr;
  if (status.ok() && options_.database != nullptr) {
    session = &engine::SessionOf(*options_.database);
  } else if (status.ok()) {
    auto opened = engine::Session::Open(options_.database_options);
    status = opened.status();
    if (opened.ok()) {
      owned = std::move(opened).value();
      session = owned.get();
    }
  }
  if (status.ok()) {
    status = Steps(*session);
  }
  if (status.ok()) {
    ProgressEvent completed = Event(ProgressEvent::Type::kCompleted);
    completed.duration_ms = MillisSince(start);
    emitter_.Emit(completed);
    return status;
  }
  bool cancelled =
      status.code() == StatusCode::kCancelled || (options_.cancel && options_.cancel->cancelled());
  if (cancelled && status.code() != StatusCode::kCancelled) {
    status = Status::Cancelled("execution cancelled (" + status.message() + ")");
  }
  ProgressEvent failed =
      Event(cancelled ? ProgressEvent::Type::kCancelled : ProgressEvent::Type::kFailed);
  failed.message = status.message();
  failed.duration_ms = MillisSince(start);
  emitter_.Emit(failed);
  return status;
}

Status PipelineRun::Steps(engine::Session& session) {
  plan_ = runner::PlanStages(aqueduct_);
  AQ_ASSIGN_OR_RETURN(auto control, session.Connect());
  RunMonitor monitor(session, emitter_, options_.cancel, options_.progress_interval_ms);
  monitor_ = &monitor;
  Status status = [&]() -> Status {
    infer_schema_ = aqueduct_.destination && runner::NeedsInferredSchema(*aqueduct_.destination);
    if (aqueduct_.destination && !infer_schema_) {
      monitor.Add(DestinationName(*aqueduct_.destination), control.get());
      Status prepared =
          runner::PrepareDestination(Context(session, *control), *aqueduct_.destination);
      monitor.Remove(control.get());
      AQ_RETURN_IF_ERROR(prepared);
    }
    AQ_RETURN_IF_ERROR(RegisterSources(session));
    // The DataFusion functions the stages call (the original's SQL dialect), before any runs.
    std::vector<std::string> queries;
    for (const auto& group : aqueduct_.stages) {
      for (const auto& stage : group) {
        queries.push_back(stage.query);
      }
    }
    AQ_RETURN_IF_ERROR(engine::RegisterDataFusionFunctions(*control, queries));
    for (int p = 0; p < static_cast<int>(aqueduct_.stages.size()); p++) {
      AQ_RETURN_IF_ERROR(RunGroup(session, p));
      DropAfter(*control, p);
    }
    return WriteDestination(session, *control);
  }();
  // On the caller's database, leave only the documented results, and nothing of a
  // failed run.
  if (options_.database != nullptr) {
    Cleanup(*control, status.ok());
  }
  monitor_ = nullptr;
  return status;
}

// Sources register concurrently (an ODBC load or a Delta log replay can take a while),
// then, in declaration order, each is reported; the first failure in that order wins.
Status PipelineRun::RegisterSources(engine::Session& session) {
  const auto& sources = aqueduct_.sources;
  AQ_ASSIGN_OR_RETURN(auto conns, Connections(session, sources.size()));
  std::vector<Status> results(sources.size());
  auto register_one = [&](size_t i) {
    if (monitor_->cancelled()) {
      results[i] = Status::Cancelled();
      return;
    }
    try {
      monitor_->Add(SourceName(sources[i]), conns[i].get());
      runner::MonitoredStep step(*monitor_, conns[i].get());
      results[i] = runner::RegisterSource(Context(session, *conns[i], &step), sources[i]);
      // A source that counts the rows it loads (ODBC) ends with them, at 100 %.
      if (results[i].ok() && monitor_->ReportedRows(conns[i].get())) {
        monitor_->Finish(conns[i].get(), -1);
      }
    } catch (const std::exception& e) {
      results[i] = Status::Internal("source '" + SourceName(sources[i]) + "' failed: " + e.what());
    }
    monitor_->Remove(conns[i].get());
  };
  RunConcurrently(sources.size(), register_one);
  Status first_error;
  for (size_t i = 0; i < sources.size(); i++) {
    // Every source that did register is ours to clean up, even when another one failed.
    if (results[i].ok() && !std::holds_alternative<InMemorySource>(sources[i])) {
      source_objects_.push_back(SourceName(sources[i]));
    }
    if (!results[i].ok() && first_error.ok()) {
      first_error = results[i];
    }
    if (first_error.ok()) {
      emitter_.Emit(Event(ProgressEvent::Type::kSourceRegistered, SourceName(sources[i])));
    }
  }
  return first_error;
}

Status PipelineRun::RunGroup(engine::Session& session, int position) {
  if (monitor_->cancelled()) {
    return Status::Cancelled();
  }
  const auto& group = aqueduct_.stages[position];
  AQ_ASSIGN_OR_RETURN(auto conns, Connections(session, group.size()));
  std::vector<Status> results(group.size());
  // A failing stage stops its siblings. An interrupt reaches only a query that has started, so
  // a sibling that has not started yet checks `failed` first, and the failing stage repeats the
  // interrupt until every sibling has returned (one may be between its check and its start).
  std::atomic<bool> failed{false};
  std::atomic<size_t> running{group.size()};
  auto stop_siblings = [&](size_t s) {
    failed = true;
    running--;
    while (running.load() > 0) {
      for (size_t other = 0; other < conns.size(); other++) {
        if (other != s) {
          conns[other]->Interrupt();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  auto run_one = [&](size_t s) {
    if (failed.load()) {
      results[s] = Status::Cancelled();
      running--;
      return;
    }
    engine::RowTap tap;  // outlives the watch, also when the step throws
    const engine::RowTap* counted =
        options_.progress_interval_ms > 0 && plan_[position][s].materialise ? &tap : nullptr;
    try {
      monitor_->Add(group[s].name, conns[s].get(), counted);
      results[s] = runner::ExecuteStage(*conns[s], group[s], plan_[position][s], emitter_, counted,
                                        *monitor_, options_.preview_format);
      monitor_->Remove(conns[s].get());
    } catch (const std::exception& e) {
      monitor_->Remove(conns[s].get());
      results[s] = Status::Internal("stage '" + group[s].name + "' failed: " + e.what());
    }
    if (!results[s].ok() && results[s].code() != StatusCode::kCancelled) {
      stop_siblings(s);  // the run is lost: stop the siblings instead of waiting for them
    } else {
      running--;
    }
  };
  // The stages of one group run in parallel, each on its own connection.
  RunConcurrently(group.size(), run_one);
  for (size_t s = 0; s < group.size(); s++) {
    if (results[s].ok()) {
      live_stages_[group[s].name] = plan_[position][s].materialise;
    }
  }
  // The first real error, in declaration order, wins over the cancellations it caused.
  for (const auto& result : results) {
    if (!result.ok() && result.code() != StatusCode::kCancelled) {
      return result;
    }
  }
  for (const auto& result : results) {
    AQ_RETURN_IF_ERROR(result);
  }
  return Status::OK();
}

// Sources stream into the destination's query, so a bad value in a source file surfaces while
// writing. When the error text names a file or directory source's location, say which source it
// is (DuckDB names the file and line of a CSV error).
Status NameFailingSource(const Status& status, const std::vector<Source>& sources) {
  for (const auto& source : sources) {
    const Location* location = nullptr;
    if (const auto* file = std::get_if<FileSource>(&source)) {
      location = &file->location;
    } else if (const auto* dir = std::get_if<DirSource>(&source)) {
      location = &dir->location;
    }
    if (location == nullptr || !location->IsLocal()) {
      continue;
    }
    std::string path = location->LocalPath();
    while (path.size() > 1 && path.back() == '/') {
      path.pop_back();
    }
    if (!path.empty() && status.message().find(path) != std::string::npos) {
      return Status(status.code(),
                    status.message() + "\n(the value comes from source '" + SourceName(source) +
                        "', location '" + path + "')",
                    status.id());
    }
  }
  return status;
}

Status PipelineRun::WriteDestination(engine::Session& session, engine::Connection& conn) {
  if (!aqueduct_.destination || aqueduct_.stages.empty() || aqueduct_.stages.back().empty()) {
    ProgressEvent warn = Event(ProgressEvent::Type::kLog);
    warn.level = LogLevel::kWarn;
    warn.message = aqueduct_.destination
                       ? "No stage defined: nothing to write to the destination, skipping write"
                       : "No destination defined, skipping write";
    emitter_.Emit(warn);
    return Status::OK();
  }
  if (monitor_->cancelled()) {
    return Status::Cancelled();
  }
  const Stage& last = aqueduct_.stages.back().back();
  std::optional<Destination> inferred;
  if (infer_schema_) {
    AQ_ASSIGN_OR_RETURN(inferred, InferredDestination(session, conn, last));
  }
  const Destination& destination = inferred ? *inferred : *aqueduct_.destination;
  const std::string& name = DestinationName(destination);
  auto start = Clock::now();
  emitter_.Emit(Event(ProgressEvent::Type::kDestinationStarted, name));
  // The tap counts the rows the writer reads from the last stage: the "rows" of the live line
  // (not wanted, so not paid for, when progress is off).
  engine::RowTap tap;
  std::string relation = "SELECT * FROM " + QuoteIdent(last.name);
  bool counted = options_.progress_interval_ms > 0;
  monitor_->Add(name, &conn, counted ? &tap : nullptr, /*uploads=*/true);
  runner::MonitoredStep step(*monitor_, &conn);
  Result<connector::WriteStats> stats = Status::Internal("the write did not run");
  try {
    stats = runner::WriteDestination(Context(session, conn, &step), destination,
                                     counted ? tap.Wrap(relation) : relation);
  } catch (const std::exception& e) {
    stats = Status::Internal("destination '" + name + "' failed: " + e.what());
  }
  if (stats.ok()) {
    monitor_->Finish(&conn, stats->rows);
  }
  monitor_->Remove(&conn);
  if (!stats.ok()) {
    return NameFailingSource(stats.status(), aqueduct_.sources);
  }
  DropAfter(conn, static_cast<int>(aqueduct_.stages.size()));
  ProgressEvent completed = Event(ProgressEvent::Type::kDestinationCompleted, name);
  completed.rows = stats->rows;
  completed.bytes = stats->bytes;
  completed.duration_ms = MillisSince(start);
  emitter_.Emit(completed);
  return Status::OK();
}

// The Delta destination with the columns of `last` as its schema, the table created with them.
Result<Destination> PipelineRun::InferredDestination(engine::Session& session,
                                                     engine::Connection& conn, const Stage& last) {
  DeltaDestination delta = std::get<DeltaDestination>(*aqueduct_.destination);
  auto fail = [&](const Status& status) {
    return status.WithPrefix("Delta destination '" + delta.name +
                                 "': the table does not exist and `schema` is empty; inferring "
                                 "it from stage '" +
                                 last.name + "' failed (write `schema` to pin the types): ",
                             "aqueducts::destination::delta_error");
  };
  auto described = conn.Query("DESCRIBE SELECT * FROM " + QuoteIdent(last.name));
  if (!described.ok()) {
    return fail(described.status());
  }
  auto fields = runner::FieldsOfDescribe(*described);
  if (!fields.ok()) {
    return fail(fields.status());
  }
  delta.schema = *fields;
  ProgressEvent note = Event(ProgressEvent::Type::kLog);
  note.level = LogLevel::kDebug;
  note.message = "Delta destination '" + delta.name + "' does not exist: creating it with the " +
                 "columns of stage '" + last.name + "'; to pin them, add to the destination:\n" +
                 runner::SchemaYaml(delta.schema);
  emitter_.Emit(note);
  Destination destination(std::in_place_type<DeltaDestination>, std::move(delta));
  AQ_RETURN_IF_ERROR(runner::PrepareDestination(Context(session, conn), destination));
  return destination;
}

void PipelineRun::Drop(engine::Connection& conn, const std::string& name, bool is_table) {
  // Best effort: a failed drop only costs memory, never the run's result.
  (void)conn.Execute(std::string(is_table ? "DROP TABLE IF EXISTS " : "DROP VIEW IF EXISTS ") +
                     QuoteIdent(name));
}

void PipelineRun::DropAfter(engine::Connection& conn, int position) {
  for (size_t p = 0; p < plan_.size(); p++) {
    for (size_t s = 0; s < plan_[p].size(); s++) {
      if (plan_[p][s].drop_after != position) {
        continue;
      }
      const std::string& name = aqueduct_.stages[p][s].name;
      auto it = live_stages_.find(name);
      if (it != live_stages_.end()) {
        Drop(conn, name, it->second);
        live_stages_.erase(it);
      }
    }
  }
}

void PipelineRun::Cleanup(engine::Connection& conn, bool keep_results) {
  std::map<std::string, bool> keep;
  for (size_t p = 0; p < plan_.size(); p++) {
    for (size_t s = 0; s < plan_[p].size(); s++) {
      if (keep_results && plan_[p][s].drop_after < 0) {
        keep[aqueduct_.stages[p][s].name] = true;
      }
    }
  }
  for (const auto& [name, is_table] : live_stages_) {
    if (!keep.count(name)) {
      Drop(conn, name, is_table);
    }
  }
  for (const auto& name : source_objects_) {
    if (keep.count(name)) {
      continue;  // replaced by a kept stage of the same name
    }
    // File sources are views; the ODBC and Delta hooks may make tables: try both kinds.
    if (!conn.Execute("DROP VIEW IF EXISTS " + QuoteIdent(name)).ok()) {
      Drop(conn, name, true);
    }
  }
}

}  // namespace

Status RunPipeline(const Aqueduct& aqueduct, const RunOptions& options, ProgressSink* sink) {
  // Remember the pipeline's credentials (connection-string passwords, URL passwords) so a
  // driver that echoes one alone is redacted too.
  RegisterSecretsIn(ToJson(aqueduct));
  try {
    // DataFusion forms DuckDB would read with another meaning (engine/dialect_rewrite.h).
    std::optional<Aqueduct> rewritten;
    for (size_t g = 0; g < aqueduct.stages.size(); g++) {
      for (size_t s = 0; s < aqueduct.stages[g].size(); s++) {
        std::string sql = engine::RewriteDataFusionSql(aqueduct.stages[g][s].query);
        if (sql != aqueduct.stages[g][s].query) {
          if (!rewritten) {
            rewritten = aqueduct;
          }
          rewritten->stages[g][s].query = std::move(sql);
        }
      }
    }
    PipelineRun run(rewritten ? *rewritten : aqueduct, options, sink);
    return run.Run();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected error while running the pipeline: ") +
                            e.what());
  }
}

}  // namespace aqueducts

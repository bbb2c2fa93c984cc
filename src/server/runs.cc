#include "server/runs.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

#include "protocol/sse.h"

namespace aqueducts::server {

using json = nlohmann::json;

bool IsFinalState(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "cancelled" || state == "lost";
}

Result<std::map<std::string, std::string>> ParseLabels(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("Invalid label '" + item + "': expected key=value");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

namespace {

std::string WorkFrame(const std::string& event, const json& data) {
  return protocol::FormatSse(event, data.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string JoinBusy(const std::vector<std::string>& busy) {
  std::string out;
  for (const auto& b : busy) {
    out += (out.empty() ? "" : ", ") + b;
  }
  return out;
}

}  // namespace

RunManager::RunManager(Store* store, Log* log, Options options)
    : store_(store), log_(log), options_(options) {
  Result<std::vector<ExecutorRecord>> known = store_->ListExecutors();
  if (known.ok()) {
    for (const auto& e : *known) {
      Link& link = links_[e.name];
      json labels = json::parse(e.labels_json, nullptr, false);
      if (labels.is_object()) {
        for (const auto& [k, v] : labels.items()) {
          if (v.is_string()) {
            link.beat.labels[k] = v.get<std::string>();
          }
        }
      }
    }
  }
  // Runs a previous server process assigned (Store::MarkUnfinishedRunsLost(true) left them):
  // their executor keeps running them and resends their events; it claims them in its first
  // heartbeat. One that does not reconnect within 3 heartbeat intervals loses them (TickLocked).
  auto deadline = std::chrono::steady_clock::now() + options_.heartbeat_interval * 3;
  for (const char* state : {"dispatched", "running"}) {
    RunFilter filter;
    filter.state = state;
    filter.limit = 1000000;
    Result<std::vector<Run>> assigned = store_->ListRuns(filter);
    if (!assigned.ok()) {
      continue;
    }
    for (const auto& r : *assigned) {
      Link& link = links_[r.executor_name];
      link.current_run = r.id;
      link.started = r.state == "running";
      reclaim_[r.id] = deadline;
    }
  }
  scheduler_ = std::thread([this] { SchedulerLoop(); });
}

RunManager::~RunManager() {
  Shutdown();
}

void RunManager::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  {
    std::lock_guard<std::mutex> lock(change_mu_);
    change_stop_ = true;
    ++generation_;
  }
  cv_.notify_all();
  if (scheduler_.joinable()) {
    scheduler_.join();
  }
}

bool RunManager::stopping() {
  std::lock_guard<std::mutex> lock(change_mu_);
  return change_stop_;
}

uint64_t RunManager::generation() {
  std::lock_guard<std::mutex> lock(change_mu_);
  return generation_;
}

void RunManager::WaitForChange(uint64_t seen_generation, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(change_mu_);
  cv_.wait_for(lock, timeout, [&] { return generation_ != seen_generation || change_stop_; });
}

void RunManager::NotifyLocked() {
  {
    std::lock_guard<std::mutex> lock(change_mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void RunManager::Record(int64_t run_id, const std::string& event, const std::string& data) {
  Result<int64_t> seq = store_->AppendEvent(run_id, event, data);
  if (!seq.ok()) {
    log_->Error("cannot store a run event",
                {{"run_id", std::to_string(run_id)}, {"error", seq.status().message()}});
  }
  NotifyLocked();
}

void RunManager::SetState(int64_t run_id, const std::string& state, const std::string& reason,
                          const std::string& executor_name) {
  // The event first: a reader that sees a final state has every event already stored.
  Record(run_id, "run_state", json{{"state", state}, {"reason", reason}}.dump());
  Status s = store_->SetRunState(run_id, state, reason, executor_name);
  if (options_.metrics != nullptr) {
    options_.metrics->OnState(run_id, state);
  }
  if (!s.ok()) {
    log_->Error("cannot store a run state",
                {{"run_id", std::to_string(run_id)}, {"error", s.message()}});
  }
  NotifyLocked();
  log_->Info("run " + state, {{"run_id", std::to_string(run_id)}, {"reason", reason}});
}

Result<Run> RunManager::Trigger(int64_t pipeline_id, int version,
                                const std::map<std::string, std::string>& params,
                                const RunTarget& target, const std::string& created_by) {
  AQ_ASSIGN_OR_RETURN(PipelineVersion pipeline, store_->GetPipeline(pipeline_id, version));
  Format format = pipeline.format == "json"   ? Format::kJson
                  : pipeline.format == "toml" ? Format::kToml
                                              : Format::kYaml;
  AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct,
                      LoadAqueductFromString(pipeline.text, format, params, {}, pipeline.name));
  Run run;
  run.pipeline_id = pipeline.pipeline_id;
  run.pipeline_version = pipeline.version;
  run.parameters_json = json(params).dump();
  run.pipeline_json = ToJson(aqueduct);
  run.target_executor = target.executor;
  run.target_label = target.label;
  run.created_by = created_by;
  return Enqueue(run);
}

Result<Run> RunManager::TriggerInline(const std::string& pipeline_json, const RunTarget& target,
                                      const std::string& created_by) {
  LoadOptions load_options;
  load_options.substitute = false;  // the client templated it; `${...}` left is the user's text
  AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct, LoadAqueductFromString(pipeline_json, Format::kJson, {},
                                                                load_options, "pipeline"));
  Run run;
  run.parameters_json = "{}";
  run.pipeline_json = ToJson(aqueduct);
  run.target_executor = target.executor;
  run.target_label = target.label;
  run.created_by = created_by;
  return Enqueue(run);
}

Result<Run> RunManager::Rerun(int64_t id, const std::string& created_by) {
  AQ_ASSIGN_OR_RETURN(Run old, store_->GetRun(id));
  if (!IsFinalState(old.state)) {
    return Status::Conflict("Run " + std::to_string(id) + " is still " + old.state +
                            ": only a finished run can be re-run");
  }
  if (old.pipeline_json.empty()) {
    return Status::Conflict("Run " + std::to_string(id) +
                            " was made by an older server that did not keep its pipeline");
  }
  Run run;
  run.pipeline_id = old.pipeline_id;
  run.pipeline_version = old.pipeline_version;
  run.parameters_json = old.parameters_json;
  run.pipeline_json = old.pipeline_json;
  run.target_executor = old.target_executor;
  run.target_label = old.target_label;
  run.rerun_of = old.id;
  run.created_by = created_by;
  return Enqueue(run);
}

Result<Run> RunManager::Enqueue(Run run) {
  run.state = "queued";
  run.reason = "waiting: looking for an executor";
  AQ_ASSIGN_OR_RETURN(Run stored, store_->CreateRun(run));
  if (options_.metrics != nullptr) {
    options_.metrics->OnQueued(stored.id);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    return Status::Unsupported("The server is shutting down");
  }
  Record(stored.id, "run_state", json{{"state", stored.state}, {"reason", stored.reason}}.dump());
  if (stored.rerun_of != 0) {
    Record(stored.id, "log",
           json{{"level", "info"},
                {"message",
                 "re-run of run " + std::to_string(stored.rerun_of) + " by " + stored.created_by}}
               .dump());
  }
  queued_.push_back(stored);
  waiting_why_[stored.id] = stored.reason;
  dirty_ = true;
  work_cv_.notify_all();
  return stored;
}

Result<Run> RunManager::Cancel(int64_t id, const std::string& by) {
  std::unique_lock<std::mutex> lock(mu_);
  AQ_ASSIGN_OR_RETURN(Run run, store_->GetRun(id));
  if (IsFinalState(run.state)) {
    return Status::Conflict("Run " + std::to_string(id) + " has already finished (" + run.state +
                            ")");
  }
  auto queued =
      std::find_if(queued_.begin(), queued_.end(), [id](const Run& r) { return r.id == id; });
  if (queued != queued_.end()) {
    queued_.erase(queued);
    waiting_why_.erase(id);
    SetState(id, "cancelled", "cancelled by " + by + " before it was dispatched");
    return store_->GetRun(id);
  }
  cancelling_[id] = by;
  auto it = links_.find(run.executor_name);
  if (it != links_.end()) {
    it->second.outbox.push_back(WorkFrame("cancel", {{"run_id", id}}));
    work_cv_.notify_all();
  }
  SetState(
      id, run.state,
      "cancelling: asked executor " + run.executor_name + " to cancel (requested by " + by + ")");
  return store_->GetRun(id);
}

void RunManager::OnEnrolled(const std::string& name, const std::map<std::string, std::string>& l) {
  std::lock_guard<std::mutex> lock(mu_);
  links_[name].beat.labels = l;
  dirty_ = true;
  work_cv_.notify_all();
}

void RunManager::OnHeartbeat(const std::string& name, const Heartbeat& beat) {
  std::lock_guard<std::mutex> lock(mu_);
  Link& link = links_[name];
  if (link.beat.labels != beat.labels) {
    (void)store_->SetExecutorLabels(name, json(beat.labels).dump());
  }
  link.beat = beat;
  link.ever_beat = true;
  link.last_beat = std::chrono::steady_clock::now();
  link.last_beat_utc = NowUtc();
  if (!link.online) {
    link.online = true;
    log_->Info("executor online", {{"executor", name}});
  }
  // A run assigned before the server restarted, claimed by its executor: it goes on.
  if (auto r = reclaim_.find(link.current_run);
      r != reclaim_.end() &&
      std::find(beat.runs.begin(), beat.runs.end(), link.current_run) != beat.runs.end()) {
    reclaim_.erase(r);
    log_->Info("run reclaimed after a server restart",
               {{"run_id", std::to_string(link.current_run)}, {"executor", name}});
  }
  // An executor that started the current run but no longer holds it has restarted.
  if (link.current_run != 0 && link.started &&
      std::find(beat.runs.begin(), beat.runs.end(), link.current_run) == beat.runs.end()) {
    int64_t run_id = link.current_run;
    link.current_run = 0;
    cancelling_.erase(run_id);
    SetState(run_id, "lost",
             "executor " + name +
                 " no longer has the run (it restarted); it is not re-run automatically "
                 "(POST /api/v1/runs/" +
                 std::to_string(run_id) + "/rerun starts it again)");
  }
  dirty_ = true;
  work_cv_.notify_all();
}

Result<int64_t> RunManager::OnEvents(const std::string& name, int64_t run_id,
                                     const std::vector<SequencedEvent>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  AQ_ASSIGN_OR_RETURN(Run run, store_->GetRun(run_id));
  if (run.executor_name != name) {
    return Status::InvalidArgument("Run " + std::to_string(run_id) + " was not sent to executor " +
                                   name);
  }
  std::vector<SequencedEvent> stored;
  AQ_ASSIGN_OR_RETURN(int64_t acked, store_->AppendExecutorEvents(run_id, events, &stored));
  if (!stored.empty()) {
    NotifyLocked();
  }
  Link& link = links_[name];
  std::string state = run.state;
  for (const auto& e : stored) {
    if (IsFinalState(state)) {
      break;  // e.g. lost: later events are kept as history, the state stays
    }
    json d = json::parse(e.data, nullptr, false);
    std::string message = d.is_object() && d.contains("message") && d["message"].is_string()
                              ? d["message"].get<std::string>()
                              : "";
    std::string final_state;
    if (e.event == "started") {
      if (link.current_run == run_id) {
        link.started = true;
      }
      if (d.is_object() && d.contains("execution_id") && d["execution_id"].is_string()) {
        (void)store_->SetExecutionId(run_id, d["execution_id"].get<std::string>());
      }
      state = "running";
      auto c = cancelling_.find(run_id);
      SetState(run_id, state,
               c == cancelling_.end() ? "running on executor " + name
                                      : "cancelling: asked executor " + name +
                                            " to cancel (requested by " + c->second + ")");
    } else if (e.event == "completed") {
      final_state = "succeeded";
      message = "completed on executor " + name;
    } else if (e.event == "failed") {
      final_state = "failed";
      message = message.empty() ? "failed on executor " + name : message;
    } else if (e.event == "cancelled") {
      final_state = "cancelled";
      auto c = cancelling_.find(run_id);
      message = (c != cancelling_.end() ? "cancelled by " + c->second + ": " : "") +
                (message.empty() ? "cancelled on executor " + name : message);
    }
    if (!final_state.empty()) {
      state = final_state;
      cancelling_.erase(run_id);
      if (link.current_run == run_id) {
        link.current_run = 0;
        link.started = false;
      }
      SetState(run_id, final_state, message);
      dirty_ = true;
      work_cv_.notify_all();
    }
  }
  return acked;
}

uint64_t RunManager::OpenWorkStream(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Link& link = links_[name];
  uint64_t generation = next_stream_generation_++;
  link.stream_generation = generation;
  link.outbox.clear();
  // Whatever the previous stream may have lost: the executor ignores a run it already has.
  if (link.current_run != 0) {
    if (!link.started) {
      Result<Run> run = store_->GetRun(link.current_run);
      if (run.ok()) {
        link.outbox.push_back(
            WorkFrame("run", {{"run_id", run->id}, {"pipeline", json::parse(run->pipeline_json)}}));
      }
    }
    if (cancelling_.count(link.current_run) > 0) {
      link.outbox.push_back(WorkFrame("cancel", {{"run_id", link.current_run}}));
    }
  }
  log_->Info("executor work stream open", {{"executor", name}});
  dirty_ = true;
  work_cv_.notify_all();
  return generation;
}

std::optional<std::string> RunManager::NextWork(const std::string& name, uint64_t generation,
                                                std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  Link& link = links_[name];
  work_cv_.wait_for(lock, wait, [&] {
    return stopping_ || link.stream_generation != generation || !link.outbox.empty();
  });
  if (stopping_ || link.stream_generation != generation) {
    return std::nullopt;
  }
  if (link.outbox.empty()) {
    return std::string();
  }
  std::string frame = std::move(link.outbox.front());
  link.outbox.pop_front();
  return frame;
}

void RunManager::CloseWorkStream(const std::string& name, uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  Link& link = links_[name];
  if (link.stream_generation == generation) {
    link.stream_generation = 0;
    log_->Info("executor work stream closed", {{"executor", name}});
  }
}

std::vector<ExecutorView> RunManager::Executors() {
  Result<std::vector<ExecutorRecord>> records = store_->ListExecutors();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ExecutorView> out;
  if (!records.ok()) {
    return out;
  }
  for (const auto& r : *records) {
    ExecutorView v;
    v.name = r.name;
    v.registered_at = r.registered_at;
    auto it = links_.find(r.name);
    if (it != links_.end()) {
      const Link& link = it->second;
      v.labels = link.beat.labels;
      v.online = link.online;
      v.connected = link.stream_generation != 0;
      v.last_heartbeat = link.last_beat_utc;
      v.version = link.beat.version;
      v.memory_limit_bytes = link.beat.memory_limit_bytes;
      v.queue = link.beat.queue;
      v.current_run = link.current_run;
    }
    v.status = !v.online ? "offline" : v.current_run != 0 ? "busy" : "idle";
    out.push_back(v);
  }
  return out;
}

void RunManager::SchedulerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    work_cv_.wait_for(lock, options_.tick, [this] { return stopping_ || dirty_; });
    if (stopping_) {
      return;
    }
    dirty_ = false;
    TickLocked();
  }
}

void RunManager::TickLocked() {
  auto now = std::chrono::steady_clock::now();
  auto offline_after = options_.heartbeat_interval * 3;
  for (auto& [name, link] : links_) {
    if (!link.online || now - link.last_beat < offline_after) {
      continue;
    }
    link.online = false;
    log_->Warn("executor offline: missed 3 heartbeats",
               {{"executor", name}, {"last_heartbeat", link.last_beat_utc}});
    if (link.current_run != 0) {
      int64_t run_id = link.current_run;
      link.current_run = 0;
      link.started = false;
      cancelling_.erase(run_id);
      SetState(run_id, "lost",
               "executor " + name + " missed 3 heartbeats (the last at " + link.last_beat_utc +
                   "); the run is not re-run automatically (POST /api/v1/runs/" +
                   std::to_string(run_id) + "/rerun starts it again)");
    }
  }
  for (auto r = reclaim_.begin(); r != reclaim_.end();) {
    if (now < r->second) {
      ++r;
      continue;
    }
    int64_t run_id = r->first;
    r = reclaim_.erase(r);
    for (auto& [name, link] : links_) {
      if (link.current_run != run_id || link.online) {
        continue;  // finished meanwhile, or its executor is back (the usual rules apply)
      }
      link.current_run = 0;
      link.started = false;
      SetState(run_id, "lost",
               "the server restarted while the run was assigned to executor " + name +
                   ", which did not reconnect within 3 heartbeat intervals; the run is not "
                   "re-run automatically (POST /api/v1/runs/" +
                   std::to_string(run_id) + "/rerun starts it again)");
    }
  }
  for (auto it = queued_.begin(); it != queued_.end();) {
    std::string chosen;
    std::string why = Place(*it, &chosen);
    if (!chosen.empty()) {
      int64_t id = it->id;
      it = queued_.erase(it);
      waiting_why_.erase(id);
      DispatchLocked(id, chosen, links_[chosen]);
      continue;
    }
    if (waiting_why_[it->id] != why) {
      waiting_why_[it->id] = why;
      SetState(it->id, "queued", why);
    }
    ++it;
  }
}

std::string RunManager::Place(const Run& r, std::string* chosen) {
  if (!r.target_executor.empty()) {
    auto it = links_.find(r.target_executor);
    if (it == links_.end()) {
      return "waiting: no executor named " + r.target_executor + " is registered";
    }
    const Link& link = it->second;
    if (!link.online) {
      return "waiting: executor " + r.target_executor + " is offline" +
             (link.ever_beat ? " (last heartbeat " + link.last_beat_utc + ")"
                             : " (no heartbeat since the server started)");
    }
    if (link.stream_generation == 0) {
      return "waiting: executor " + r.target_executor + " is reconnecting its work stream";
    }
    if (link.current_run != 0) {
      return "waiting: executor " + r.target_executor + " is busy with run " +
             std::to_string(link.current_run);
    }
    *chosen = r.target_executor;
    return "";
  }
  std::string key;
  std::string value;
  if (!r.target_label.empty()) {
    size_t eq = r.target_label.find('=');
    key = r.target_label.substr(0, eq);
    value = eq == std::string::npos ? "" : r.target_label.substr(eq + 1);
  }
  std::vector<std::string> busy;
  for (const auto& [name, link] : links_) {
    if (!key.empty()) {
      auto l = link.beat.labels.find(key);
      if (l == link.beat.labels.end() || l->second != value) {
        continue;
      }
    }
    if (!link.online || link.stream_generation == 0) {
      continue;
    }
    if (link.current_run != 0) {
      busy.push_back(name + " with run " + std::to_string(link.current_run));
      continue;
    }
    *chosen = name;
    return "";
  }
  if (key.empty()) {
    return busy.empty() ? "waiting: no executor is online"
                        : "waiting: every online executor is busy (" + JoinBusy(busy) + ")";
  }
  return busy.empty() ? "waiting: no online executor has label " + r.target_label
                      : "waiting: every online executor with label " + r.target_label +
                            " is busy (" + JoinBusy(busy) + ")";
}

void RunManager::DispatchLocked(int64_t run_id, const std::string& name, Link& link) {
  Result<Run> run = store_->GetRun(run_id);
  if (!run.ok()) {
    return;
  }
  json pipeline = json::parse(run->pipeline_json, nullptr, false);
  link.current_run = run_id;
  link.started = false;
  link.outbox.push_back(WorkFrame("run", {{"run_id", run_id}, {"pipeline", pipeline}}));
  SetState(run_id, "dispatched", "sent to executor " + name, name);
  work_cv_.notify_all();
}

}  // namespace aqueducts::server

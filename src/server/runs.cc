#include "server/runs.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

#include "protocol/sse.h"

namespace aqueducts::server {

using json = nlohmann::json;

bool IsFinalState(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "cancelled" || state == "lost";
}

RunManager::RunManager(Store* store, Log* log, std::string executor_url,
                       std::string executor_api_key)
    : store_(store),
      log_(log),
      executor_url_(std::move(executor_url)),
      executor_api_key_(std::move(executor_api_key)) {}

RunManager::~RunManager() {
  Shutdown();
}

void RunManager::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) {
    t.join();
  }
}

uint64_t RunManager::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void RunManager::WaitForChange(uint64_t seen_generation, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return generation_ != seen_generation || stopping_; });
}

void RunManager::Record(int64_t run_id, const std::string& event, const std::string& data) {
  Result<int64_t> seq = store_->AppendEvent(run_id, event, data);
  if (!seq.ok()) {
    log_->Error("cannot store a run event",
                {{"run_id", std::to_string(run_id)}, {"error", seq.status().message()}});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void RunManager::SetState(int64_t run_id, const std::string& state, const std::string& reason,
                          const std::string& execution_id) {
  // The event first: a reader that sees a final state has every event already stored.
  Record(run_id, "run_state", json{{"state", state}, {"reason", reason}}.dump());
  Status s = store_->SetRunState(run_id, state, reason, execution_id);
  if (!s.ok()) {
    log_->Error("cannot store a run state",
                {{"run_id", std::to_string(run_id)}, {"error", s.message()}});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
  log_->Info("run " + state, {{"run_id", std::to_string(run_id)}, {"reason", reason}});
}

Result<Run> RunManager::Trigger(int64_t pipeline_id, int version,
                                const std::map<std::string, std::string>& params,
                                const std::string& created_by) {
  if (executor_url_.empty()) {
    return Status::Unsupported(
        "No executor is configured: start the server with --executor-url and "
        "--executor-api-key");
  }
  AQ_ASSIGN_OR_RETURN(PipelineVersion pipeline, store_->GetPipeline(pipeline_id, version));
  Format format = pipeline.format == "json"   ? Format::kJson
                  : pipeline.format == "toml" ? Format::kToml
                                              : Format::kYaml;
  AQ_ASSIGN_OR_RETURN(Aqueduct aqueduct,
                      LoadAqueductFromString(pipeline.text, format, params, {}, pipeline.name));
  json body{{"pipeline", json::parse(ToJson(aqueduct))}};
  Run run;
  run.pipeline_id = pipeline.pipeline_id;
  run.pipeline_version = pipeline.version;
  run.parameters_json = json(params).dump();
  run.executor_url = executor_url_;
  run.state = "queued";
  run.reason = "waiting: sending the pipeline to executor " + executor_url_;
  run.created_by = created_by;
  AQ_ASSIGN_OR_RETURN(Run stored, store_->CreateRun(run));
  Record(stored.id, "run_state", json{{"state", stored.state}, {"reason", stored.reason}}.dump());
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    return Status::Unsupported("The server is shutting down");
  }
  threads_.emplace_back([this, stored, b = body.dump()] { Dispatch(stored, b); });
  return stored;
}

void RunManager::Dispatch(Run run, std::string body) {
  httplib::Client client(executor_url_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(60, 0);  // the executor sends a keepalive comment every 500 ms
  protocol::SseParser parser;
  int status = 0;
  std::string error_body;
  std::string final_event;
  std::string final_message;
  bool stopped = false;
  httplib::Request req;
  req.method = "POST";
  req.path = "/api/executions";
  req.headers = {{"X-API-Key", executor_api_key_}};
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    if (status == 200) {
      SetState(run.id, "dispatched", "accepted by executor " + executor_url_,
               res.get_header_value("X-Execution-Id"));
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        stopped = true;
        return false;
      }
    }
    if (status != 200) {
      if (error_body.size() < 65536)
        error_body.append(data, size);
      return true;
    }
    for (auto& m : parser.Feed(std::string_view(data, size))) {
      Record(run.id, m.event, m.data);
      json d = json::parse(m.data, nullptr, false);
      std::string message = d.is_object() ? d.value("message", "") : "";
      if (m.event == "started") {
        SetState(run.id, "running", "running on executor " + executor_url_);
      } else if (m.event == "queued") {
        int position = d.is_object() ? d.value("position", 0) : 0;
        SetState(run.id, "dispatched",
                 "waiting: executor " + executor_url_ + " has " + std::to_string(position) +
                     " execution(s) ahead of this run");
      } else if (m.event == "completed" || m.event == "failed" || m.event == "cancelled") {
        final_event = m.event;
        final_message = message;
      }
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  client.send(req, res, error);
  if (final_event == "completed") {
    SetState(run.id, "succeeded", final_message.empty() ? "completed" : final_message);
  } else if (final_event == "failed") {
    SetState(run.id, "failed", final_message);
  } else if (final_event == "cancelled") {
    SetState(run.id, "cancelled", final_message);
  } else if (stopped) {
    SetState(run.id, "lost",
             "the server shut down during the run (the executor cancels a run whose client "
             "disconnects); it is not re-run automatically");
  } else if (status != 0 && status != 200) {
    if (error_body.empty())
      error_body = res.body;
    json e = json::parse(error_body, nullptr, false);
    std::string msg = e.is_object() && e.contains("error") && e["error"].is_string()
                          ? e["error"].get<std::string>()
                          : error_body;
    SetState(run.id, "failed",
             "executor " + executor_url_ + " refused the run (HTTP " + std::to_string(status) +
                 "): " + msg);
  } else if (status == 0) {
    SetState(run.id, "failed",
             "cannot reach executor " + executor_url_ + ": " + httplib::to_string(error));
  } else {
    SetState(run.id, "lost",
             "the event stream from executor " + executor_url_ + " ended without a final event (" +
                 httplib::to_string(error) + "); it is not re-run automatically");
  }
}

}  // namespace aqueducts::server

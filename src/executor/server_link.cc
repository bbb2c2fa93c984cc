#include "executor/server_link.h"

#include <algorithm>
#include <deque>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "protocol/events.h"
#include "protocol/sse.h"

namespace aqueducts::executor {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kFirstBackoff = std::chrono::milliseconds(200);
constexpr auto kMaxBackoff = std::chrono::milliseconds(10000);
// Unsent run events get this long after Stop() before the executor exits without them.
constexpr auto kStopGrace = std::chrono::seconds(5);
// Events posted in one request at most.
constexpr size_t kBatch = 256;

std::chrono::milliseconds Next(std::chrono::milliseconds d) {
  return std::min(d * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kMaxBackoff));
}

std::string ErrorOf(const httplib::Result& res) {
  if (!res) {
    switch (res.error()) {
      case httplib::Error::SSLServerVerification:
        return "the server's TLS certificate is not trusted (SSLServerVerification): pass "
               "--server-ca-cert FILE with the certificate of the CA that signed it, or the "
               "server's self-signed certificate itself";
      case httplib::Error::SSLConnection:
        return "the TLS handshake failed (SSLConnection): does the server serve https at "
               "that port?";
      default:
        return httplib::to_string(res.error());
    }
  }
  json doc = json::parse(res->body, nullptr, false);
  std::string message = doc.is_object() && doc.contains("error") && doc["error"].is_string()
                            ? doc["error"].get<std::string>()
                            : res->body.substr(0, 300);
  return "HTTP " + std::to_string(res->status) + ": " + message;
}

}  // namespace

struct SequencedFrame {
  int64_t seq = 0;
  std::string event;
  std::string data;
};

struct ServerLink::Outgoing {
  int64_t run_id = 0;
  std::shared_ptr<Execution> execution;  ///< null: only `pending` (a run refused at once)
  std::deque<SequencedFrame> pending;
  int64_t next_seq = 1;
};

ServerLink::ServerLink(ServerLinkOptions options, ExecutionManager* manager, Logger* logger)
    : options_(std::move(options)), manager_(manager), logger_(logger) {}

ServerLink::~ServerLink() {
  Stop();
  if (heartbeat_.joinable()) {
    heartbeat_.join();
  }
  for (auto& t : forwarders_) {
    if (t.joinable()) {
      t.join();
    }
  }
}

void ServerLink::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stopping_) {
    stopping_ = true;
    stop_deadline_ = Clock::now() + kStopGrace;
  }
  cv_.notify_all();
}

bool ServerLink::Pause(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

std::string ServerLink::Credential() {
  std::lock_guard<std::mutex> lock(mu_);
  return credential_;
}

namespace {

std::unique_ptr<httplib::Client> MakeClient(const ServerLinkOptions& options, int read_timeout_s) {
  auto client = std::make_unique<httplib::Client>(options.server_url);
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(read_timeout_s, 0);
  client->set_write_timeout(10, 0);
  if (!options.ca_cert.empty()) {
    client->set_ca_cert_path(options.ca_cert);
  }
  return client;
}

}  // namespace

ServerLink::Enrolment ServerLink::Enrol(std::string* error) {
  auto client = MakeClient(options_, 10);
  json body{{"name", options_.name}, {"labels", options_.labels}, {"version", AQ_VERSION}};
  auto res = client->Post("/api/v1/executors/register",
                          {{"Authorization", "Bearer " + options_.registration_token}}, body.dump(),
                          "application/json");
  if (res && res->status == 201) {
    json doc = json::parse(res->body, nullptr, false);
    if (doc.is_object() && doc.contains("credential") && doc["credential"].is_string()) {
      std::lock_guard<std::mutex> lock(mu_);
      credential_ = doc["credential"];
      if (doc.contains("heartbeat_interval_ms") && doc["heartbeat_interval_ms"].is_number()) {
        heartbeat_interval_ = std::chrono::milliseconds(
            std::max<int64_t>(50, doc["heartbeat_interval_ms"].get<int64_t>()));
      }
      return Enrolment::kOk;
    }
  }
  *error = ErrorOf(res);
  // A refusal the server means (bad token, taken name, bad request) is final, and so is a
  // certificate this executor does not trust (only its flags can fix that); anything else
  // (unreachable, restarting, overloaded) is retried.
  bool refused = (res && res->status >= 400 && res->status < 500 && res->status != 408 &&
                  res->status != 429) ||
                 (!res && res.error() == httplib::Error::SSLServerVerification);
  return refused ? Enrolment::kRefused : Enrolment::kRetry;
}

Status ServerLink::EnrolWithRetry() {
  auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
  while (true) {
    std::string error;
    switch (Enrol(&error)) {
      case Enrolment::kOk:
        logger_->Lifecycle(
            "registered", {{"server_url", options_.server_url},
                           {"executor_id", options_.name},
                           {"heartbeat_interval_ms", std::to_string(heartbeat_interval_.count())}});
        return Status::OK();
      case Enrolment::kRefused:
        return Status::InvalidArgument("Cannot register executor '" + options_.name +
                                       "' with the server at " + options_.server_url + ": " +
                                       error);
      case Enrolment::kRetry:
        logger_->Warn("cannot register with the server; retrying",
                      {{"server_url", options_.server_url},
                       {"error", error},
                       {"retry_in_ms", std::to_string(backoff.count())}});
        if (!Pause(backoff)) {
          return Status::Cancelled("stopped");
        }
        backoff = Next(backoff);
    }
  }
}

Status ServerLink::Run() {
  Status enrolled = EnrolWithRetry();
  if (!enrolled.ok()) {
    return enrolled.code() == StatusCode::kCancelled ? Status::OK() : enrolled;
  }
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
  Status result;
  auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        break;
      }
    }
    auto started = Clock::now();
    int status = ReadWork();
    if (status == 401) {
      // The credential was replaced (the executor re-registered elsewhere) or removed.
      Status again = EnrolWithRetry();
      if (!again.ok()) {
        if (again.code() != StatusCode::kCancelled) {
          result = again;
        }
        Stop();
        break;
      }
    }
    if (Clock::now() - started > std::chrono::seconds(5)) {
      backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        break;
      }
    }
    logger_->Warn(
        "work stream from the server ended; reconnecting",
        {{"status", std::to_string(status)}, {"retry_in_ms", std::to_string(backoff.count())}});
    Pause(backoff);
    backoff = Next(backoff);
  }
  heartbeat_.join();
  std::vector<std::thread> forwarders;
  {
    std::lock_guard<std::mutex> lock(mu_);
    forwarders.swap(forwarders_);
  }
  for (auto& t : forwarders) {
    t.join();
  }
  return result;
}

int ServerLink::ReadWork() {
  // The server sends a keepalive every second: a long silence means the connection is gone.
  auto client = MakeClient(options_, 30);
  protocol::SseParser parser;
  int status = 0;
  httplib::Request req;
  req.method = "GET";
  req.path = "/api/v1/executor/work";
  req.headers = {{"Authorization", "Bearer " + Credential()}, {"Accept", "text/event-stream"}};
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    if (status == 200) {
      logger_->Info("work stream open", {{"server_url", options_.server_url}});
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        return false;
      }
    }
    if (status != 200) {
      return true;
    }
    for (const auto& m : parser.Feed(std::string_view(data, size))) {
      OnWork(m.event, m.data);
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  client->send(req, res, error);
  return status;
}

void ServerLink::OnWork(const std::string& event, const std::string& data) {
  json doc = json::parse(data, nullptr, false);
  if (!doc.is_object() || !doc.contains("run_id") || !doc["run_id"].is_number_integer()) {
    logger_->Warn("ignoring a malformed work message", {{"event", event}});
    return;
  }
  int64_t run_id = doc["run_id"];
  if (event == "run") {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!seen_.insert(run_id).second) {
        return;  // sent again after a reconnect: it is here already
      }
    }
    StartRun(run_id, doc.contains("pipeline") ? doc["pipeline"].dump() : "null");
  } else if (event == "cancel") {
    std::string execution_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = active_.find(run_id);
      if (it == active_.end()) {
        return;
      }
      execution_id = it->second;
    }
    logger_->Info("server asks to cancel run", {{"run_id", std::to_string(run_id)}});
    if (!execution_id.empty()) {
      manager_->Cancel(execution_id);
    }
  }
}

void ServerLink::StartRun(int64_t run_id, const std::string& pipeline_json) {
  auto out = std::make_shared<Outgoing>();
  out->run_id = run_id;
  LoadOptions load_options;
  load_options.substitute = false;  // templated by the server
  Result<Aqueduct> aqueduct =
      LoadAqueductFromString(pipeline_json, Format::kJson, {}, load_options, "pipeline");
  Status valid = aqueduct.ok() ? ValidateSql(*aqueduct) : aqueduct.status();
  Result<std::shared_ptr<Execution>> execution =
      valid.ok() ? manager_->Submit(std::move(aqueduct).value()) : valid;
  if (execution.ok()) {
    out->execution = *execution;
  } else {
    const Status& s = execution.status();
    std::string message = valid.ok() ? s.message() : "Invalid pipeline: " + s.message();
    logger_->Warn("run refused", {{"run_id", std::to_string(run_id)}, {"error", message}});
    protocol::SseMessage m = protocol::EncodeFailed("", message, StatusCodeName(s.code()), s.id());
    out->pending.push_back({out->next_seq++, m.event, m.data});
  }
  logger_->Info("run received", {{"run_id", std::to_string(run_id)},
                                 {"execution_id", out->execution ? out->execution->id : ""}});
  std::lock_guard<std::mutex> lock(mu_);
  active_[run_id] = out->execution ? out->execution->id : "";
  forwarders_.emplace_back([this, out] { Forward(out); });
}

void ServerLink::Forward(std::shared_ptr<Outgoing> out) {
  protocol::SseParser parser;
  bool closed = out->execution == nullptr;
  auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
  auto client = MakeClient(options_, 10);
  std::string path = "/api/v1/executor/runs/" + std::to_string(out->run_id) + "/events";
  while (true) {
    // Take what the run produced (waiting a little when there is nothing to send).
    while (!closed && out->pending.size() < kBatch) {
      std::string frame;
      auto next =
          out->execution->stream->Pop(&frame, out->pending.empty() ? std::chrono::milliseconds(500)
                                                                   : std::chrono::milliseconds(0));
      if (next == EventStream::Next::kClosed) {
        closed = true;
      } else if (next == EventStream::Next::kIdle) {
        break;
      } else {
        for (auto& m : parser.Feed(frame)) {
          out->pending.push_back({out->next_seq++, m.event, m.data});
        }
      }
    }
    if (closed && out->pending.empty()) {
      break;
    }
    if (out->pending.empty()) {
      continue;
    }
    json events = json::array();
    for (size_t i = 0; i < out->pending.size() && i < kBatch; ++i) {
      const auto& e = out->pending[i];
      events.push_back({{"seq", e.seq}, {"event", e.event}, {"data", e.data}});
    }
    auto res =
        client->Post(path, {{"Authorization", "Bearer " + Credential()}},
                     json{{"events", events}}.dump(-1, ' ', false, json::error_handler_t::replace),
                     "application/json");
    json doc = res && res->status == 200 ? json::parse(res->body, nullptr, false) : json();
    if (doc.is_object() && doc.contains("acked") && doc["acked"].is_number_integer()) {
      int64_t acked = doc["acked"];
      while (!out->pending.empty() && out->pending.front().seq <= acked) {
        out->pending.pop_front();
      }
      backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
      continue;
    }
    if (res && res->status == 409) {
      // The server does not consider this run ours (any more): nothing to deliver it to.
      logger_->Warn("server refused the events of a run; dropping them",
                    {{"run_id", std::to_string(out->run_id)}, {"error", ErrorOf(res)}});
      break;
    }
    logger_->Warn("cannot post run events; retrying",
                  {{"run_id", std::to_string(out->run_id)},
                   {"error", ErrorOf(res)},
                   {"retry_in_ms", std::to_string(backoff.count())}});
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, backoff);
      if (stopping_ && Clock::now() > stop_deadline_) {
        logger_->Error("stopping with run events not delivered to the server",
                       {{"run_id", std::to_string(out->run_id)},
                        {"events", std::to_string(out->pending.size())}});
        break;
      }
    }
    backoff = Next(backoff);
    client = MakeClient(options_, 10);
  }
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(out->run_id);
}

void ServerLink::HeartbeatLoop() {
  while (true) {
    ExecutionManager::Snapshot snapshot = manager_->GetSnapshot();
    json runs = json::array();
    std::chrono::milliseconds interval;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        return;
      }
      for (const auto& [id, execution] : active_) {
        runs.push_back(id);
      }
      interval = heartbeat_interval_;
    }
    json body{{"version", AQ_VERSION},
              {"labels", options_.labels},
              {"memory_limit_bytes", options_.memory_limit_bytes},
              {"status", snapshot.current_id.empty() ? "idle" : "busy"},
              {"queue", snapshot.queued_ids.size()},
              {"runs", runs}};
    auto client =
        MakeClient(options_, std::max<int>(1, static_cast<int>(interval.count() / 1000) + 1));
    auto res =
        client->Post("/api/v1/executor/heartbeat", {{"Authorization", "Bearer " + Credential()}},
                     body.dump(), "application/json");
    if (res && res->status == 200) {
      json doc = json::parse(res->body, nullptr, false);
      if (doc.is_object() && doc.contains("heartbeat_interval_ms") &&
          doc["heartbeat_interval_ms"].is_number_integer()) {
        std::lock_guard<std::mutex> lock(mu_);
        heartbeat_interval_ = std::chrono::milliseconds(
            std::max<int64_t>(50, doc["heartbeat_interval_ms"].get<int64_t>()));
      }
    } else {
      logger_->Warn("heartbeat failed", {{"error", ErrorOf(res)}});
    }
    if (!Pause(interval)) {
      return;
    }
  }
}

}  // namespace aqueducts::executor

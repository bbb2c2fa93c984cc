#include "cli/remote_client.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"

#include "common/uuid.h"
#include "protocol/events.h"
#include "protocol/sse.h"

namespace aqueducts::cli {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A cancel the executor does not confirm within this time drops the connection instead.
constexpr auto kCancelGrace = std::chrono::seconds(10);

// "scheme://host:port" for httplib from what a user typed; `default_port` when neither a scheme
// nor a port was given.
std::string BaseUrl(const std::string& executor, const char* default_port) {
  std::string url = executor;
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  bool has_scheme = url.find("://") != std::string::npos;
  size_t host_start = has_scheme ? url.find("://") + 3 : 0;
  size_t slash = url.find('/', host_start);
  if (slash != std::string::npos) {
    url.resize(slash);
  }
  std::string host_port = url.substr(host_start);
  bool has_port = host_port.find(':') != std::string::npos && host_port.back() != ']';
  if (!has_scheme) {
    return "http://" + host_port + (has_port ? "" : std::string(":") + default_port);
  }
  return url;
}

// A client of the executor, or with `server` of the aqueducts-server (default port 3030).
std::unique_ptr<httplib::Client> MakeClient(const RemoteOptions& options, bool server = false) {
  auto client = std::make_unique<httplib::Client>(server ? BaseUrl(options.server, "3030")
                                                         : BaseUrl(options.executor, "3031"));
  client->set_connection_timeout(5, 0);
  // The executor sends a keepalive every ~0.5 s: a long silence means the connection is gone.
  client->set_read_timeout(30, 0);
  client->set_write_timeout(30, 0);
  if (!options.ca_cert.empty()) {
    client->set_ca_cert_path(options.ca_cert);
  }
  client->enable_server_certificate_verification(!options.insecure);
  return client;
}

httplib::Headers AuthHeaders(const RemoteOptions& options) {
  return {{"X-API-Key", options.api_key}};
}

// `what` is "executor" or "server"; `address` what the user gave for it.
Status ConnectionError(const std::string& what, const std::string& address, httplib::Error error) {
  std::string hint;
  if (error == httplib::Error::SSLServerVerification) {
    hint =
        " (its TLS certificate is not trusted: pass --ca-cert FILE with the certificate of "
        "the CA that signed it, or the self-signed certificate itself; --insecure skips the "
        "check)";
  } else if (error == httplib::Error::SSLConnection) {
    hint = " (the TLS handshake failed: does the " + what + " serve https at that port?)";
  } else if (error == httplib::Error::Connection) {
    hint = " (connection failed: is the " + what + " running, and are host and port right?)";
  }
  return Status::IoError("Cannot reach " + what + " at '" + address +
                         "': " + httplib::to_string(error) + hint);
}

Status ConnectionError(const RemoteOptions& options, httplib::Error error) {
  return ConnectionError("executor", options.executor, error);
}

// The `error` of a JSON error body, else the body itself.
std::string ErrorMessage(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
    return doc["error"].get<std::string>();
  }
  return body.empty() ? "(no message)" : body.substr(0, 500);
}

Status HttpError(int status, const std::string& body) {
  std::string message = ErrorMessage(body);
  switch (status) {
    case 401:
      return Status::InvalidArgument("Executor refused the API key: " + message);
    case 400:
      return Status::InvalidArgument("Executor rejected the pipeline: " + message);
    case 413:
      return Status::InvalidArgument("Pipeline too large for the executor: " + message);
    case 429:
      return Status::ExecutionError("Executor is busy: " + message);
    default:
      return Status::ExecutionError("Executor answered HTTP " + std::to_string(status) + ": " +
                                    message);
  }
}

// The JSON object an executor answered with; a connection or HTTP error, or a body that is not a
// JSON object, as a Status naming the executor.
Result<json> JsonAnswer(const RemoteOptions& options, const httplib::Result& res) {
  if (!res) {
    return ConnectionError(options, res.error());
  }
  if (res->status != 200) {
    return HttpError(res->status, res->body);
  }
  json doc = json::parse(res->body, nullptr, false);
  if (!doc.is_object()) {
    return Status::IoError(
        "Executor '" + options.executor +
        "' sent an answer that is not a JSON object: " + res->body.substr(0, 200));
  }
  return doc;
}

ProgressEvent LogEvent(const std::string& message) {
  ProgressEvent event;
  event.type = ProgressEvent::Type::kLog;
  event.level = LogLevel::kInfo;
  event.message = message;
  return event;
}

// The state of one remote run, fed by the SSE messages as they arrive.
class RemoteRun {
 public:
  /// `cancel_fn` asks the other end to cancel (given the execution id, maybe empty); false
  /// when it could not.
  RemoteRun(const RemoteOptions& options, ProgressSink& sink, std::string peer,
            std::function<bool(const std::string&)> cancel_fn)
      : options_(options), sink_(sink), peer_(std::move(peer)), cancel_fn_(std::move(cancel_fn)) {}

  // Handle a chunk of the response body; false stops reading (drops the connection).
  bool OnBytes(const char* data, size_t size) {
    for (const auto& message : parser_.Feed(std::string_view(data, size))) {
      Handle(message);
    }
    return MaybeCancel();
  }

  // Shared with the CancelToken callback, which may outlive this object by a moment.
  std::shared_ptr<std::atomic<bool>> cancel_flag() const { return cancel_requested_; }

  Status Outcome(int http_status, const std::string& error_body, const httplib::Error& error) {
    if (final_) {
      return *final_;
    }
    if (http_status != 200 && http_status > 0) {
      return HttpError(http_status, error_body);
    }
    if (*cancel_requested_) {
      return Status::Cancelled("Execution cancelled");
    }
    if (error != httplib::Error::Success && http_status <= 0) {
      return options_.server.empty() ? ConnectionError(options_, error)
                                     : ConnectionError("server", options_.server, error);
    }
    return Status::IoError("Lost connection to " + peer_ + " before the execution finished");
  }

 private:
  // A server's `run_state` event: its reason as a log line when it changes; a final state
  // decides the outcome when the executor's own final event did not (lost, refused...).
  void HandleRunState(const std::string& data) {
    json d = json::parse(data, nullptr, false);
    if (!d.is_object() || !d.contains("state") || !d["state"].is_string()) {
      return;
    }
    std::string state = d["state"];
    std::string reason = d.contains("reason") && d["reason"].is_string() ? d["reason"] : "";
    if (state + reason != last_state_) {
      last_state_ = state + reason;
      sink_.OnEvent(LogEvent("Run " + state + (reason.empty() ? "" : ": " + reason)));
    }
    if (final_) {
      return;
    }
    if (state == "succeeded") {
      final_ = Status::OK();
    } else if (state == "failed") {
      final_ = Status::ExecutionError(reason.empty() ? "Pipeline execution failed" : reason);
    } else if (state == "cancelled") {
      final_ = Status::Cancelled(reason.empty() ? "Execution cancelled" : reason);
    } else if (state == "lost") {
      final_ = Status::ExecutionError("The run was lost: " + reason);
    }
  }

  void Handle(const protocol::SseMessage& message) {
    if (message.event == "run_state") {
      HandleRunState(message.data);
      return;
    }
    auto decoded = protocol::Decode(message);
    if (!decoded.ok()) {
      return;  // A garbled event is skipped; the final event decides the outcome.
    }
    const protocol::DecodedMessage& m = *decoded;
    if (!m.execution_id.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      execution_id_ = m.execution_id;
    }
    using Kind = protocol::DecodedMessage::Kind;
    switch (m.kind) {
      case Kind::kQueued:
        if (m.position != last_position_) {
          last_position_ = m.position;
          sink_.OnEvent(LogEvent(
              "Pipeline is queued for execution (position: " + std::to_string(m.position) + ")"));
        }
        return;
      case Kind::kOutputChunk:
        if (auto output = assembler_.Add(m.chunk)) {
          sink_.OnOutput(*output);
        }
        return;
      case Kind::kEvent:
        HandleEvent(m.event, m.execution_id, m.failure);
        return;
      case Kind::kProgress:
      case Kind::kUnknown:
        return;  // The renderer derives its own progress from the events.
    }
  }

  void HandleEvent(const ProgressEvent& event, const std::string& id, const Status& failure) {
    using T = ProgressEvent::Type;
    if (event.type == T::kStarted) {
      sink_.OnEvent(LogEvent("Pipeline execution started on remote executor (ID: " + id + ")"));
    }
    sink_.OnEvent(event);
    if (event.type == T::kCompleted) {
      final_ = Status::OK();
    } else if (event.type == T::kFailed) {
      // The executor's code and catalogue id, so the failure prints as it does locally.
      final_ = failure.ok() ? Status::ExecutionError("Pipeline execution failed") : failure;
    } else if (event.type == T::kCancelled) {
      final_ = Status::Cancelled(event.message.empty() ? "Execution cancelled" : event.message);
    }
  }

  // On a requested cancel: ask the executor once; if that is impossible or unanswered, drop the
  // connection, which makes the executor cancel too.
  bool MaybeCancel() {
    if (!*cancel_requested_ || final_) {
      return true;
    }
    if (!cancel_sent_at_) {
      cancel_sent_at_ = Clock::now();
      std::string id;
      {
        std::lock_guard<std::mutex> lock(mu_);
        id = execution_id_;
      }
      return cancel_fn_(id);
    }
    return Clock::now() - *cancel_sent_at_ < kCancelGrace;
  }

  const RemoteOptions& options_;
  ProgressSink& sink_;
  std::string peer_;
  std::function<bool(const std::string&)> cancel_fn_;
  std::string last_state_;
  protocol::SseParser parser_;
  protocol::OutputAssembler assembler_;
  std::mutex mu_;
  std::string execution_id_;
  int last_position_ = -1;
  std::optional<Status> final_;
  std::shared_ptr<std::atomic<bool>> cancel_requested_ = std::make_shared<std::atomic<bool>>(false);
  std::optional<Clock::time_point> cancel_sent_at_;
};

}  // namespace

Status RunRemote(const RemoteOptions& options, const Aqueduct& aqueduct, ProgressSink& sink,
                 std::shared_ptr<CancelToken> cancel) {
  auto client = MakeClient(options);
  RemoteRun run(
      options, sink, "executor '" + options.executor + "'",
      [&options](const std::string& id) { return !id.empty() && RemoteCancel(options, id).ok(); });
  int callback_id = -1;
  if (cancel) {
    callback_id = cancel->OnCancel([flag = run.cancel_flag()] { *flag = true; });
  }
  sink.OnEvent(LogEvent("Submitting pipeline to remote executor: " + options.executor));

  httplib::Request req;
  req.method = "POST";
  req.path = "/api/executions";
  req.headers = AuthHeaders(options);
  req.headers.emplace("Accept", "text/event-stream");
  req.headers.emplace("Content-Type", "application/json");
  // "output_format" is sent only when it is not the table, which executors before it render.
  req.body = "{\"pipeline\":" + ToJson(aqueduct) +
             (options.preview != PreviewFormat::kTable
                  ? std::string(",\"output_format\":\"") + PreviewFormatName(options.preview) + "\""
                  : std::string()) +
             "}";
  int http_status = 0;
  std::string error_body;
  req.response_handler = [&http_status](const httplib::Response& res) {
    http_status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (http_status != 200) {
      error_body.append(data, size);
      return true;
    }
    return run.OnBytes(data, size);
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  client->send(req, res, error);
  if (cancel) {
    cancel->RemoveCallback(callback_id);
  }
  if (error_body.empty() && http_status != 200) {
    error_body = res.body;
  }
  return run.Outcome(http_status, error_body, error);
}

Status RunOnServer(const RemoteOptions& options, const Aqueduct& aqueduct, ProgressSink& sink,
                   std::shared_ptr<CancelToken> cancel) {
  auto client = MakeClient(options, /*server=*/true);
  httplib::Headers auth = {{"Authorization", "Bearer " + options.token}};
  json body{{"pipeline", json::parse(ToJson(aqueduct))}};
  if (!options.executor.empty()) {
    body["executor"] = options.executor;
  }
  if (!options.label.empty()) {
    body["label"] = options.label;
  }
  sink.OnEvent(LogEvent("Submitting pipeline to server: " + options.server));
  auto res = client->Post("/api/v1/runs", auth, body.dump(), "application/json");
  if (!res) {
    return ConnectionError("server", options.server, res.error());
  }
  if (res->status != 201) {
    std::string message = ErrorMessage(res->body);
    if (res->status == 401 || res->status == 403) {
      return Status::InvalidArgument("Server refused the token: " + message);
    }
    if (res->status == 400 || res->status == 422 || res->status == 413) {
      return Status::InvalidArgument("Server rejected the run: " + message);
    }
    return Status::ExecutionError("Server answered HTTP " + std::to_string(res->status) + ": " +
                                  message);
  }
  json created = json::parse(res->body, nullptr, false);
  if (!created.is_object() || !created.contains("id") || !created["id"].is_number_integer()) {
    return Status::IoError("Server sent an answer without a run id: " + res->body.substr(0, 200));
  }
  std::string run_path = "/api/v1/runs/" + std::to_string(created["id"].get<int64_t>());
  sink.OnEvent(LogEvent("Run " + std::to_string(created["id"].get<int64_t>()) + " created on " +
                        options.server));
  RemoteRun run(options, sink, "server '" + options.server + "'",
                [&options, &auth, &run_path](const std::string&) {
                  auto c = MakeClient(options, /*server=*/true);
                  auto r = c->Post(run_path + "/cancel", auth, "", "application/json");
                  return r && (r->status == 200 || r->status == 409);
                });
  int callback_id = -1;
  if (cancel) {
    callback_id = cancel->OnCancel([flag = run.cancel_flag()] { *flag = true; });
  }
  int http_status = 0;
  std::string error_body;
  httplib::Request req;
  req.method = "GET";
  req.path = run_path + "/events";
  req.headers = auth;
  req.headers.emplace("Accept", "text/event-stream");
  req.response_handler = [&http_status](const httplib::Response& r) {
    http_status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (http_status != 200) {
      error_body.append(data, size);
      return true;
    }
    return run.OnBytes(data, size);
  };
  httplib::Response events;
  httplib::Error error = httplib::Error::Success;
  client->send(req, events, error);
  if (cancel) {
    cancel->RemoveCallback(callback_id);
  }
  return run.Outcome(http_status, error_body, error);
}

Result<std::string> RemoteStatus(const RemoteOptions& options) {
  auto client = MakeClient(options);
  AQ_ASSIGN_OR_RETURN(json doc,
                      JsonAnswer(options, client->Get("/api/status", AuthHeaders(options))));
  std::string text = "Executor " + doc.value("executor_id", std::string("?")) + " (version " +
                     doc.value("version", std::string("?")) + ") at " + options.executor + ": " +
                     doc.value("status", std::string("?"));
  const json& current = doc["current_execution"];
  if (current.is_object()) {
    double seconds = current.value("running_time", 0.0);
    text += "\nRunning: " + current.value("execution_id", std::string("?")) + " (for " +
            std::to_string(static_cast<int64_t>(seconds)) + " s)";
  }
  const json& queue = doc["queue"];
  size_t waiting = queue.is_array() ? queue.size() : 0;
  text += "\nQueue: " + std::to_string(waiting) + " waiting";
  for (size_t i = 0; i < waiting; ++i) {
    if (queue[i].is_object()) {
      text += "\n  " + std::to_string(i) + ": " + queue[i].value("execution_id", std::string());
    }
  }
  return text;
}

Result<std::string> RemoteCancel(const RemoteOptions& options, const std::string& id) {
  if (!IsUuid(id)) {
    return Status::InvalidArgument("Invalid execution ID: " + id + ". Must be a valid UUID.");
  }
  auto client = MakeClient(options);
  AQ_ASSIGN_OR_RETURN(
      json doc, JsonAnswer(options, client->Post("/api/executions/" + id + "/cancel",
                                                 AuthHeaders(options), "", "application/json")));
  std::string status = doc.value("status", std::string());
  std::string message = doc.value("message", std::string());
  if (status == "not_found") {
    return Status::NotFound("Failed to cancel execution: " + message);
  }
  return message.empty() ? status : message;
}

}  // namespace aqueducts::cli

#include "executor/http_server.h"

#include <algorithm>
#include <atomic>
#include <exception>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "aqueducts/loader.h"
#include "aqueducts/run.h"

#include "executor/guarded_server.h"
#include "protocol/sse.h"

namespace aqueducts::executor {
namespace {

using json = nlohmann::json;

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, json{{"error", message}});
}

std::string ErrorFor(int status, const httplib::Request& req, size_t max_body_bytes) {
  switch (status) {
    case 400:
      return "Bad request: the HTTP request could not be parsed";
    case 404:
      return "Not found: " + req.method + " " + req.path;
    case 405:
      return "Method not allowed: " + req.method + " " + req.path;
    case 413:
      return "Request body too large: the limit is " + std::to_string(max_body_bytes) +
             " bytes (executor flag --max-body-mb)";
    case 414:
      return "Request URI too long";
    case 431:
      return "Request headers too large";
    default:
      return "HTTP error " + std::to_string(status);
  }
}

// Pipelines nest a few levels deep; anything much deeper is hostile, and serialising it again
// would recurse once per level.
constexpr int kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in `text`, brackets inside strings ignored.
int JsonDepth(const std::string& text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

struct Submission {
  Aqueduct aqueduct;
  PreviewFormat preview = PreviewFormat::kTable;
};

// Parse and validate the body of POST /api/executions; errors are user-facing 400 messages.
Result<Submission> ParseSubmission(const std::string& body) {
  if (JsonDepth(body) > kMaxJsonDepth) {
    return Status::InvalidArgument("Request body nests arrays/objects deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::InvalidArgument("Request body is not valid JSON");
  }
  if (!doc.is_object()) {
    return Status::InvalidArgument(R"(Request body must be a JSON object {"pipeline": {...}})");
  }
  auto it = doc.find("pipeline");
  if (it == doc.end()) {
    return Status::InvalidArgument(R"(Request body has no "pipeline" field)");
  }
  if (!it->is_object()) {
    return Status::InvalidArgument(R"(Field "pipeline" must be a JSON object (the pipeline), )"
                                   "not " +
                                   std::string(it->type_name()));
  }
  Submission submission;
  if (auto format = doc.find("output_format"); format != doc.end()) {
    if (!format->is_string() ||
        !ParsePreviewFormat(format->get<std::string>(), &submission.preview)) {
      return Status::InvalidArgument(
          R"(Field "output_format" must be "table", "csv" or "json", not )" + format->dump());
    }
  }
  LoadOptions load_options;
  // The CLI templates before sending; `${...}` left in SQL is the user's text.
  load_options.substitute = false;
  AQ_ASSIGN_OR_RETURN(submission.aqueduct, LoadAqueductFromString(it->dump(), Format::kJson, {},
                                                                  load_options, "pipeline"));
  AQ_RETURN_IF_ERROR(ValidateSql(submission.aqueduct));
  return submission;
}

}  // namespace

bool KeysEqual(const std::string& presented, const std::string& expected) {
  // Loop over the presented key only, so the time reveals neither the expected key's length
  // nor the position of the first difference.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < presented.size(); ++i) {
    unsigned char e = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff |= static_cast<unsigned char>(presented[i]) ^ e;
  }
  return diff == 0 && !expected.empty();
}

struct HttpServer::Impl {
  ServerOptions options;
  ExecutionManager* manager;
  Logger* logger;
  std::unique_ptr<httplib::Server> server;

  void Routes();
  void HandleStatus(httplib::Response& res);
  void HandleSubmit(const httplib::Request& req, httplib::Response& res);
  void HandleCancel(const std::string& id, httplib::Response& res);
};

void HttpServer::Impl::Routes() {
  httplib::Server& s = *server;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/api/health") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (!KeysEqual(req.get_header_value("X-API-Key"), options.api_key)) {
      logger->Warn("authentication failed", {{"path", req.path}, {"remote", req.remote_addr}});
      SendError(res, 401, "Authentication failed: send the executor's key in the X-API-Key header");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.Get("/api/health", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200,
             {{"status", "OK"}, {"version", AQ_VERSION}, {"executor_id", options.executor_id}});
  });
  s.Get("/api/status",
        [this](const httplib::Request&, httplib::Response& res) { HandleStatus(res); });
  s.Post("/api/executions",
         [this](const httplib::Request& req, httplib::Response& res) { HandleSubmit(req, res); });
  s.Post(R"(/api/executions/([^/]+)/cancel)",
         [this](const httplib::Request& req, httplib::Response& res) {
           HandleCancel(req.matches[1], res);
         });
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 400 && GuardedServer::BodyOverLimitOnThisThread()) {
          res.status = 413;  // a chunked body over the limit (httplib saw only a failed read)
          res.body.clear();
        }
        if (res.body.empty()) {
          SendError(res, res.status, ErrorFor(res.status, req, options.max_body_bytes));
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        logger->Error("request handler failed", {{"path", req.path}, {"error", what}});
        SendError(res, 500, "Internal error: " + what);
      });
}

void HttpServer::Impl::HandleStatus(httplib::Response& res) {
  ExecutionManager::Snapshot snapshot = manager->GetSnapshot();
  json body{{"executor_id", options.executor_id},
            {"version", AQ_VERSION},
            {"status", snapshot.current_id.empty() ? "idle" : "busy"},
            {"current_execution", nullptr},
            {"queue", json::array()},
            {"max_queue", manager->max_queue()}};
  if (!snapshot.current_id.empty()) {
    body["current_execution"] = {{"execution_id", snapshot.current_id},
                                 {"running_time", snapshot.running_seconds}};
  }
  for (size_t i = 0; i < snapshot.queued_ids.size(); ++i) {
    body["queue"].push_back({{"execution_id", snapshot.queued_ids[i]}, {"position", i}});
  }
  SendJson(res, 200, body);
}

void HttpServer::Impl::HandleSubmit(const httplib::Request& req, httplib::Response& res) {
  Result<Submission> submission = ParseSubmission(req.body);
  if (!submission.ok()) {
    logger->Warn("pipeline rejected", {{"error", submission.status().message()}});
    SendJson(res, 400,
             {{"error", "Invalid pipeline: " + submission.status().message()},
              {"code", StatusCodeName(submission.status().code())}});
    return;
  }
  Result<std::shared_ptr<Execution>> submitted =
      manager->Submit(std::move(submission->aqueduct), submission->preview);
  if (!submitted.ok()) {
    std::string retry = std::to_string(options.retry_after_s);
    res.set_header("Retry-After", retry);
    res.set_header("X-RateLimit-Limit", std::to_string(manager->max_queue() + 1));
    res.set_header("X-RateLimit-Remaining", "0");
    SendJson(
        res, 429,
        {{"error", submitted.status().message() + ". Please retry after " + retry + " seconds"},
         {"retry_after", options.retry_after_s}});
    return;
  }
  std::shared_ptr<Execution> execution = std::move(submitted).value();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_header("X-Execution-Id", execution->id);
  auto keepalive = std::chrono::milliseconds(options.keepalive_ms);
  ExecutionManager* mgr = manager;
  Logger* log = logger;
  res.set_chunked_content_provider(
      "text/event-stream",
      [execution, keepalive](size_t, httplib::DataSink& sink) {
        std::string frame;
        switch (execution->stream->Pop(&frame, keepalive)) {
          case EventStream::Next::kFrame:
            return sink.write(frame.data(), frame.size());
          case EventStream::Next::kIdle:
            // The write of a keepalive is how a vanished client shows up: a failed write to a
            // closed socket is the only sign, since an idle stream reads nothing from its client.
            frame = protocol::FormatKeepalive();
            return sink.write(frame.data(), frame.size());
          case EventStream::Next::kClosed:
            sink.done();
            return true;
        }
        return false;
      },
      [execution, mgr, log](bool success) {
        if (!success) {
          log->Warn("client disconnected: cancelling its execution",
                    {{"execution_id", execution->id}});
          mgr->Cancel(execution->id);
        }
      });
}

void HttpServer::Impl::HandleCancel(const std::string& id, httplib::Response& res) {
  ExecutionManager::Snapshot snapshot = manager->GetSnapshot();
  switch (manager->Cancel(id)) {
    case ExecutionManager::CancelOutcome::kCancelled:
      SendJson(res, 200,
               {{"status", "cancelled"},
                {"message", "Pipeline execution cancelled successfully"},
                {"cancelled_execution_id", id}});
      return;
    case ExecutionManager::CancelOutcome::kNotRunning:
      SendJson(res, 200,
               {{"status", "not_running"},
                {"message", "Execution '" + id + "' has already finished"},
                {"cancelled_execution_id", nullptr}});
      return;
    case ExecutionManager::CancelOutcome::kNotFound: {
      std::string current = snapshot.current_id.empty()
                                ? "No pipeline execution is currently running"
                                : "Current execution has ID '" + snapshot.current_id + "'";
      SendJson(res, 200,
               {{"status", "not_found"},
                {"message", "Execution ID '" + id + "' not found. " + current},
                {"cancelled_execution_id", nullptr}});
      return;
    }
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Make(const ServerOptions& options,
                                                     ExecutionManager* manager, Logger* logger) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->manager = manager;
  impl->logger = logger;
  if ((options.tls_cert.empty()) != (options.tls_key.empty())) {
    return Status::InvalidArgument("HTTPS needs both --tls-cert and --tls-key");
  }
  // HTTP and HTTPS alike: the guard reads every request (and does the TLS handshake) itself.
  GuardOptions guard;
  guard.request_deadline = std::chrono::seconds(options.read_timeout_s);
  guard.max_body_bytes = options.max_body_bytes;
  guard.max_connections_per_address = options.max_connections_per_client;
  guard.max_connection_threads = options.max_connections;
  guard.tls_cert = options.tls_cert;
  guard.tls_key = options.tls_key;
  size_t max_body = options.max_body_bytes;
  guard.error_body = [max_body](int status, const std::string& message) {
    httplib::Request none;
    json body{{"error", message.empty() ? ErrorFor(status, none, max_body) : message}};
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  impl->server = std::make_unique<GuardedServer>(std::move(guard));
  if (!impl->server->is_valid()) {
    return Status::InvalidArgument("Cannot load the TLS certificate '" + options.tls_cert +
                                   "' or key '" + options.tls_key +
                                   "': check that both are readable PEM files and match");
  }
  // Every connection has its own thread (an SSE stream holds one for its whole run), so slow
  // or stalled clients never delay others; see guarded_server.h.
  impl->server->set_read_timeout(options.read_timeout_s, 0);
  impl->server->set_write_timeout(5, 0);
  impl->server->set_keep_alive_timeout(2);
  impl->server->set_payload_max_length(options.max_body_bytes);
  impl->server->set_tcp_nodelay(true);
  impl->Routes();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Status HttpServer::Listen() {
  httplib::Server& s = *impl_->server;
  int port = impl_->options.port;
  bool bound = port == 0 ? (port = s.bind_to_any_port(impl_->options.host)) > 0
                         : s.bind_to_port(impl_->options.host, port);
  if (!bound) {
    return Status::IoError("Cannot listen on " + impl_->options.host + ":" +
                           std::to_string(impl_->options.port) +
                           ": the address is invalid or the port is in use");
  }
  impl_->logger->Lifecycle("listening",
                           {{"host", impl_->options.host},
                            {"port", std::to_string(port)},
                            {"tls", impl_->options.tls_cert.empty() ? "false" : "true"},
                            {"executor_id", impl_->options.executor_id}});
  if (!s.listen_after_bind()) {
    return Status::IoError("The server stopped unexpectedly");
  }
  return Status::OK();
}

void HttpServer::Stop() {
  impl_->server->stop();
}

}  // namespace aqueducts::executor

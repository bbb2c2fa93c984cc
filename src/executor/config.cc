#include "executor/config.h"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

#include <CLI/CLI.hpp>

#include "common/uuid.h"

namespace aqueducts::executor {
namespace {

bool IsBlank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

bool IsExecutorName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

// "k=v,k2=v2" (empty: none).
Status ParseLabelList(const std::string& text, std::map<std::string, std::string>* out) {
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("Invalid label '" + item +
                                     "' in --labels: expected key=value");
    }
    (*out)[item.substr(0, eq)] = item.substr(eq + 1);
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return Status::OK();
}

}  // namespace

Result<ExecutorConfig> ParseExecutorConfig(int argc, char** argv, int* exit_code) {
  *exit_code = 0;
  ExecutorConfig config;
  ServerOptions& server = config.server;
  CLI::App app{
      "aqueducts-executor: runs Aqueducts pipelines next to the data, one at a time, "
      "for clients connecting over HTTP(S) + Server-Sent Events"};
  app.set_version_flag("--version,-V", std::string("aqueducts-executor ") + AQ_VERSION);
  // A flag given twice: the last one wins (scripts append overrides).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string log_level = "info";
  double max_memory_gb = 0;
  double max_body_mb = 16;
  int max_queue = 16;
  app.add_option("--api-key", server.api_key, "API key clients send in X-API-Key (required)")
      ->envname("AQUEDUCTS_API_KEY");
  app.add_option("--host", server.host, "Address to bind")
      ->envname("AQUEDUCTS_HOST")
      ->capture_default_str();
  app.add_option("--port", server.port, "Port to bind (0: any free port)")
      ->envname("AQUEDUCTS_PORT")
      ->capture_default_str();
  app.add_option("--max-memory", max_memory_gb,
                 "DuckDB memory limit in GB (fractions allowed); beyond it queries spill to disk")
      ->envname("AQUEDUCTS_MAX_MEMORY");
  app.add_option("--temp-dir", config.manager.temp_root,
                 "Directory for spill files (default: the system temp directory)")
      ->envname("AQUEDUCTS_TEMP_DIR");
  app.add_option("--tls-cert", server.tls_cert, "PEM certificate: serve HTTPS")
      ->envname("AQUEDUCTS_TLS_CERT");
  app.add_option("--tls-key", server.tls_key, "PEM private key of --tls-cert")
      ->envname("AQUEDUCTS_TLS_KEY");
  app.add_option("--executor-id", server.executor_id,
                 "UUID of this executor (default: random); with --server-url its name on the "
                 "server (A-Z a-z 0-9 . _ -, at most 64)")
      ->envname("AQUEDUCTS_EXECUTOR_ID");
  app.add_option("--server-url", config.link.server_url,
                 "Aqueducts server to register with (outbound connections only)")
      ->envname("AQUEDUCTS_SERVER_URL");
  app.add_option("--registration-token", config.link.registration_token,
                 "One-time registration token from the server's admin (with --server-url)")
      ->envname("AQUEDUCTS_REGISTRATION_TOKEN");
  std::string labels;
  app.add_option("--labels", labels, "Labels for routing runs: k=v,k2=v2 (with --server-url)")
      ->envname("AQUEDUCTS_LABELS");
  app.add_option("--server-ca-cert", config.link.ca_cert,
                 "PEM bundle (a private CA, or the server's self-signed certificate) to verify "
                 "an https --server-url with (default: the system's CAs)")
      ->envname("AQUEDUCTS_SERVER_CA_CERT")
      ->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->envname("AQUEDUCTS_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--max-queue", max_queue, "Executions that may wait behind the running one")
      ->envname("AQUEDUCTS_MAX_QUEUE")
      ->capture_default_str();
  app.add_option("--max-body-mb", max_body_mb, "Largest accepted request body in MB")
      ->envname("AQUEDUCTS_MAX_BODY_MB")
      ->capture_default_str();
  app.add_option("--read-timeout", server.read_timeout_s,
                 "Seconds a client may take to send a whole request (headers and body; a body "
                 "gets 1 s more per 64 KiB received)")
      ->envname("AQUEDUCTS_READ_TIMEOUT")
      ->capture_default_str();
  app.add_option("--keepalive-ms", server.keepalive_ms, "Interval of SSE keepalive comments")
      ->capture_default_str();
  app.add_option("--max-connections-per-client", server.max_connections_per_client,
                 "Open connections allowed from one client address (more get 429)")
      ->envname("AQUEDUCTS_MAX_CONNECTIONS_PER_CLIENT")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help, version and usage errors itself.
    *exit_code = app.exit(e) == 0 ? 0 : 2;
    return Status::InvalidArgument(e.what());
  }
  // From here on errors are ours: the caller prints them and exits with 1.
  *exit_code = 1;
  bool registered = !config.link.server_url.empty();
  if (registered) {
    // Without an API key a registered executor opens no port at all.
    config.listen = !server.api_key.empty();
  }
  if (config.listen && IsBlank(server.api_key)) {
    return Status::InvalidArgument(
        "API key cannot be empty: pass --api-key or set AQUEDUCTS_API_KEY (or register with a "
        "server: --server-url)");
  }
  if (registered) {
    if (config.link.registration_token.empty()) {
      return Status::InvalidArgument(
          "--server-url needs --registration-token (an admin creates one with POST "
          "/api/v1/executors/registration-tokens)");
    }
    const std::string& url = config.link.server_url;
    bool https = url.rfind("https://", 0) == 0;
    if (!https && url.rfind("http://", 0) != 0) {
      return Status::InvalidArgument("--server-url '" + url +
                                     "' must start with http:// or https://");
    }
    if (!https && !config.link.ca_cert.empty()) {
      return Status::InvalidArgument("--server-ca-cert is for an https --server-url, not '" + url +
                                     "'");
    }
    AQ_RETURN_IF_ERROR(ParseLabelList(labels, &config.link.labels));
  } else if (!labels.empty() || !config.link.registration_token.empty()) {
    return Status::InvalidArgument("--labels and --registration-token need --server-url");
  }
  if (app.count("--max-memory") > 0) {
    if (!(max_memory_gb > 0) || !std::isfinite(max_memory_gb)) {
      return Status::InvalidArgument("Max memory must be greater than 0 GB (--max-memory)");
    }
    config.manager.database_options.memory_limit_bytes =
        static_cast<uint64_t>(max_memory_gb * 1024.0 * 1024.0 * 1024.0);
  }
  // Always give DuckDB a spill directory of ours: its default is ".tmp" in the working directory.
  if (config.manager.temp_root.empty()) {
    std::error_code ec;
    std::filesystem::path system_temp = std::filesystem::temp_directory_path(ec);
    config.manager.temp_root = ((ec ? "/tmp" : system_temp) / "aqueducts-executor").string();
  }
  if (max_queue < 0 || max_queue > 10000) {
    return Status::InvalidArgument("--max-queue must be between 0 and 10000");
  }
  if (!(max_body_mb > 0)) {
    return Status::InvalidArgument("--max-body-mb must be greater than 0");
  }
  if (server.port < 0 || server.port > 65535) {
    return Status::InvalidArgument("--port must be between 0 and 65535");
  }
  if (server.max_connections_per_client < 1) {
    return Status::InvalidArgument("--max-connections-per-client must be at least 1");
  }
  if (server.read_timeout_s < 1 || server.keepalive_ms < 10) {
    return Status::InvalidArgument("--read-timeout must be >= 1 s and --keepalive-ms >= 10");
  }
  if (server.executor_id.empty()) {
    server.executor_id = NewUuid();
  } else if (registered) {
    if (!IsExecutorName(server.executor_id)) {
      return Status::InvalidArgument("Invalid executor ID '" + server.executor_id +
                                     "': a name on the server has 1 to 64 characters among "
                                     "A-Z a-z 0-9 . _ -");
    }
  } else if (!IsUuid(server.executor_id)) {
    return Status::InvalidArgument("Invalid executor ID '" + server.executor_id +
                                   "': it must be a UUID");
  }
  config.manager.max_queue = static_cast<size_t>(max_queue);
  config.link.name = server.executor_id;
  config.link.memory_limit_bytes =
      static_cast<int64_t>(config.manager.database_options.memory_limit_bytes.value_or(0));
  server.max_body_bytes = static_cast<size_t>(max_body_mb * 1024 * 1024);
  config.log_level = ParseLogLevel(log_level);
  *exit_code = 0;
  return config;
}

}  // namespace aqueducts::executor

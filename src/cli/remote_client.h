#pragma once

// The CLI's remote mode: run, status and cancel against an aqueducts-executor over HTTP(S) and
// Server-Sent Events (docs/executor-api.md). httplib stays inside remote_client.cc.

#include <memory>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/run.h"
#include "aqueducts/status.h"

namespace aqueducts::cli {

/// \brief How to reach an executor.
struct RemoteOptions {
  /// "host:port", "http://host:port" or "https://host[:port]". Without a scheme: http. Without a
  /// port: 3031 when no scheme was given, else the scheme's (80/443).
  std::string executor;
  std::string api_key;
  std::string ca_cert;    ///< PEM bundle of a private CA; empty: the system's CAs
  bool insecure = false;  ///< skip certificate verification (self-signed executors)
  /// An aqueducts-server URL: run through the server instead (then `executor` is the name of a
  /// registered executor, optional).
  std::string server;
  std::string token;  ///< the server's API token (Bearer)
  std::string label;  ///< with `server`: run on any online executor with this label ("k=v")
  /// How the executor renders `show` previews (sent as the submission's "output_format").
  PreviewFormat preview = PreviewFormat::kTable;
};

/// Run `aqueduct` on the executor, rendering its events into `sink` exactly as a local run does
/// (ProgressEvent / StageOutput). Cancelling `cancel` asks the executor to cancel the run (and
/// drops the connection if it cannot). Returns OK when the executor reports completion,
/// kExecutionError with the executor's message on failure, kCancelled when cancelled,
/// kInvalidArgument for a rejected key or pipeline, kIoError when the executor is unreachable
/// or the connection is lost.
Status RunRemote(const RemoteOptions& options, const Aqueduct& aqueduct, ProgressSink& sink,
                 std::shared_ptr<CancelToken> cancel);

/// Run `aqueduct` through an aqueducts-server (POST /api/v1/runs, then its event stream),
/// rendering the executor's events into `sink` as a local run does and the server's run states
/// (with their reasons) as log lines. Cancelling `cancel` asks the server to cancel the run.
/// Returns OK when the run succeeded, kExecutionError when it failed or was lost, kCancelled,
/// kInvalidArgument for a rejected token or pipeline, kIoError when the server is unreachable.
Status RunOnServer(const RemoteOptions& options, const Aqueduct& aqueduct, ProgressSink& sink,
                   std::shared_ptr<CancelToken> cancel);

/// The executor's state as human-readable lines (idle/busy, current execution, queue).
Result<std::string> RemoteStatus(const RemoteOptions& options);

/// Cancel execution `id`; returns the executor's message. kNotFound for an unknown id,
/// kInvalidArgument for an id that is not a UUID.
Result<std::string> RemoteCancel(const RemoteOptions& options, const std::string& id);

}  // namespace aqueducts::cli

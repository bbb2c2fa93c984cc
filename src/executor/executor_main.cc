// aqueducts-executor: parse flags, run the server until SIGTERM/SIGINT, map errors to exit codes.

#include <atomic>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include <pthread.h>
#include <signal.h>

#include "executor/config.h"
#include "executor/execution_manager.h"
#include "executor/http_server.h"
#include "executor/logger.h"
#include "executor/server_link.h"

namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

int Main(int argc, char** argv) {
  using namespace aqueducts::executor;
  int exit_code = 0;
  auto config = ParseExecutorConfig(argc, argv, &exit_code);
  if (!config.ok()) {
    if (exit_code == 1) {
      std::fprintf(stderr, "Error: %s\n", config.status().message().c_str());
    }
    return exit_code;
  }

  // Plain HTTP beyond this machine is the original's default and stays allowed, but the API key
  // and the pipelines (with their connection strings) then cross the network unencrypted.
  if (config->listen && config->server.tls_cert.empty() && !IsLoopback(config->server.host)) {
    std::fprintf(stderr,
                 "warning: listening on %s over plain HTTP: API keys and pipelines travel "
                 "unencrypted; pass --tls-cert and --tls-key, or --host 127.0.0.1\n",
                 config->server.host.c_str());
  }

  // Signals are taken by one thread with sigwait: blocked everywhere else, set before any
  // thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Logger logger(config->log_level);
  ExecutionManager manager(config->manager, &logger);
  std::unique_ptr<HttpServer> server;
  if (config->listen) {
    auto made = HttpServer::Make(config->server, &manager, &logger);
    if (!made.ok()) {
      logger.Error(made.status().message());
      std::fprintf(stderr, "Error: %s\n", made.status().message().c_str());
      return 1;
    }
    server = std::move(made).value();
  }
  std::unique_ptr<ServerLink> link;
  if (!config->link.server_url.empty()) {
    link = std::make_unique<ServerLink>(config->link, &manager, &logger);
  }
  std::atomic<bool> failed{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == 0) {
      return;
    }
    if (!failed) {
      logger.Lifecycle("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    }
    manager.Shutdown();
    if (server) {
      server->Stop();
    }
    if (link) {
      link->Stop();
    }
  });
  auto fail = [&](const aqueducts::Status& status) {
    logger.Error(status.message());
    std::fprintf(stderr, "Error: %s\n", status.message().c_str());
    failed = true;
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  };
  // With both: the link on a thread of its own, the HTTP server on this one.
  std::thread link_thread;
  if (link && server) {
    link_thread = std::thread([&] {
      aqueducts::Status status = link->Run();
      if (!status.ok()) {
        fail(status);
      }
    });
  }
  aqueducts::Status status = server ? server->Listen() : link->Run();
  if (!status.ok()) {
    fail(status);
  }
  signal_thread.join();
  if (link_thread.joinable()) {
    link_thread.join();
  }
  manager.Shutdown();
  if (failed) {
    return 1;
  }
  logger.Lifecycle("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Fatal: %s\n", e.what());
    return 1;
  }
}

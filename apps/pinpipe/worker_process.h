// The process shell shared by the long-running workers (`pinpipe stream`, `pinpipe archive`): the
// optional metrics server (GET /metrics, GET /healthz) around the worker's run, which stops on
// SIGINT/SIGTERM (StopSignals, stop_signals.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "core/status.h"
#include "stop_signals.h"

namespace pinpipe::http {
class Server;
}

namespace pinpipe::app {

struct WorkerProcess {
  std::string name;                             // "stream": the component of its log lines
  std::string metrics_host;                     // where the metrics server listens
  uint16_t metrics_port = 0;                    // 0 = no metrics server
  std::function<std::string()> render_metrics;  // the /metrics body (Prometheus text)
};

// Starts the metrics server of `process` (GET /metrics, /healthz) on its host and port and logs
// where it listens; *server stays empty when metrics_port is 0. `process` must outlive the
// server. Errors: the server's (e.g. the port is taken).
Status StartMetricsServer(const WorkerProcess& process, std::unique_ptr<http::Server>* server);

// Starts the metrics server (if asked), runs `run(stop)` until it returns (`stop` is
// signals.token(): stop is requested on SIGINT/SIGTERM), stops the server and returns the exit
// code: 0 when `run` returned OK, 1 (with the error logged) otherwise or when the metrics server
// cannot start.
int RunWorkerProcess(const WorkerProcess& process, StopSignals& signals,
                     const std::function<Status(std::stop_token stop)>& run);

}  // namespace pinpipe::app

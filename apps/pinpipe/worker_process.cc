#include "worker_process.h"

#include <memory>

#include "http/server.h"
#include "log/logger.h"

namespace pinpipe::app {

Status StartMetricsServer(const WorkerProcess& process, std::unique_ptr<http::Server>* server) {
  server->reset();
  if (process.metrics_port == 0) return Status::Ok();
  http::ServerOptions so;
  so.host = process.metrics_host;
  so.port = process.metrics_port;
  so.threads = 1;
  auto started = std::make_unique<http::Server>(
      so, [&process](const http::Request& req, const http::Responder& respond) {
        http::Response r;
        if (req.path == "/metrics") {
          r.content_type = "text/plain; version=0.0.4";
          r.body = process.render_metrics ? process.render_metrics() : std::string();
        } else if (req.path == "/healthz") {
          r.content_type = "text/plain";
          r.body = "ok\n";
        } else {
          r.status = 404;
          r.body = "{\"detail\":\"Not Found\"}";
        }
        respond(std::move(r));
      });
  RETURN_IF_ERROR(started->Start().WithContext("metrics server"));
  log::Logger(process.name)
      .Info("metrics on http://{}:{}/metrics", process.metrics_host, started->port());
  *server = std::move(started);
  return Status::Ok();
}

int RunWorkerProcess(const WorkerProcess& process, StopSignals& signals,
                     const std::function<Status(std::stop_token stop)>& run) {
  const log::Logger logger(process.name);
  std::unique_ptr<http::Server> server;
  if (Status s = StartMetricsServer(process, &server); !s.ok()) {
    logger.Error("{}", s.ToString());
    return 1;
  }
  Status s = run(signals.token());
  if (server) server->Stop();
  if (!s.ok()) {
    logger.Error("{}", s.ToString());
    return 1;
  }
  return 0;
}

}  // namespace pinpipe::app

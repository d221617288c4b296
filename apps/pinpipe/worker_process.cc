#include "worker_process.h"

#include <iostream>
#include <memory>

#include "http/server.h"

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
  std::cerr << "pinpipe " << process.name << ": metrics on http://" << process.metrics_host << ":"
            << started->port() << "/metrics" << std::endl;
  *server = std::move(started);
  return Status::Ok();
}

int RunWorkerProcess(const WorkerProcess& process, StopSignals& signals,
                     const std::function<Status(const std::atomic<bool>& stop)>& run) {
  const std::string prefix = "pinpipe " + process.name + ": ";
  std::unique_ptr<http::Server> server;
  if (Status s = StartMetricsServer(process, &server); !s.ok()) {
    std::cerr << prefix << s.ToString() << "\n";
    return 1;
  }
  Status s = run(signals.flag());
  if (server) server->Stop();
  if (!s.ok()) {
    std::cerr << prefix << s.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace pinpipe::app

// http_echo_server: the HTTP server with a trivial handler (200 "{}" at once), for measuring the
// server alone with wrk:
//   http_echo_server [port=18080] [threads=1]
//   wrk -t2 -c64 -d5s -s /work/shared/baselines/post.lua http://127.0.0.1:18080/pin/
// Runs until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/server.h"

int main(int argc, char** argv) {
  pinpipe::http::ServerOptions options;
  options.port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 18080);
  options.threads = argc > 2 ? std::atoi(argv[2]) : 1;
  pinpipe::http::Server server(options,
                               [](const pinpipe::http::Request&, pinpipe::http::Responder respond) {
                                 pinpipe::http::Response response;
                                 response.body = "{}";
                                 respond(std::move(response));
                               });
  // Block the signals before the I/O threads start so only sigwait() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (pinpipe::Status status = server.Start(); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("listening on %s:%u with %d thread(s)\n", options.host.c_str(), server.port(),
              options.threads);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  server.Stop();
  return 0;
}

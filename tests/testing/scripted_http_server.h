// ScriptedHttpServer: an in-process http::Server on a loopback port whose answers the test
// writes as a function of the request and its number (0, 1, 2, ... in arrival order), and which
// records every request it gets (path, body, arrival time). An answer may be held back for a
// while (an API that is slow or hangs). Stop() and Start() again serve on the same port: an API
// that restarts, refusing connections in between. For unit tests of HTTP clients (the
// emulator's retries); the real API is exercised by the integration tests.
// Thread-safe: the script runs on the server's I/O thread, one request at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "http/client.h"
#include "http/server.h"

namespace pinpipe::testing {

class ScriptedHttpServer {
 public:
  struct Answer {
    http::Response response;
    std::chrono::milliseconds delay{0};  // answer this much later (from another thread)
  };
  using Script = std::function<Answer(size_t n, const http::Request& request)>;
  struct Received {
    std::string path;
    std::string body;
    std::chrono::steady_clock::time_point at;
  };

  explicit ScriptedHttpServer(Script script);
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  // Starts serving: on a free port the first time, on the same port afterwards.
  Status Start();
  // Stops serving (connections are closed, new ones refused); held-back answers are dropped.
  void Stop();

  http::HttpUrl url() const { return http::HttpUrl{"127.0.0.1", port_, ""}; }
  std::vector<Received> requests();
  size_t request_count();

  // An answer with `status`, a JSON `body` and, when `retry_after` is not empty, that header.
  static Answer Reply(int status, std::string body = "{}", std::string retry_after = "");

 private:
  void Handle(const http::Request& request, http::Responder respond);

  Script script_;
  uint16_t port_ = 0;
  std::unique_ptr<http::Server> server_;
  std::mutex mutex_;
  std::vector<Received> requests_;     // guarded by mutex_
  std::vector<std::jthread> delayed_;  // guarded by mutex_; answers held back
};

}  // namespace pinpipe::testing

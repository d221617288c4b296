#include "testing/scripted_http_server.h"

#include <condition_variable>
#include <stop_token>

namespace pinpipe::testing {

ScriptedHttpServer::ScriptedHttpServer(Script script) : script_(std::move(script)) {}

ScriptedHttpServer::~ScriptedHttpServer() { Stop(); }

Status ScriptedHttpServer::Start() {
  http::ServerOptions options;
  options.port = port_;
  server_ = std::make_unique<http::Server>(
      options, [this](const http::Request& request, http::Responder respond) {
        Handle(request, std::move(respond));
      });
  Status s = server_->Start();
  if (s.ok()) port_ = server_->port();
  return s;
}

void ScriptedHttpServer::Stop() {
  std::vector<std::jthread> delayed;
  {
    std::lock_guard lock(mutex_);
    delayed.swap(delayed_);
  }
  for (std::jthread& t : delayed) t.request_stop();
  delayed.clear();  // joins: each returns at once when asked to stop
  if (server_ != nullptr) server_->Stop();
  server_.reset();
}

std::vector<ScriptedHttpServer::Received> ScriptedHttpServer::requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

size_t ScriptedHttpServer::request_count() {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

ScriptedHttpServer::Answer ScriptedHttpServer::Reply(int status, std::string body,
                                                     std::string retry_after) {
  Answer answer;
  answer.response.status = status;
  answer.response.body = std::move(body);
  if (!retry_after.empty()) answer.response.headers.emplace_back("Retry-After", retry_after);
  return answer;
}

void ScriptedHttpServer::Handle(const http::Request& request, http::Responder respond) {
  size_t n;
  {
    std::lock_guard lock(mutex_);
    n = requests_.size();
    requests_.push_back(Received{std::string(request.path), std::string(request.body),
                                 std::chrono::steady_clock::now()});
  }
  Answer answer = script_(n, request);
  if (answer.delay.count() <= 0) return respond(std::move(answer.response));
  std::lock_guard lock(mutex_);
  delayed_.emplace_back(
      [answer = std::move(answer), respond = std::move(respond)](std::stop_token stop) mutable {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock wait_lock(m);
        if (cv.wait_for(wait_lock, stop, answer.delay, [] { return false; })) return;
        if (!stop.stop_requested()) respond(std::move(answer.response));
      });
}

}  // namespace pinpipe::testing

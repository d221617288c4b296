// Server: an HTTP/1.1 server on Boost.Asio with keep-alive, pipelining-safe sequencing, limits
// and timeouts. It knows nothing about pinpipe's routes: it hands each complete request to a
// Handler and writes the Response the handler eventually produces.
//
// Threading: `threads` I/O threads run one io_context. The handler is called on an I/O thread
// and must not block; it may answer at once or later, from any thread, by calling the Responder
// exactly once. A connection reads no further request until the current one is answered, so the
// Request (and the string_views in it) stays valid until the Responder has been called.
//
// Protocol errors are answered by the server itself, never reaching the handler:
//   400 malformed request line/headers/chunked framing; 413 body larger than max_body_bytes
//   (answered as soon as Content-Length is seen, then the connection closes); 431 headers too
//   large; 501 unsupported Transfer-Encoding; 408 when a started request stalls longer than
//   request_timeout. Idle keep-alive connections are closed after idle_timeout.
//   `Expect: 100-continue` is honoured. Chunked request bodies are supported.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pinpipe::http {

struct Header {
  std::string_view name;   // as received
  std::string_view value;  // leading/trailing whitespace removed
};

struct Request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // "/pin/?x=1": path plus query, as received
  std::string_view path;    // "/pin/": target without the query
  std::string_view query;   // "x=1" or empty
  std::vector<http::Header> headers;  // qualified: the member Header() hides the type
  std::string_view body;    // de-chunked
  bool keep_alive = true;   // HTTP/1.1 default, "Connection: close" or HTTP/1.0 clear it

  // Case-insensitive header lookup; empty if absent.
  std::string_view Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Retry-After
  bool close = false;  // ask the server to close the connection after writing
};

using Responder = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Responder)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;  // 0 picks a free port; see Server::port()
  int threads = 1;
  size_t max_body_bytes = 64 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  size_t max_connections = 10000;
  std::chrono::milliseconds request_timeout{10000};  // a started request must complete in this
  std::chrono::milliseconds idle_timeout{60000};     // keep-alive idle limit
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O threads. Errors: Unavailable if the address cannot be bound.
  Status Start();
  // Stops accepting, closes connections, joins the I/O threads. Idempotent.
  void Stop();
  // The bound port (useful with port 0). Valid after Start().
  uint16_t port() const;
  // Currently open connections.
  size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reason phrase for a status code ("Unprocessable Entity" for 422).
std::string_view ReasonPhrase(int status);

}  // namespace pinpipe::http

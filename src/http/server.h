// Server: an HTTP/1.1 server on Boost.Asio with keep-alive, pipelining-safe sequencing, limits
// and timeouts. It knows nothing about pinpipe's routes: it hands each complete request to a
// Handler and writes the Response the handler eventually produces. An optional HeadHandler sees
// each request's head (request line and headers) once the header block is complete, before any
// body byte is read and before `100 Continue` is sent, and decides this request's body limit or
// answers at once (then the body is never read and, if one was announced, the connection
// closes after the answer).
//
// Threading: `threads` I/O threads run one io_context. The handler is called on an I/O thread
// and must not block; it may answer at once or later, from any thread, by calling the Responder
// exactly once. A connection reads no further request until the current one is answered, so the
// Request (and the string_views in it) stays valid until the Responder has been called. The
// HeadHandler is called on an I/O thread too and must answer synchronously.
//
// Protocol errors are answered by the server itself, never reaching the handler:
//   400 malformed request line/headers/chunked framing, no or several Host headers, several
//   Authorization headers; 413 body larger than the request's limit (answered as soon as
//   Content-Length is seen, or when a chunked body passes it; then the connection closes);
//   431 headers too large; 501 unsupported Transfer-Encoding; 408 when a started request stalls
//   longer than request_timeout; 503 with Retry-After when the request's body would take the
//   bodies buffered by all connections past max_buffered_body_bytes (a Content-Length body is
//   reserved in full when its headers are complete, before it is read; a chunked body as its
//   buffer grows; the reservation is returned when the request is answered or the connection
//   closes). Idle keep-alive connections are closed after idle_timeout.
//   `Expect: 100-continue` is honoured. Chunked request bodies are supported.
//
// Streaming responses (server-sent events): a Response with `on_stream` set gets its status line
// and headers written without a Content-Length (and with `Connection: close`); then the server
// hands the handler's `on_stream` a StreamSink through which any thread writes the body, piece
// by piece, for as long as it likes. The connection reads no further request: it closes when the
// client goes away, when the sink is closed, when a piece stalls longer than request_timeout, when
// more than max_stream_queue_bytes wait to be written (a client that does not read), or when the
// server stops. A HEAD request gets the headers only, and no stream.
//
// Memory: a connection keeps a small receive buffer between requests; one that a request grew
// past RequestParser::kKeepBytes, and a large response buffer, are released once the request
// has been answered.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
  std::string_view method;            // "GET", "POST", ...
  std::string_view target;            // "/pin/?x=1": path plus query, as received
  std::string_view path;              // "/pin/": target without the query
  std::string_view query;             // "x=1" or empty
  std::vector<http::Header> headers;  // qualified: the member Header() hides the type
  std::string_view body;              // de-chunked
  bool keep_alive = true;             // HTTP/1.1 default, "Connection: close" or HTTP/1.0 clear it

  // Case-insensitive header lookup; empty if absent.
  std::string_view Header(std::string_view name) const;
};

// The writing end of a streaming response (see the class comment of Server). Any thread.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues `bytes` to be written in order. False when the stream is closed (the client went away,
  // Close() was called, the queue limit was passed, the server stopped): drop the sink then.
  virtual bool Send(std::string bytes) = 0;
  // Ends the response once what is queued is written; the connection closes.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Retry-After
  bool close = false;  // ask the server to close the connection after writing
  // Set: a streaming response (see the class comment of Server); `body` is ignored. Called once,
  // on an I/O thread, after the head was written; must not block.
  std::function<void(std::shared_ptr<StreamSink>)> on_stream;
};

using Responder = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Responder)>;

// What a HeadHandler decides for one request.
struct HeadDecision {
  // Set: answer this now, without reading the body and without calling the Handler. If the
  // request announced a body the connection closes after the answer (after a short drain, so
  // the client can read it); if not, the connection stays usable.
  std::optional<Response> answer;
  // Otherwise: the largest body this request may have (413 above it); capped by
  // ServerOptions::max_body_bytes.
  size_t max_body_bytes = SIZE_MAX;
};
// Called with the request's head: method, target, path, query, headers and keep_alive are set,
// body is empty. Must not block.
using HeadHandler = std::function<HeadDecision(const Request& head)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;  // 0 picks a free port; see Server::port()
  int threads = 1;
  size_t max_body_bytes = 64 * 1024 * 1024;  // for any request; a HeadHandler may lower it
  size_t max_header_bytes = 16 * 1024;
  size_t max_connections = 10000;
  // Request bodies buffered by all connections together (see the class comment); SIZE_MAX: off.
  size_t max_buffered_body_bytes = 256 * 1024 * 1024;
  int retry_after_seconds = 1;                       // in the server's own 503 answers
  std::chrono::milliseconds request_timeout{10000};  // a started request must complete in this
  std::chrono::milliseconds idle_timeout{60000};     // keep-alive idle limit
  size_t max_stream_queue_bytes = 1 << 20;  // per streaming response: bytes waiting to be written
};

class Server {
 public:
  Server(ServerOptions options, Handler handler, HeadHandler head_handler = nullptr);
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
  // Body bytes currently reserved against max_buffered_body_bytes.
  size_t buffered_body_bytes() const;
  // Requests refused with 503 because of max_buffered_body_bytes, since start.
  uint64_t budget_refusals() const;
  // Body bytes ever reserved, since start (grows by each body; a caller can tell a burst of
  // large bodies from it).
  uint64_t body_bytes_reserved_total() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reason phrase for a status code ("Unprocessable Entity" for 422).
std::string_view ReasonPhrase(int status);

}  // namespace pinpipe::http

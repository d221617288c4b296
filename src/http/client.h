// Client: a small blocking HTTP/1.1 client with keep-alive, for the emulator and tests.
//
// One Client holds at most one TCP connection to host:port and reuses it across requests. If a
// reused connection turns out to have been closed by the server (EOF or reset before any byte of
// the response arrived), the Client reconnects and sends the request once more; a request on a
// fresh connection is never repeated. Every request has a deadline (connect and whole exchange).
// Not thread-safe: use one Client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pinpipe::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  int status = 0;
  std::string body;
  HeaderList headers;
  // Case-insensitive lookup; empty if absent.
  std::string_view Header(std::string_view name) const;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};  // write request + read response
  size_t max_body_bytes = 64 * 1024 * 1024;
};

// "http://host:port/base" split into parts; port defaults to 80, base to "".
struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string base_path;  // without trailing '/', e.g. "" or "/api"
};
// Errors: InvalidArgument for anything but http:// URLs with a valid port (no https).
StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends the request and returns the response, whatever its status code.
  // Errors: Unavailable (cannot connect, connection broken), DeadlineExceeded (timeout),
  // InvalidArgument (malformed response or body over max_body_bytes).
  StatusOr<ClientResponse> Post(std::string_view path, std::string_view body,
                                std::string_view content_type = "application/json",
                                const HeaderList& extra_headers = {});
  StatusOr<ClientResponse> Get(std::string_view path, const HeaderList& extra_headers = {});
  StatusOr<ClientResponse> Request(std::string_view method, std::string_view path,
                                   std::string_view body, std::string_view content_type,
                                   const HeaderList& extra_headers);

  // Closes the connection (the next request opens a new one).
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinpipe::http

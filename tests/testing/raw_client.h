// RawClient: a minimal blocking TCP client for the HTTP server and ingest API tests. Plain POSIX
// sockets with a receive timeout, so a misbehaving server fails a test instead of hanging it; it
// parses just enough HTTP (status, headers, Content-Length body) to check responses, and sends
// exactly the bytes it is given (so a test can announce a body and never send it). Send() and
// Read() may run on two threads at once (a large upload while the answer is awaited).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pinpipe::http::testing_support {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  // Case-sensitive search is enough for the tests: the server writes canonical names.
  bool HasHeader(std::string_view line) const {
    return head.find(std::string("\r\n") + std::string(line) + "\r\n") != std::string::npos;
  }
};

class RawClient {
 public:
  explicit RawClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(3))
      : timeout_(timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { Close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Shuts the socket down both ways, so a Send() blocked on another thread returns (false).
  void Abort() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }

  // Reads one response; nullopt on timeout or EOF before a full response.
  std::optional<RawResponse> Read() {
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    RawResponse r;
    r.head = buffer_.substr(0, head_end + 2);
    r.status = std::stoi(r.head.substr(9, 3));
    size_t length = 0;
    if (size_t p = r.head.find("\r\nContent-Length: "); p != std::string::npos) {
      length = std::stoul(r.head.substr(p + 18));
    }
    size_t total = head_end + 4 + length;
    while (buffer_.size() < total) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, total);
    return r;
  }

  // True if the server closes the connection (EOF or reset) within the timeout, with no
  // further bytes.
  bool WaitClosed() {
    if (!buffer_.empty()) return false;
    char c;
    if (!WaitReadable()) return false;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n <= 0;
  }

  // Reads until `needle` is among the bytes received and not yet returned by Read() (true), or
  // the timeout passes or the connection ends (false). For streamed answers (server-sent events).
  bool ReadUntil(std::string_view needle) {
    while (buffer_.find(needle) == std::string::npos) {
      if (!Fill()) return false;
    }
    return true;
  }
  // Waits for more bytes (false on timeout or end of connection).
  bool ReadSome() { return Fill(); }
  const std::string& buffered() const { return buffer_; }

  // True if nothing at all arrives within `wait` (the connection stays quietly open).
  bool Quiet(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) == 0;
  }

 private:
  bool WaitReadable() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout_.count())) == 1;
  }
  bool Fill() {
    if (!WaitReadable()) return false;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

}  // namespace pinpipe::http::testing_support

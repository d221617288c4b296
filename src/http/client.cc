#include "http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <optional>

#include "core/ascii.h"

namespace pinpipe::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
Status FromError(const beast::error_code& ec, std::string_view what) {
  std::string message = std::string(what) + ": " + ec.message();
  if (ec == beast::error::timeout) return DeadlineExceeded(std::move(message));
  // Beast's HTTP error category means the peer sent something that is not HTTP (or too big),
  // except for the two codes that just say the connection ended.
  bool protocol_error = ec.category() == beast::error_code(bhttp::error::bad_target).category() &&
                        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  if (protocol_error) return InvalidArgument(std::move(message));
  return Unavailable(std::move(message));
}

// The server closed an idle keep-alive connection before reading our request.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::eof;
}
}  // namespace

std::string_view ClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (core::EqualsIgnoreAsciiCase(key, name)) return value;
  }
  return {};
}

StatusOr<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("only http:// URLs are supported: " + std::string(url));
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  if (slash != std::string_view::npos) {
    out.base_path = std::string(rest.substr(slash));
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port_text = authority.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return InvalidArgument("invalid port in URL: " + std::string(url));
    }
    out.port = static_cast<uint16_t>(port);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return InvalidArgument("missing host in URL: " + std::string(url));
  out.host = std::string(authority);
  return out;
}

struct Client::Impl {
  explicit Impl(ClientOptions opts) : options(std::move(opts)) {}

  // Runs the async operations queued on `io` to completion. Async operations are used (instead
  // of blocking socket calls) because only they honour beast::tcp_stream's deadlines.
  void RunIo() {
    io.restart();
    io.run();
  }

  Status Connect() {
    stream.reset();
    stream.emplace(io);
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec) return Unavailable("resolve " + options.host + ": " + ec.message());
    stream->expires_after(options.connect_timeout);
    stream->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunIo();
    if (ec) {
      stream.reset();
      return FromError(ec, "connect " + options.host + ":" + std::to_string(options.port));
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    return Status::Ok();
  }

  // One exchange on the current connection. `stale` is set when the failure looks like a
  // keep-alive connection the server had already closed.
  StatusOr<ClientResponse> Exchange(const bhttp::request<bhttp::string_body>& request,
                                    bool& stale) {
    stale = false;
    beast::error_code ec;
    stream->expires_after(options.request_timeout);
    bhttp::async_write(*stream, request, [&](beast::error_code e, size_t) { ec = e; });
    RunIo();
    if (ec) {
      stale = IsStaleConnection(ec);
      return FromError(ec, "write request");
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(64 * 1024);
    buffer.clear();
    bhttp::async_read(*stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    RunIo();
    if (ec) {
      stale = IsStaleConnection(ec);
      return FromError(ec, "read response");
    }
    auto& message = parser.get();
    ClientResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    if (!message.keep_alive()) stream.reset();
    return response;
  }

  ClientOptions options;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

void Client::Close() { impl_->stream.reset(); }

StatusOr<ClientResponse> Client::Post(std::string_view path, std::string_view body,
                                      std::string_view content_type,
                                      const HeaderList& extra_headers) {
  return Request("POST", path, body, content_type, extra_headers);
}

StatusOr<ClientResponse> Client::Get(std::string_view path, const HeaderList& extra_headers) {
  return Request("GET", path, {}, {}, extra_headers);
}

StatusOr<ClientResponse> Client::Request(std::string_view method, std::string_view path,
                                         std::string_view body, std::string_view content_type,
                                         const HeaderList& extra_headers) {
  bhttp::request<bhttp::string_body> request;
  request.method_string(beast::string_view(method.data(), method.size()));
  request.target(beast::string_view(path.data(), path.size()));
  request.version(11);
  request.set(bhttp::field::host, impl_->options.host + ":" + std::to_string(impl_->options.port));
  if (!content_type.empty()) {
    request.set(bhttp::field::content_type,
                beast::string_view(content_type.data(), content_type.size()));
  }
  for (const auto& [name, value] : extra_headers) request.set(name, value);
  request.body() = std::string(body);
  request.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    bool reused = impl_->stream.has_value();
    if (!reused) RETURN_IF_ERROR(impl_->Connect());
    bool stale = false;
    auto response = impl_->Exchange(request, stale);
    if (response.ok()) return response;
    impl_->stream.reset();
    if (!(reused && stale && attempt == 0)) return response.status();
  }
}

}  // namespace pinpipe::http

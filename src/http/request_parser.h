// RequestParser: an incremental HTTP/1.1 request parser with explicit limits.
//
// The parser owns the connection's receive buffer. Bytes are appended either by copying
// (Feed(), for tests and the fuzzer) or by reading straight into it (PrepareWrite() + Commit(),
// for the server, which saves a copy). Parse() resumes where the previous call stopped, so a
// request split into any number of pieces is scanned once; the result is kNeedMore, kComplete
// or kError (with an HTTP status and a short human-readable detail).
//
// Framing rules (RFC 9112), chosen strictly because a lenient parser in front of other HTTP
// components is how request smuggling starts:
//   * lines end in CRLF (bare LF or CR -> 400); obs-fold -> 400; empty lines before the
//     request line are skipped (RFC 9112 2.2);
//   * versions other than HTTP/1.0 and HTTP/1.1 -> 505; request line longer than the header
//     limit -> 414; headers longer than max_header_bytes or more than max_headers -> 431;
//   * Content-Length must be digits; duplicates must agree; larger than max_body_bytes -> 413
//     as soon as the header block is complete (before any body byte is read);
//   * Transfer-Encoding must be exactly "chunked" (anything else -> 501); together with
//     Content-Length, twice, or in an HTTP/1.0 request -> 400; trailers are validated and
//     dropped; a chunked body growing past max_body_bytes -> 413;
//   * Expect: 100-continue is reported through expects_continue(); other expectations -> 417.
//
// Chunked bodies are de-chunked in place (data moves down over the chunk framing), so the body
// is one contiguous string_view into the buffer and no second buffer is allocated. In steady
// state (keep-alive, similar requests) Parse() allocates nothing: the buffer and the header
// vector keep their capacity between requests.
//
// Thread-compatible: one parser per connection, used from one thread at a time.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace pinpipe::http {

struct ParserLimits {
  size_t max_header_bytes = 16 * 1024;  // request line + headers (+ trailers, separately)
  size_t max_body_bytes = 64 * 1024 * 1024;
  size_t max_headers = 100;
};

class RequestParser {
 public:
  enum class Result { kNeedMore, kComplete, kError };

  explicit RequestParser(ParserLimits limits = {});
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Appends `bytes` and parses as far as possible. Equivalent to PrepareWrite + copy + Commit +
  // Parse.
  Result Feed(std::string_view bytes);

  // Returns writable space of at least `min_bytes` at the end of the buffered data (usually
  // more: read as much as fits). May move the buffered bytes; request() is kept valid.
  std::span<char> PrepareWrite(size_t min_bytes);
  // Marks `n` bytes of the span returned by PrepareWrite as received.
  void Commit(size_t n);

  // Parses the buffered bytes of the current request. Idempotent once complete or failed:
  // further calls return the same result until NextRequest()/Reset().
  Result Parse();

  // The parsed request; valid after kComplete until NextRequest(), Reset() or destruction.
  const Request& request() const { return request_; }

  // After kError: the HTTP status to answer (400, 413, 414, 417, 431, 501, 505) and why.
  int error_status() const { return error_status_; }
  std::string_view error_detail() const { return error_detail_; }

  // True once any byte of the current request has been received (it has "started": from
  // now on the request timeout applies, not the idle timeout).
  bool started() const { return len_ > 0; }
  // True once the header block of the current request has been parsed successfully.
  bool headers_complete() const { return state_ > State::kHeaders && state_ != State::kError; }
  // The request is HTTP/1.1 and carries "Expect: 100-continue".
  bool expects_continue() const { return expect_continue_; }
  // 0 for HTTP/1.0, 1 for HTTP/1.1; valid once the request line is parsed.
  int version_minor() const { return version_minor_; }

  // Drops the completed request; bytes received after it (pipelining) stay buffered and
  // become the start of the next request. Call only after kComplete.
  void NextRequest();
  // Drops everything buffered and starts over (used to discard input while closing).
  void Reset();

  // Bytes received but not yet consumed by a completed request (for tests).
  size_t buffered() const { return len_ - pos_; }

 private:
  enum class State {
    kRequestLine,
    kHeaders,
    kBody,        // Content-Length body
    kChunkSize,
    kChunkData,
    kChunkDataEnd,  // the CRLF after chunk data
    kTrailers,
    kComplete,
    kError,
  };

  // Offsets are relative to begin_ so the buffer can move (grow, compact) while a request is
  // partially parsed; string_views are made from them only once the request is complete.
  struct Span {
    size_t offset = 0;
    size_t size = 0;
  };
  struct HeaderSpan {
    Span name;
    Span value;
  };

  char* base() { return buffer_.data() + begin_; }
  const char* base() const { return buffer_.data() + begin_; }
  std::string_view View(Span s) const { return {base() + s.offset, s.size}; }

  Result Fail(int status, std::string_view detail);
  // Finds the CRLF ending the line that starts at pos_. Returns the offset of the '\n', or
  // npos when more bytes are needed. Rejects bare LF.
  size_t FindLineEnd(bool* bare_lf);
  Result ParseRequestLine(size_t line_end);
  Result ParseHeaderLine(size_t line_end);
  Result OnHeadersComplete();
  Result ParseChunkSize(size_t line_end);
  Result ParseTrailerLine(size_t line_end);
  void Complete();
  void Materialize();
  void ResetRequestState();

  ParserLimits limits_;

  // Buffer: buffer_.size() is the capacity (resized, never shrunk by clear()), the current
  // request starts at begin_, len_ bytes are buffered from there and pos_ is the parse point.
  std::string buffer_;
  size_t begin_ = 0;
  size_t len_ = 0;
  size_t pos_ = 0;
  size_t scan_ = 0;  // where the search for the current line's LF resumes

  State state_ = State::kRequestLine;
  int error_status_ = 0;
  std::string_view error_detail_;

  // Request line and headers.
  Span method_;
  Span target_;
  int version_minor_ = 1;
  std::vector<HeaderSpan> header_spans_;
  size_t headers_end_ = 0;  // offset just past the blank line
  bool has_content_length_ = false;
  size_t content_length_ = 0;
  bool content_length_too_big_ = false;
  int transfer_encoding_count_ = 0;
  bool chunked_ = false;
  bool unsupported_encoding_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool expect_continue_ = false;
  bool unsupported_expectation_ = false;

  // Body. For chunked bodies [body_begin_, body_end_) is the de-chunked data so far and
  // pos_ >= body_end_ is where the raw chunk stream continues.
  size_t body_begin_ = 0;
  size_t body_end_ = 0;
  size_t chunk_remaining_ = 0;
  size_t trailers_begin_ = 0;

  Request request_;
};

}  // namespace pinpipe::http

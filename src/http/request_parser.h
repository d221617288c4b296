// RequestParser: an incremental HTTP/1.1 request parser with explicit limits.
//
// The parser owns the connection's receive buffer. Bytes are appended either by copying
// (Feed(), for tests and the fuzzer) or by reading straight into it (PrepareWrite() + Commit(),
// for the server, which saves a copy). Parse() resumes where the previous call stopped, so a
// request split into any number of pieces is scanned once; the result is kNeedMore, kComplete
// or kError (with an HTTP status and a short human-readable detail). With PauseAfterHeaders(true)
// Parse() also stops once per request at kHeaders, after the header block and before any body
// byte is looked at: the caller then sees the request's head (method, target, headers), may set
// this request's body limit (SetBodyLimit) and resumes with Parse().
//
// Framing rules (RFC 9112), chosen strictly because a lenient parser in front of other HTTP
// components is how request smuggling starts:
//   * lines end in CRLF (bare LF or CR -> 400); obs-fold -> 400; empty lines before the
//     request line are skipped (RFC 9112 2.2);
//   * versions other than HTTP/1.0 and HTTP/1.1 -> 505; request line longer than the header
//     limit -> 414; headers longer than max_header_bytes or more than max_headers -> 431;
//   * Host (RFC 9112 3.2): an HTTP/1.1 request without one, a request with more than one, or
//     one whose value is not a host[:port] -> 400; more than one Authorization -> 400 (which
//     one would decide is exactly the ambiguity a smuggling attack uses);
//   * Content-Length must be digits; duplicates must agree; larger than the body limit -> 413
//     as soon as the header block is complete (before any body byte is read);
//   * Transfer-Encoding must be exactly "chunked" (anything else -> 501); together with
//     Content-Length, twice, or in an HTTP/1.0 request -> 400; trailers are validated and
//     dropped; a chunked body growing past the body limit -> 413;
//   * Expect: 100-continue is reported through expects_continue(); other expectations -> 417.
//
// Chunked bodies are de-chunked in place (data moves down over the chunk framing), so the body
// is one contiguous string_view into the buffer and no second buffer is allocated. A
// Content-Length body grows the buffer once to the request's exact size (no doubling, no
// zero-filling). In steady state (keep-alive, similar requests) Parse() allocates nothing: the
// buffer and the header vector keep their capacity between requests; a buffer that a request
// grew past kKeepBytes is released when that request is done (NextRequest, Reset).
//
// Thread-compatible: one parser per connection, used from one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"

namespace pinpipe::http {

struct ParserLimits {
  size_t max_header_bytes = 16 * 1024;       // request line + headers (+ trailers, separately)
  size_t max_body_bytes = 64 * 1024 * 1024;  // default body limit of each request
  size_t max_headers = 100;
};

class RequestParser {
 public:
  enum class Result { kNeedMore, kHeaders, kComplete, kError };

  // A buffer grown past this by a request is released once the request is done.
  static constexpr size_t kKeepBytes = 64 * 1024;

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
  // further calls return the same result until NextRequest()/Reset(). kHeaders is returned
  // once per request, and only with PauseAfterHeaders(true); the next call goes on.
  Result Parse();

  // Off by default. When on, Parse() stops at kHeaders after each request's header block.
  void PauseAfterHeaders(bool pause) { pause_after_headers_ = pause; }
  // At kHeaders: the body limit for this request only (413 above it, Content-Length checked on
  // the next Parse()). Later requests start again from ParserLimits::max_body_bytes.
  void SetBodyLimit(size_t bytes) { body_limit_ = bytes; }
  size_t body_limit() const { return body_limit_; }

  // After kComplete: the parsed request, valid until NextRequest(), Reset() or destruction.
  // At kHeaders: the same without a body, valid until the next PrepareWrite(), Feed() or
  // Parse().
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
  // Once the headers are complete: the body's framing. content_length() is 0 without one.
  size_t content_length() const { return content_length_; }
  bool chunked() const { return chunked_; }
  bool has_body() const { return chunked_ || content_length_ > 0; }

  // Drops the completed request; bytes received after it (pipelining) stay buffered and
  // become the start of the next request. Call only after kComplete.
  void NextRequest();
  // Drops everything buffered and starts over (used to discard input while closing).
  void Reset();

  // Bytes received but not yet consumed by a completed request (for tests).
  size_t buffered() const { return len_ - pos_; }
  // The receive buffer's size: the memory this parser holds.
  size_t capacity() const { return capacity_; }

 private:
  enum class State {
    kRequestLine,
    kHeaders,
    kHeadersDone,  // paused after the header block (PauseAfterHeaders)
    kBody,         // Content-Length body
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

  char* base() { return buffer_.get() + begin_; }
  const char* base() const { return buffer_.get() + begin_; }
  std::string_view View(Span s) const { return {base() + s.offset, s.size}; }

  Result Fail(int status, std::string_view detail);
  // Finds the CRLF ending the line that starts at pos_. Returns the offset of the '\n', or
  // npos when more bytes are needed. Rejects bare LF.
  size_t FindLineEnd(bool* bare_lf);
  Result ParseRequestLine(size_t line_end);
  Result ParseHeaderLine(size_t line_end);
  Result OnHeadersComplete();
  Result BeginBody();
  Result ParseChunkSize(size_t line_end);
  Result ParseTrailerLine(size_t line_end);
  void Complete();
  void Materialize();
  void ResetRequestState();
  // Moves the buffered bytes into a new buffer of `capacity` bytes (not zero-filled).
  void Reallocate(size_t capacity);

  ParserLimits limits_;
  bool pause_after_headers_ = false;

  // Buffer: capacity_ bytes (uninitialised beyond what was received), the current request
  // starts at begin_, len_ bytes are buffered from there and pos_ is the parse point.
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
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
  size_t body_limit_ = 0;
  int host_count_ = 0;
  bool host_invalid_ = false;
  int authorization_count_ = 0;
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

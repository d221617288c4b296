#include "http/request_parser.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/ascii.h"
#include "core/check.h"

namespace pinpipe::http {
namespace {

constexpr size_t kNpos = std::string_view::npos;
// First allocation; enough for any ordinary API request so steady state never grows.
constexpr size_t kInitialBuffer = 8 * 1024;
// A chunk-size line is a few hex digits; extensions are ignored but bounded.
constexpr size_t kMaxChunkLine = 4 * 1024;

enum CharClass : uint8_t {
  kToken = 1,       // tchar (RFC 9110 5.6.2)
  kFieldValue = 2,  // VCHAR / SP / HTAB / obs-text
  kTargetChar = 4,  // visible ASCII: no space, no CTL, no obs-text
  kHostChar = 8,    // uri-host [":" port] (RFC 3986: unreserved, pct-encoded, sub-delims, []:)
};

constexpr std::array<uint8_t, 256> MakeCharTable() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    uint8_t bits = 0;
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                std::string_view::npos)) {
      bits |= kToken;
    }
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) bits |= kFieldValue;
    if (c > 0x20 && c < 0x7f) bits |= kTargetChar;
    if (alnum || (c != 0 && std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) !=
                                std::string_view::npos)) {
      bits |= kHostChar;
    }
    table[static_cast<size_t>(c)] = bits;
  }
  return table;
}
constexpr std::array<uint8_t, 256> kCharTable = MakeCharTable();

bool Is(char c, CharClass cls) { return (kCharTable[static_cast<unsigned char>(c)] & cls) != 0; }
bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         core::EqualsIgnoreAsciiCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  for (const auto& header : headers) {
    if (core::EqualsIgnoreAsciiCase(header.name, name)) return header.value;
  }
  return {};
}

RequestParser::RequestParser(ParserLimits limits)
    : limits_(limits), body_limit_(limits.max_body_bytes) {}

RequestParser::Result RequestParser::Feed(std::string_view bytes) {
  if (state_ == State::kError) return Result::kError;
  if (!bytes.empty()) {
    std::span<char> space = PrepareWrite(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    Commit(bytes.size());
  }
  return Parse();
}

std::span<char> RequestParser::PrepareWrite(size_t min_bytes) {
  // A Content-Length body needs exactly its missing bytes: asking for more would grow a buffer
  // sized to the request by one more (copying) step just before the end.
  if (state_ == State::kBody && body_begin_ + content_length_ > len_) {
    min_bytes = std::min(min_bytes, body_begin_ + content_length_ - len_);
  }
  size_t tail = capacity_ - begin_ - len_;
  if (tail < min_bytes) {
    bool moved = false;
    // Chunk framing already consumed sits between the de-chunked body and the parse point;
    // squeeze it out so many small chunks cannot grow the buffer past body + one read.
    bool in_chunks = state_ == State::kChunkSize || state_ == State::kChunkData ||
                     state_ == State::kChunkDataEnd;
    if (in_chunks && pos_ > body_end_) {
      size_t gap = pos_ - body_end_;
      std::memmove(base() + body_end_, base() + pos_, len_ - pos_);
      len_ -= gap;
      pos_ -= gap;
      scan_ -= gap;
    }
    // Bytes of requests already answered precede begin_; drop them.
    if (begin_ > 0) {
      std::memmove(buffer_.get(), base(), len_);
      begin_ = 0;
      moved = true;
    }
    tail = capacity_ - len_;
    if (tail < min_bytes) {
      const size_t want = len_ + min_bytes;
      size_t grow = std::max({capacity_ * 2, want, kInitialBuffer});
      if (state_ == State::kBody) {
        // The request's size is known: grow once, to exactly that.
        grow = std::max(want, body_begin_ + content_length_);
      } else if (in_chunks || state_ == State::kTrailers) {
        // Doubling must not overshoot what the body limit allows (plus framing and trailers).
        const size_t framing = headers_end_ + kMaxChunkLine + limits_.max_header_bytes;
        const size_t most = body_limit_ > SIZE_MAX - framing ? SIZE_MAX : body_limit_ + framing;
        grow = std::max(want, std::min(grow, most));
      }
      Reallocate(grow);
      moved = true;
    }
    if (moved && (state_ == State::kComplete || state_ == State::kHeadersDone)) Materialize();
  }
  return {base() + len_, capacity_ - begin_ - len_};
}

void RequestParser::Reallocate(size_t capacity) {
  // new char[] leaves the bytes uninitialised: a large body's pages are touched only as data
  // arrives, and nothing is zero-filled just to be overwritten.
  std::unique_ptr<char[]> bigger(new char[capacity]);
  if (len_ > 0) std::memcpy(bigger.get(), base(), len_);
  buffer_ = std::move(bigger);
  capacity_ = capacity;
  begin_ = 0;
}

void RequestParser::Commit(size_t n) {
  PINPIPE_CHECK(begin_ + len_ + n <= capacity_) << "Commit past PrepareWrite";
  len_ += n;
}

RequestParser::Result RequestParser::Fail(int status, std::string_view detail) {
  state_ = State::kError;
  error_status_ = status;
  error_detail_ = detail;
  return Result::kError;
}

size_t RequestParser::FindLineEnd(bool* bare_lf) {
  if (scan_ == len_) return kNpos;  // also: no buffer yet (memchr must not see a null pointer)
  const void* found = std::memchr(base() + scan_, '\n', len_ - scan_);
  if (found == nullptr) {
    scan_ = len_;
    return kNpos;
  }
  size_t lf = static_cast<size_t>(static_cast<const char*>(found) - base());
  *bare_lf = lf == pos_ || base()[lf - 1] != '\r';
  return lf;
}

RequestParser::Result RequestParser::Parse() {
  for (;;) {
    switch (state_) {
      case State::kComplete: return Result::kComplete;
      case State::kError: return Result::kError;
      case State::kHeadersDone:
        if (BeginBody() == Result::kError) return Result::kError;
        break;

      case State::kRequestLine:
      case State::kHeaders: {
        bool bare_lf = false;
        size_t lf = FindLineEnd(&bare_lf);
        size_t seen = lf == kNpos ? len_ : lf + 1;  // header bytes so far, from request start
        if (seen > limits_.max_header_bytes) {
          return state_ == State::kRequestLine
                     ? Fail(414, "request line longer than the header size limit")
                     : Fail(431, "request headers larger than the header size limit");
        }
        if (lf == kNpos) return Result::kNeedMore;
        if (bare_lf) return Fail(400, "line ends in a bare LF; expected CRLF");
        Result r = state_ == State::kRequestLine ? ParseRequestLine(lf) : ParseHeaderLine(lf);
        if (r != Result::kNeedMore) return r;
        break;
      }

      case State::kBody:
        if (len_ - body_begin_ < content_length_) return Result::kNeedMore;
        body_end_ = body_begin_ + content_length_;
        pos_ = body_end_;
        Complete();
        break;

      case State::kChunkSize: {
        bool bare_lf = false;
        size_t lf = FindLineEnd(&bare_lf);
        size_t seen = (lf == kNpos ? len_ : lf + 1) - pos_;
        if (seen > kMaxChunkLine) return Fail(400, "chunk size line too long");
        if (lf == kNpos) return Result::kNeedMore;
        if (bare_lf) return Fail(400, "chunk size line ends in a bare LF; expected CRLF");
        if (ParseChunkSize(lf) == Result::kError) return Result::kError;
        break;
      }

      case State::kChunkData: {
        size_t n = std::min(len_ - pos_, chunk_remaining_);
        if (n == 0) return Result::kNeedMore;
        if (pos_ != body_end_) std::memmove(base() + body_end_, base() + pos_, n);
        body_end_ += n;
        pos_ += n;
        chunk_remaining_ -= n;
        if (chunk_remaining_ == 0) state_ = State::kChunkDataEnd;
        break;
      }

      case State::kChunkDataEnd: {
        size_t have = len_ - pos_;
        if (have >= 1 && base()[pos_] != '\r') return Fail(400, "chunk data not followed by CRLF");
        if (have < 2) return Result::kNeedMore;
        if (base()[pos_ + 1] != '\n') return Fail(400, "chunk data not followed by CRLF");
        pos_ += 2;
        scan_ = pos_;
        state_ = State::kChunkSize;
        break;
      }

      case State::kTrailers: {
        bool bare_lf = false;
        size_t lf = FindLineEnd(&bare_lf);
        size_t seen = (lf == kNpos ? len_ : lf + 1) - trailers_begin_;
        if (seen > limits_.max_header_bytes) {
          return Fail(431, "chunked trailers larger than the header size limit");
        }
        if (lf == kNpos) return Result::kNeedMore;
        if (bare_lf) return Fail(400, "trailer line ends in a bare LF; expected CRLF");
        if (ParseTrailerLine(lf) == Result::kError) return Result::kError;
        break;
      }
    }
  }
}

// The helpers below return kError after Fail(), otherwise kNeedMore meaning "go on parsing".

RequestParser::Result RequestParser::ParseRequestLine(size_t lf) {
  const char* p = base() + pos_;
  size_t n = lf - 1 - pos_;  // without CRLF
  if (n == 0) {
    // RFC 9112 2.2: ignore empty lines before the request line (stray CRLF after a body).
    pos_ = lf + 1;
    scan_ = pos_;
    return Result::kNeedMore;
  }
  size_t i = 0;
  while (i < n && Is(p[i], kToken)) ++i;
  if (i == 0 || i == n || p[i] != ' ') return Fail(400, "malformed request line (method)");
  method_ = {pos_, i};
  size_t target_begin = ++i;
  while (i < n && p[i] != ' ') {
    if (!Is(p[i], kTargetChar)) return Fail(400, "invalid character in request target");
    ++i;
  }
  if (i == target_begin || i == n) return Fail(400, "malformed request line (target)");
  target_ = {pos_ + target_begin, i - target_begin};
  std::string_view target = View(target_);
  if (target[0] != '/' && target != "*" && !StartsWithIgnoreCase(target, "http://") &&
      !StartsWithIgnoreCase(target, "https://")) {
    return Fail(400, "request target must be a path, an absolute URI or *");
  }
  std::string_view version(p + i + 1, n - i - 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' ||
      version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9') {
    return Fail(400, "malformed request line (HTTP version)");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return Fail(505, "HTTP version not supported; use HTTP/1.1 or HTTP/1.0");
  }
  version_minor_ = version[7] - '0';
  pos_ = lf + 1;
  scan_ = pos_;
  state_ = State::kHeaders;
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::ParseHeaderLine(size_t lf) {
  const char* p = base() + pos_;
  size_t n = lf - 1 - pos_;
  if (n == 0) {
    pos_ = lf + 1;
    scan_ = pos_;
    headers_end_ = pos_;
    return OnHeadersComplete();
  }
  if (IsOws(p[0])) return Fail(400, "obsolete header line folding is not allowed");
  size_t i = 0;
  while (i < n && Is(p[i], kToken)) ++i;
  if (i == n || p[i] != ':') return Fail(400, "malformed header name");
  if (i == 0) return Fail(400, "empty header name");
  size_t name_len = i++;
  while (i < n && IsOws(p[i])) ++i;
  size_t value_begin = i;
  size_t value_end = n;
  while (value_end > value_begin && IsOws(p[value_end - 1])) --value_end;
  for (size_t k = value_begin; k < value_end; ++k) {
    if (!Is(p[k], kFieldValue)) return Fail(400, "invalid character in header value");
  }
  if (header_spans_.size() >= limits_.max_headers) return Fail(431, "too many request headers");
  HeaderSpan header{{pos_, name_len}, {pos_ + value_begin, value_end - value_begin}};
  header_spans_.push_back(header);
  pos_ = lf + 1;
  scan_ = pos_;

  // Headers that decide framing and connection handling are interpreted here, once.
  std::string_view name = View(header.name);
  std::string_view value = View(header.value);
  if (core::EqualsIgnoreAsciiCase(name, "host")) {
    ++host_count_;
    for (char c : value) {
      if (!Is(c, kHostChar)) host_invalid_ = true;
    }
  } else if (core::EqualsIgnoreAsciiCase(name, "authorization")) {
    ++authorization_count_;
  } else if (core::EqualsIgnoreAsciiCase(name, "content-length")) {
    if (value.empty()) return Fail(400, "Content-Length must be a non-negative decimal integer");
    size_t length = 0;
    bool too_big = false;
    for (char c : value) {
      if (c < '0' || c > '9') {
        return Fail(400, "Content-Length must be a non-negative decimal integer");
      }
      if (length > (std::numeric_limits<size_t>::max() - 9) / 10) {
        too_big = true;  // keep validating digits; the value only matters as "too big"
      } else {
        length = length * 10 + static_cast<size_t>(c - '0');
      }
    }
    if (has_content_length_ && (length != content_length_ || too_big != content_length_too_big_)) {
      return Fail(400, "conflicting Content-Length headers");
    }
    has_content_length_ = true;
    content_length_ = length;
    content_length_too_big_ = too_big;
  } else if (core::EqualsIgnoreAsciiCase(name, "transfer-encoding")) {
    ++transfer_encoding_count_;
    if (core::EqualsIgnoreAsciiCase(value, "chunked")) {
      chunked_ = true;
    } else {
      unsupported_encoding_ = true;
    }
  } else if (core::EqualsIgnoreAsciiCase(name, "connection")) {
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view option = TrimOws(rest.substr(0, comma));
      if (core::EqualsIgnoreAsciiCase(option, "close")) connection_close_ = true;
      if (core::EqualsIgnoreAsciiCase(option, "keep-alive")) connection_keep_alive_ = true;
      rest = comma == kNpos ? std::string_view() : rest.substr(comma + 1);
    }
  } else if (core::EqualsIgnoreAsciiCase(name, "expect")) {
    if (core::EqualsIgnoreAsciiCase(value, "100-continue")) {
      // RFC 9110 10.1.1: a server must not send 100 to an HTTP/1.0 client.
      if (version_minor_ == 1) expect_continue_ = true;
    } else {
      unsupported_expectation_ = true;
    }
  }
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::OnHeadersComplete() {
  // RFC 9112 3.2: the Host rules are MUSTs for a server; two Authorization headers would let
  // the first or the last decide, depending on who reads them.
  if (host_count_ > 1) return Fail(400, "more than one Host header");
  if (host_count_ == 0 && version_minor_ == 1) return Fail(400, "HTTP/1.1 request without Host");
  if (host_invalid_) return Fail(400, "invalid Host header value");
  if (authorization_count_ > 1) return Fail(400, "more than one Authorization header");
  if (transfer_encoding_count_ > 0) {
    // RFC 9112 6.1: chunked framing in HTTP/1.0, or TE next to Content-Length, are classic
    // request-smuggling vectors; refuse them rather than guess which framing a proxy used.
    if (version_minor_ == 0) return Fail(400, "Transfer-Encoding is not allowed in HTTP/1.0");
    if (has_content_length_) return Fail(400, "both Content-Length and Transfer-Encoding given");
    if (unsupported_encoding_) {
      return Fail(501, "unsupported Transfer-Encoding; only chunked is supported");
    }
    if (transfer_encoding_count_ > 1) return Fail(400, "Transfer-Encoding given more than once");
  }
  if (unsupported_expectation_) return Fail(417, "only Expect: 100-continue is supported");
  if (content_length_too_big_) return Fail(413, "request body larger than the body size limit");
  body_begin_ = pos_;
  body_end_ = pos_;
  if (pause_after_headers_) {
    state_ = State::kHeadersDone;
    Materialize();
    return Result::kHeaders;
  }
  return BeginBody();
}

RequestParser::Result RequestParser::BeginBody() {
  if (content_length_ > body_limit_) {
    return Fail(413, "request body larger than the body size limit");
  }
  if (chunked_) {
    state_ = State::kChunkSize;
  } else if (content_length_ > 0) {
    state_ = State::kBody;
  } else {
    Complete();
  }
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::ParseChunkSize(size_t lf) {
  const char* p = base() + pos_;
  size_t n = lf - 1 - pos_;
  size_t i = 0;
  size_t size = 0;
  size_t body_so_far = body_end_ - body_begin_;
  while (i < n && HexValue(p[i]) >= 0) {
    size = size * 16 + static_cast<size_t>(HexValue(p[i]));
    // Checked per digit, so the value cannot overflow before it is rejected.
    if (size > body_limit_ - body_so_far) {
      return Fail(413, "request body larger than the body size limit");
    }
    ++i;
  }
  if (i == 0) return Fail(400, "malformed chunk size");
  while (i < n && IsOws(p[i])) ++i;
  if (i < n) {
    if (p[i] != ';') return Fail(400, "malformed chunk size");
    for (++i; i < n; ++i) {
      if (!Is(p[i], kFieldValue)) return Fail(400, "invalid character in chunk extension");
    }
  }
  pos_ = lf + 1;
  scan_ = pos_;
  if (size == 0) {
    trailers_begin_ = pos_;
    state_ = State::kTrailers;
  } else {
    chunk_remaining_ = size;
    state_ = State::kChunkData;
  }
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::ParseTrailerLine(size_t lf) {
  const char* p = base() + pos_;
  size_t n = lf - 1 - pos_;
  pos_ = lf + 1;
  scan_ = pos_;
  if (n == 0) {
    Complete();
    return Result::kNeedMore;
  }
  // Trailers are ignored, but still have to be well-formed field lines.
  if (IsOws(p[0])) return Fail(400, "obsolete line folding in trailers is not allowed");
  size_t i = 0;
  while (i < n && Is(p[i], kToken)) ++i;
  if (i == 0 || i == n || p[i] != ':') return Fail(400, "malformed trailer field");
  for (++i; i < n; ++i) {
    if (!Is(p[i], kFieldValue)) return Fail(400, "invalid character in trailer field");
  }
  return Result::kNeedMore;
}

void RequestParser::Complete() {
  state_ = State::kComplete;
  Materialize();
}

void RequestParser::Materialize() {
  request_.method = View(method_);
  request_.target = View(target_);
  std::string_view rest = request_.target;
  if (rest[0] != '/' && rest != "*") {
    // absolute-form "http://host:port/path?q": the path starts after the authority.
    size_t authority = rest.find("://") + 3;
    size_t path_begin = rest.find_first_of("/?", authority);
    rest = path_begin == kNpos ? std::string_view() : rest.substr(path_begin);
  }
  size_t question = rest.find('?');
  request_.path = rest.substr(0, question);
  if (request_.path.empty()) request_.path = "/";
  request_.query = question == kNpos ? std::string_view() : rest.substr(question + 1);
  request_.headers.clear();
  for (const HeaderSpan& h : header_spans_)
    request_.headers.push_back({View(h.name), View(h.value)});
  request_.body = std::string_view(base() + body_begin_, body_end_ - body_begin_);
  request_.keep_alive = !connection_close_ && (version_minor_ == 1 || connection_keep_alive_);
}

void RequestParser::NextRequest() {
  PINPIPE_CHECK(state_ == State::kComplete) << "NextRequest before a complete request";
  begin_ += pos_;
  len_ -= pos_;
  if (len_ == 0) begin_ = 0;
  // Keep-alive connections keep a small buffer for speed; one that a large request grew gives
  // the memory back now (pipelined bytes beyond the small size are rare and keep it).
  if (capacity_ > kKeepBytes && len_ <= kInitialBuffer) Reallocate(kInitialBuffer);
  pos_ = 0;
  scan_ = 0;
  ResetRequestState();
}

void RequestParser::Reset() {
  begin_ = 0;
  len_ = 0;
  if (capacity_ > kKeepBytes) {
    buffer_.reset();
    capacity_ = 0;
  }
  pos_ = 0;
  scan_ = 0;
  ResetRequestState();
}

void RequestParser::ResetRequestState() {
  state_ = State::kRequestLine;
  error_status_ = 0;
  error_detail_ = {};
  method_ = {};
  target_ = {};
  version_minor_ = 1;
  header_spans_.clear();
  headers_end_ = 0;
  body_limit_ = limits_.max_body_bytes;
  host_count_ = 0;
  host_invalid_ = false;
  authorization_count_ = 0;
  has_content_length_ = false;
  content_length_ = 0;
  content_length_too_big_ = false;
  transfer_encoding_count_ = 0;
  chunked_ = false;
  unsupported_encoding_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
  expect_continue_ = false;
  unsupported_expectation_ = false;
  body_begin_ = 0;
  body_end_ = 0;
  chunk_remaining_ = 0;
  trailers_begin_ = 0;
  // Field by field so the header vector keeps its capacity across requests.
  request_.method = {};
  request_.target = {};
  request_.path = {};
  request_.query = {};
  request_.headers.clear();
  request_.body = {};
  request_.keep_alive = true;
}

}  // namespace pinpipe::http

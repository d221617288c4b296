// libFuzzer target for RequestParser. The input (after its first byte) is a byte stream of
// pipelined requests; it is parsed twice, once whole and once in two chunks split at a point
// derived from the first byte, and both runs must agree request by request. Each complete
// request is checked against the framing invariants. When the first byte is odd the parser
// pauses after each header block (as the server runs it) and every other request gets a
// smaller body limit, which its body must then respect.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.h"

namespace {

using pinpipe::http::ParserLimits;
using pinpipe::http::Request;
using pinpipe::http::RequestParser;

// Small limits so the fuzzer reaches the limit paths with short inputs.
constexpr ParserLimits kLimits{.max_header_bytes = 512, .max_body_bytes = 2048, .max_headers = 16};
constexpr int kMaxRequests = 16;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void CheckRequest(const Request& r) {
  Check(!r.method.empty(), "empty method");
  Check(!r.target.empty(), "empty target");
  Check(!r.path.empty() && (r.path[0] == '/' || r.path == "*"), "path must start with /");
  Check(r.body.size() <= kLimits.max_body_bytes, "body over the limit");
  Check(r.headers.size() <= kLimits.max_headers, "too many headers");
  std::string_view length = r.Header("content-length");
  std::string_view encoding = r.Header("transfer-encoding");
  if (!encoding.empty()) {
    Check(length.empty(), "Content-Length together with Transfer-Encoding accepted");
  } else if (!length.empty()) {
    Check(IsDigits(length), "non-digit Content-Length accepted");
    Check(std::stoull(std::string(length)) == r.body.size(), "body length != Content-Length");
  } else {
    Check(r.body.empty(), "body without framing");
  }
  for (const auto& h : r.headers) {
    Check(!h.name.empty(), "empty header name");
    Check(h.name.find_first_of(" \t:\r\n") == std::string_view::npos, "bad header name");
    Check(h.value.find_first_of("\r\n") == std::string_view::npos, "CR/LF in header value");
  }
}

// One request's outcome, for comparing the two runs.
struct Outcome {
  int status = 0;  // 0: complete
  std::string method, target, body;
  bool keep_alive = false;
  bool operator==(const Outcome&) const = default;
};

// Parses `input` fed as input[0, split) then input[split, end), collecting every request.
std::vector<Outcome> Run(std::string_view input, size_t split, bool pause) {
  RequestParser parser(kLimits);
  parser.PauseAfterHeaders(pause);
  std::vector<Outcome> outcomes;
  size_t limit = kLimits.max_body_bytes;
  std::string_view pieces[2] = {input.substr(0, split), input.substr(split)};
  for (std::string_view piece : pieces) {
    RequestParser::Result r = parser.Feed(piece);
    while (static_cast<int>(outcomes.size()) < kMaxRequests) {
      if (r == RequestParser::Result::kNeedMore) break;
      if (r == RequestParser::Result::kHeaders) {
        Check(pause, "paused without PauseAfterHeaders");
        Check(parser.headers_complete(), "kHeaders before the header block is complete");
        Check(parser.request().body.empty(), "a body in the head");
        Check(!parser.request().method.empty(), "head without a method");
        limit = outcomes.size() % 2 == 0 ? kLimits.max_body_bytes : kLimits.max_body_bytes / 8;
        parser.SetBodyLimit(limit);
        r = parser.Parse();
        Check(r != RequestParser::Result::kHeaders, "kHeaders twice for one request");
        continue;
      }
      Outcome o;
      if (r == RequestParser::Result::kError) {
        o.status = parser.error_status();
        Check(o.status >= 400 && o.status <= 505, "error status out of range");
        Check(!parser.error_detail().empty(), "error without detail");
        outcomes.push_back(o);
        return outcomes;
      }
      const Request& request = parser.request();
      CheckRequest(request);
      Check(request.body.size() <= limit, "body over the request's own limit");
      Check(request.Header("host").empty() ||
                request.Header("host").find(' ') == std::string_view::npos,
            "invalid Host accepted");
      o.method = request.method;
      o.target = request.target;
      o.body = request.body;
      o.keep_alive = request.keep_alive;
      outcomes.push_back(std::move(o));
      parser.NextRequest();
      r = parser.Parse();
    }
  }
  return outcomes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = input.size() * data[0] / 255;
  const bool pause = (data[0] & 1) != 0;
  std::vector<Outcome> whole = Run(input, input.size(), pause);
  std::vector<Outcome> chunked = Run(input, split, pause);
  Check(whole == chunked, "result depends on how the input was split");
  return 0;
}

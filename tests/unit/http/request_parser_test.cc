#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace pinpipe::http {
namespace {

// Limits used by every table case: small so the limit cases stay readable.
constexpr ParserLimits kLimits{.max_header_bytes = 256, .max_body_bytes = 64, .max_headers = 8};

// One raw request and what parsing it must produce. status == 0 means "complete".
struct Case {
  std::string name;
  std::string raw;
  int status = 0;
  std::string method;
  std::string path;
  std::string query;
  std::string body;
  bool keep_alive = true;
};

Case Error(std::string name, std::string raw, int status) {
  Case c;
  c.name = std::move(name);
  c.raw = std::move(raw);
  c.status = status;
  return c;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // Complete requests.
      {"Get", "GET /pin/?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 0, "GET", "/pin/", "x=1", "", true},
      {"PostContentLength", "POST /pin/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 0,
       "POST", "/pin/", "", "hello", true},
      {"HeaderNamesCaseInsensitive", "POST / HTTP/1.1\r\nHost: h\r\ncOnTeNt-LeNgTh:3\r\n\r\nabc", 0,
       "POST", "/", "", "abc", true},
      {"Http10ClosesByDefault", "GET / HTTP/1.0\r\n\r\n", 0, "GET", "/", "", "", false},
      {"Http10KeepAlive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, "GET", "/", "", "",
       true},
      {"ConnectionCloseInList", "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, Close\r\n\r\n",
       0, "GET", "/", "", "", false},
      {"Chunked",
       "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n6;ext=\"v\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
       0, "POST", "/c", "", "hello world", true},
      {"ChunkedUpperHexAndCaseInsensitiveCoding",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
       "Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
       0, "POST", "/", "", "0123456789", true},
      {"ChunkedEmpty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       0, "POST", "/", "", "", true},
      {"LeadingEmptyLinesSkipped", "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n", 0, "GET", "/x", "",
       "", true},
      {"AbsoluteFormTarget", "GET http://h:8000/pin/?a=b HTTP/1.1\r\nHost: h\r\n\r\n", 0, "GET",
       "/pin/", "a=b", "", true},
      {"AbsoluteFormWithoutPath", "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", 0, "GET", "/", "", "",
       true},
      {"DuplicateEqualContentLength",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 0, "POST",
       "/", "", "ok", true},
      {"BodyAtLimit",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 64\r\n\r\n" + std::string(64, 'b'), 0, "POST",
       "/", "", std::string(64, 'b'), true},
      // Host (RFC 9112 3.2): required in HTTP/1.1, optional in HTTP/1.0, never twice.
      {"Http10WithoutHost", "GET /a HTTP/1.0\r\n\r\n", 0, "GET", "/a", "", "", false},
      {"EmptyHostAllowed", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, "GET", "/", "", "", true},
      {"HostWithPortAndIpLiteral", "GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n", 0, "GET", "/", "",
       "", true},
      {"OneAuthorization", "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n\r\n", 0, "GET",
       "/", "", "", true},
      {"EmptyHeaderValue", "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n", 0, "GET", "/", "", "",
       true},

      // Malformed: 400.
      Error("Http11WithoutHost", "GET / HTTP/1.1\r\n\r\n", 400),
      Error("Http11PostWithoutHost", "POST /pin/ HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 400),
      Error("TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
      Error("TwoEqualHosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400),
      Error("TwoHostsHttp10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
      Error("HostWithSpace", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
      Error("HostWithSlash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
      Error(
          "TwoAuthorizations",
          "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n",
          400),
      Error("TwoAuthorizationsWithBody",
            "POST / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nAuthorization: Bearer a\r\n"
            "Content-Length: 2\r\n\r\nhi",
            400),
      Error("BareLf", "GET / HTTP/1.1\nHost: a\n\n", 400),
      Error("BareLfInHeaders", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400),
      Error("ObsFold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n", 400),
      Error("SpaceBeforeColon", "GET / HTTP/1.1\r\nHost: h\r\nHost : a\r\n\r\n", 400),
      Error("MissingColon", "GET / HTTP/1.1\r\nHost: h\r\nHost a\r\n\r\n", 400),
      Error("ControlCharInValue", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n"),
            400),
      Error("NulInValue", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 36), 400),
      Error("EmptyMethod", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
      Error("TwoSpaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
      Error("TargetNotAPath", "GET pin HTTP/1.1\r\nHost: h\r\n\r\n", 400),
      Error("MissingVersion", "GET /\r\n\r\n", 400),
      Error("LowercaseVersion", "GET / http/1.1\r\n\r\n", 400),
      Error("NegativeContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
            400),
      Error("NonDigitContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5a\r\n\r\n",
            400),
      Error("PlusContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400),
      Error("ListContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", 400),
      Error("EmptyContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400),
      Error("ConflictingContentLength",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 400),
      Error("ContentLengthAndChunked",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400),
      Error("ChunkedInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
      Error("ChunkedTwice",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
            "chunked\r\n\r\n",
            400),
      Error("BadChunkSize",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
      Error("ChunkSizeSpaceGarbage",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", 400),
      Error("ChunkDataWithoutCrlf",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n", 400),
      Error("ChunkBareLf",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n", 400),
      Error("BadTrailer",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n",
            400),

      // Limits and unsupported features.
      Error("VersionTwo", "GET / HTTP/2.0\r\n\r\n", 505),
      Error("VersionOneTwo", "GET / HTTP/1.2\r\n\r\n", 505),
      Error("VersionZeroNine", "GET / HTTP/0.9\r\n\r\n", 505),
      Error("Gzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
      Error("GzipChunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501),
      Error("ExpectOther", "POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417),
      Error("ContentLengthOverLimit", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n",
            413),
      Error("ContentLengthHuge",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
            413),
      Error("ChunkOverLimit",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n", 413),
      Error("ChunksGrowOverLimit",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
                std::string(32, 'x') + "\r\n21\r\n",
            413),
      Error("ChunkSizeOverflow",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
            "chunked\r\n\r\nffffffffffffffffffffff\r\n",
            413),
      Error("HeadersTooLarge",
            "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(300, 'a') + "\r\n\r\n", 431),
      Error("HeadersNeverEnd", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(300, 'a'), 431),
      Error("TooManyHeaders",
            "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: "
            "1\r\nH: 1\r\nI: "
            "1\r\n\r\n",
            431),
      Error("RequestLineTooLong", "GET /" + std::string(300, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n",
            414),
      Error("TrailersTooLarge",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " +
                std::string(300, 't') + "\r\n\r\n",
            431),
  };
  return cases;
}

// What a parser ended with, comparable across ways of feeding the same bytes.
struct Outcome {
  RequestParser::Result result = RequestParser::Result::kNeedMore;
  int status = 0;
  std::string method, path, query, body;
  bool keep_alive = false;
};

Outcome Capture(const RequestParser& parser, RequestParser::Result result) {
  Outcome o;
  o.result = result;
  if (result == RequestParser::Result::kError) o.status = parser.error_status();
  if (result == RequestParser::Result::kComplete) {
    const Request& r = parser.request();
    o.method = r.method;
    o.path = r.path;
    o.query = r.query;
    o.body = r.body;
    o.keep_alive = r.keep_alive;
  }
  return o;
}

void ExpectMatches(const Case& c, const Outcome& o, const std::string& how) {
  SCOPED_TRACE(c.name + " fed " + how);
  if (c.status != 0) {
    ASSERT_EQ(o.result, RequestParser::Result::kError);
    EXPECT_EQ(o.status, c.status);
    return;
  }
  ASSERT_EQ(o.result, RequestParser::Result::kComplete);
  EXPECT_EQ(o.method, c.method);
  EXPECT_EQ(o.path, c.path);
  EXPECT_EQ(o.query, c.query);
  EXPECT_EQ(o.body, c.body);
  EXPECT_EQ(o.keep_alive, c.keep_alive);
}

class RequestParserTableTest : public testing::TestWithParam<Case> {};

TEST_P(RequestParserTableTest, WholeInput) {
  RequestParser parser(kLimits);
  ExpectMatches(GetParam(), Capture(parser, parser.Feed(GetParam().raw)), "whole");
}

TEST_P(RequestParserTableTest, SplitAtEveryByte) {
  const std::string& raw = GetParam().raw;
  for (size_t split = 0; split <= raw.size(); ++split) {
    RequestParser parser(kLimits);
    RequestParser::Result r = parser.Feed(std::string_view(raw).substr(0, split));
    if (r == RequestParser::Result::kNeedMore) r = parser.Feed(std::string_view(raw).substr(split));
    ExpectMatches(GetParam(), Capture(parser, r), "split at " + std::to_string(split));
    if (testing::Test::HasFailure()) return;
  }
}

TEST_P(RequestParserTableTest, OneByteAtATime) {
  const std::string& raw = GetParam().raw;
  RequestParser parser(kLimits);
  RequestParser::Result r = RequestParser::Result::kNeedMore;
  for (size_t i = 0; i < raw.size() && r == RequestParser::Result::kNeedMore; ++i) {
    r = parser.Feed(std::string_view(raw).substr(i, 1));
  }
  ExpectMatches(GetParam(), Capture(parser, r), "byte by byte");
}

INSTANTIATE_TEST_SUITE_P(Cases, RequestParserTableTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(RequestParserTest, ReportsErrorDetail) {
  RequestParser parser(kLimits);
  ASSERT_EQ(parser.Feed("GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n 2\r\n\r\n"),
            RequestParser::Result::kError);
  EXPECT_EQ(parser.error_status(), 400);
  EXPECT_EQ(parser.error_detail(), "obsolete header line folding is not allowed");
}

TEST(RequestParserTest, HeadersKeptAsReceived) {
  RequestParser parser(kLimits);
  ASSERT_EQ(parser.Feed("GET / HTTP/1.1\r\nHost:  example  \r\nX-Id: 7\r\n\r\n"),
            RequestParser::Result::kComplete);
  const Request& r = parser.request();
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].name, "Host");
  EXPECT_EQ(r.headers[0].value, "example");
  EXPECT_EQ(r.Header("x-id"), "7");
  EXPECT_EQ(r.Header("HOST"), "example");
  EXPECT_EQ(r.Header("missing"), "");
}

TEST(RequestParserTest, PipelinedRequestsParsedInOrder) {
  const std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\none";
  const std::string second =
      "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n";
  const std::string third = "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string all = first + second + third;
  // Every split of the byte stream gives the same three requests.
  for (size_t split = 0; split <= all.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    RequestParser parser(kLimits);
    std::vector<std::string> seen;
    RequestParser::Result r = parser.Feed(std::string_view(all).substr(0, split));
    auto drain = [&] {
      while (r == RequestParser::Result::kComplete) {
        seen.push_back(std::string(parser.request().path) + ":" +
                       std::string(parser.request().body));
        parser.NextRequest();
        r = parser.Parse();
      }
    };
    drain();
    r = parser.Feed(std::string_view(all).substr(split));
    drain();
    ASSERT_EQ(r, RequestParser::Result::kNeedMore);
    EXPECT_EQ(seen, (std::vector<std::string>{"/a:one", "/b:two", "/c:"}));
    EXPECT_EQ(parser.buffered(), 0u);
  }
}

TEST(RequestParserTest, RequestStaysValidWhilePipelinedBytesGrowTheBuffer) {
  RequestParser parser(ParserLimits{.max_header_bytes = 1024, .max_body_bytes = 1 << 20});
  ASSERT_EQ(parser.Feed("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"),
            RequestParser::Result::kComplete);
  // Forces the buffer to reallocate after the request was materialized.
  std::string next =
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + std::string(50000, 'z');
  ASSERT_EQ(parser.Feed(next), RequestParser::Result::kComplete);
  EXPECT_EQ(parser.request().path, "/a");
  EXPECT_EQ(parser.request().body, "body");
  parser.NextRequest();
  EXPECT_EQ(parser.Parse(), RequestParser::Result::kNeedMore);
  EXPECT_EQ(parser.Feed(std::string(50000, 'z')), RequestParser::Result::kComplete);
  EXPECT_EQ(parser.request().body.size(), 100000u);
}

TEST(RequestParserTest, ExpectContinueReportedOnceHeadersAreIn) {
  RequestParser parser(kLimits);
  ASSERT_EQ(parser.Feed(
                "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
            RequestParser::Result::kNeedMore);
  EXPECT_TRUE(parser.headers_complete());
  EXPECT_TRUE(parser.expects_continue());
  ASSERT_EQ(parser.Feed("hi"), RequestParser::Result::kComplete);
  EXPECT_EQ(parser.request().body, "hi");
}

TEST(RequestParserTest, ExpectContinueIgnoredForHttp10) {
  RequestParser parser(kLimits);
  ASSERT_EQ(parser.Feed("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
            RequestParser::Result::kNeedMore);
  EXPECT_FALSE(parser.expects_continue());
}

TEST(RequestParserTest, ManyTinyChunksDoNotGrowTheBufferPastTheBody) {
  const size_t body_size = 60000;
  RequestParser parser(ParserLimits{.max_header_bytes = 1024, .max_body_bytes = body_size});
  ASSERT_EQ(parser.Feed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            RequestParser::Result::kNeedMore);
  std::string expected;
  for (size_t i = 0; i < body_size; ++i) {
    char c = static_cast<char>('a' + i % 26);
    expected += c;
    // 6 bytes of framing per body byte: without squeezing, the buffer would reach ~360 KB.
    ASSERT_EQ(parser.Feed(std::string("1;e\r\n") + c + "\r\n"), RequestParser::Result::kNeedMore);
  }
  ASSERT_EQ(parser.Feed("0\r\n\r\n"), RequestParser::Result::kComplete);
  EXPECT_EQ(parser.request().body, expected);
}

TEST(RequestParserTest, StartedAfterFirstByte) {
  RequestParser parser(kLimits);
  EXPECT_FALSE(parser.started());
  ASSERT_EQ(parser.Feed("G"), RequestParser::Result::kNeedMore);
  EXPECT_TRUE(parser.started());
}

TEST(RequestParserTest, HostAndAuthorizationErrorsAreNamed) {
  struct {
    std::string raw, detail;
  } cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 request without Host"},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "more than one Host header"},
      {"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\nAuthorization: x\r\n\r\n",
       "more than one Authorization header"},
  };
  for (const auto& c : cases) {
    RequestParser parser(kLimits);
    ASSERT_EQ(parser.Feed(c.raw), RequestParser::Result::kError) << c.raw;
    EXPECT_EQ(parser.error_status(), 400);
    EXPECT_EQ(parser.error_detail(), c.detail);
  }
}

// With PauseAfterHeaders the caller sees each request's head before any body byte is used, and
// sets that request's body limit.
TEST(RequestParserTest, PausesAfterHeadersWithTheHeadAndNoBody) {
  RequestParser parser(kLimits);
  parser.PauseAfterHeaders(true);
  // The whole request arrives at once: still, the head comes first.
  ASSERT_EQ(parser.Feed("POST /pin/?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"),
            RequestParser::Result::kHeaders);
  EXPECT_TRUE(parser.headers_complete());
  EXPECT_EQ(parser.request().method, "POST");
  EXPECT_EQ(parser.request().path, "/pin/");
  EXPECT_EQ(parser.request().query, "q=1");
  EXPECT_EQ(parser.request().Header("host"), "h");
  EXPECT_EQ(parser.request().body, "");
  EXPECT_EQ(parser.content_length(), 5u);
  EXPECT_TRUE(parser.has_body());
  EXPECT_FALSE(parser.chunked());
  ASSERT_EQ(parser.Parse(), RequestParser::Result::kComplete);
  EXPECT_EQ(parser.request().body, "hello");
}

TEST(RequestParserTest, BodyLimitPerRequest) {
  struct {
    std::string name;
    std::string raw;
    size_t limit;
    RequestParser::Result result;
  } cases[] = {
      {"ContentLengthOverRequestLimit", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n",
       10, RequestParser::Result::kError},
      {"ContentLengthAtRequestLimit",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", 10,
       RequestParser::Result::kComplete},
      {"ZeroLimitNoBody", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0, RequestParser::Result::kComplete},
      {"ZeroLimitWithBody", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx", 0,
       RequestParser::Result::kError},
      {"ChunkedCutAtRequestLimit",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n3\r\n", 10,
       RequestParser::Result::kError},
      {"ChunkedWithinRequestLimit",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
       "chunked\r\n\r\n8\r\n01234567\r\n2\r\n89\r\n"
       "0\r\n\r\n",
       10, RequestParser::Result::kComplete},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RequestParser parser(kLimits);
    parser.PauseAfterHeaders(true);
    ASSERT_EQ(parser.Feed(c.raw), RequestParser::Result::kHeaders);
    parser.SetBodyLimit(c.limit);
    EXPECT_EQ(parser.Parse(), c.result);
    if (c.result == RequestParser::Result::kError) {
      EXPECT_EQ(parser.error_status(), 413);
    }
  }
}

TEST(RequestParserTest, BodyLimitAppliesToOneRequestOnly) {
  RequestParser parser(kLimits);
  parser.PauseAfterHeaders(true);
  ASSERT_EQ(parser.Feed("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok"
                        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n" +
                        std::string(20, 'x')),
            RequestParser::Result::kHeaders);
  parser.SetBodyLimit(2);
  ASSERT_EQ(parser.Parse(), RequestParser::Result::kComplete);
  parser.NextRequest();
  ASSERT_EQ(parser.Parse(), RequestParser::Result::kHeaders);
  EXPECT_EQ(parser.request().path, "/b");
  ASSERT_EQ(parser.Parse(), RequestParser::Result::kComplete);  // the default limit, 64
  EXPECT_EQ(parser.request().body.size(), 20u);
}

TEST(RequestParserTest, HeadStaysValidWhenTheBufferGrowsWhilePaused) {
  RequestParser parser(ParserLimits{.max_header_bytes = 1024, .max_body_bytes = 1 << 20});
  parser.PauseAfterHeaders(true);
  ASSERT_EQ(parser.Feed("POST /grow HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n"),
            RequestParser::Result::kHeaders);
  std::span<char> space = parser.PrepareWrite(200000);  // reallocates
  EXPECT_GE(space.size(), 200000u);
  EXPECT_EQ(parser.request().path, "/grow");
  EXPECT_EQ(parser.request().Header("Host"), "h");
}

// A Content-Length body is received into a buffer of exactly the request's size (one
// allocation, no doubling), and a buffer grown past kKeepBytes is released with its request.
TEST(RequestParserTest, LargeBodyBufferIsExactAndReleasedAfterTheRequest) {
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n";
  RequestParser parser(ParserLimits{.max_header_bytes = 1024, .max_body_bytes = 1 << 20});
  ASSERT_EQ(parser.Feed(head), RequestParser::Result::kNeedMore);
  const std::string body(1000000, 'b');
  size_t fed = 0;
  RequestParser::Result r = RequestParser::Result::kNeedMore;
  while (fed < body.size()) {
    // As the server reads: PrepareWrite(4096), then whatever fits.
    std::span<char> space = parser.PrepareWrite(4096);
    size_t n = std::min(space.size(), body.size() - fed);
    std::memcpy(space.data(), body.data() + fed, n);
    parser.Commit(n);
    fed += n;
    r = parser.Parse();
  }
  ASSERT_EQ(r, RequestParser::Result::kComplete);
  EXPECT_EQ(parser.capacity(), head.size() + body.size());
  EXPECT_EQ(parser.request().body.size(), body.size());
  parser.NextRequest();
  EXPECT_LE(parser.capacity(), RequestParser::kKeepBytes);
  ASSERT_EQ(parser.Feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), RequestParser::Result::kComplete);
  parser.NextRequest();
  // Reset (the server's drain after an error) releases a large buffer too.
  ASSERT_EQ(parser.Feed(head + std::string(500000, 'c')), RequestParser::Result::kNeedMore);
  EXPECT_GT(parser.capacity(), RequestParser::kKeepBytes);
  parser.Reset();
  EXPECT_LE(parser.capacity(), RequestParser::kKeepBytes);
}

TEST(RequestParserTest, ChunkedBufferGrowthStopsAtTheBodyLimit) {
  const size_t limit = 300000;
  RequestParser parser(ParserLimits{.max_header_bytes = 1024, .max_body_bytes = limit});
  ASSERT_EQ(parser.Feed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            RequestParser::Result::kNeedMore);
  std::string chunk = "1000\r\n" + std::string(0x1000, 'z') + "\r\n";
  size_t body = 0;
  while (body + 0x1000 <= limit) {
    ASSERT_EQ(parser.Feed(chunk), RequestParser::Result::kNeedMore);
    body += 0x1000;
  }
  // Doubling would have reached 512 KiB; the buffer stays within the limit plus framing.
  EXPECT_LE(parser.capacity(), limit + 1024 + 4096 + 1024);
  EXPECT_EQ(parser.Feed(chunk), RequestParser::Result::kError);
  EXPECT_EQ(parser.error_status(), 413);
}

TEST(RequestParserTest, ResetDropsEverything) {
  RequestParser parser(kLimits);
  ASSERT_EQ(parser.Feed("GARBAGE\r\n"), RequestParser::Result::kError);
  parser.Reset();
  EXPECT_FALSE(parser.started());
  EXPECT_EQ(parser.Feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), RequestParser::Result::kComplete);
}

}  // namespace
}  // namespace pinpipe::http

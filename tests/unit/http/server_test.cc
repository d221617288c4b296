#include "http/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testing/raw_client.h"
#include "testing/status_matchers.h"

namespace pinpipe::http {
namespace {

using namespace std::chrono_literals;
using testing_support::RawClient;
using testing_support::RawResponse;

// Polls `condition` for up to `limit`; tests wait on facts, not on fixed sleeps.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 2s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

Response Reply(std::string body, int status = 200) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.max_body_bytes = 1024;
  options.request_timeout = 300ms;
  options.idle_timeout = 2s;
  return options;
}

// Answers at once: 404 for /missing, else 200 echoing "<method> <path> <body>".
void EchoHandler(const Request& request, Responder respond) {
  Response response;
  if (request.path == "/missing") {
    response.status = 404;
    response.body = R"({"detail":"Not Found"})";
  } else {
    response.body = std::string(request.method) + " " + std::string(request.path) + " " +
                    std::string(request.body);
  }
  respond(std::move(response));
}

class ServerTest : public testing::Test {
 protected:
  void StartServer(Handler handler, ServerOptions options = TestOptions(),
                   HeadHandler head_handler = nullptr) {
    server_ = std::make_unique<Server>(options, std::move(handler), std::move(head_handler));
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    server_.reset();  // stops before helper threads that may still hold responders are joined
    for (auto& t : threads_) t.join();
  }

  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
};

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  StartServer(EchoHandler);
  RawClient client(server_->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Send("POST /pin/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
    auto r = client.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /pin/ hi");
    EXPECT_TRUE(r->HasHeader("Content-Type: application/json"));
    EXPECT_FALSE(r->HasHeader("Connection: close"));
  }
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(ServerTest, HandlerStatusIsSent) {
  StartServer(EchoHandler);
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("GET /missing HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->head.substr(0, 24), "HTTP/1.1 404 Not Found\r\n");
  EXPECT_EQ(r->body, R"({"detail":"Not Found"})");
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrderEvenIfFirstIsSlow) {
  StartServer([this](const Request& request, Responder respond) {
    std::string path(request.path);
    if (path == "/slow") {
      threads_.emplace_back([respond, path] {
        std::this_thread::sleep_for(100ms);
        respond(Reply(path));
      });
    } else {
      respond(Reply(path));
    }
  });
  RawClient client(server_->port());
  ASSERT_TRUE(
      client.Send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nPOST /c "
                  "HTTP/1.1\r\nHost: h\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"));
  for (const char* expected : {"/slow", "/b", "/c"}) {
    auto r = client.Read();
    ASSERT_TRUE(r.has_value()) << expected;
    EXPECT_EQ(r->body, expected);
  }
}

TEST_F(ServerTest, BodyOverLimitAnswered413BeforeTheBodyAndClosed) {
  std::atomic<int> calls{0};
  StartServer([&](const Request&, Responder respond) {
    ++calls;
    respond(Response{});
  });
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("POST /pin/ HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(r->HasHeader("Connection: close"));
  EXPECT_EQ(r->body,
            R"({"detail":"request body larger than the limit of 1024 bytes for this request"})");
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(ServerTest, StalledRequestGets408) {
  StartServer(EchoHandler);
  RawClient client(server_->port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Send("POST /pin/ HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(ServerTest, SlowlorisHeadersGet408) {
  StartServer(EchoHandler);
  RawClient client(server_->port());
  // Bytes keep trickling in, but the request never completes within request_timeout.
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n"));
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(80ms);
    if (!client.Send("X-Drip: 1\r\n")) break;
  }
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);
}

TEST_F(ServerTest, IdleKeepAliveClosedSilently) {
  ServerOptions options = TestOptions();
  options.idle_timeout = 200ms;
  StartServer(EchoHandler, options);
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(client.Read().has_value());
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_TRUE(Eventually([&] { return server_->connections() == 0; }));
}

TEST_F(ServerTest, ExpectContinueSends100ThenReadsBody) {
  StartServer(EchoHandler);
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send(
      "POST /pin/ HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = client.Read();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->head, "HTTP/1.1 100 Continue\r\n");
  ASSERT_TRUE(client.Send("hello"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /pin/ hello");
}

TEST_F(ServerTest, ExpectContinueOverLimitGets413Directly) {
  StartServer(EchoHandler);
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send(
      "POST /pin/ HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(ServerTest, ProtocolErrorsAnsweredWithJsonDetailAndClose) {
  StartServer(EchoHandler);
  struct {
    std::string raw;
    int status;
  } cases[] = {
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"GET / HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},                        // no Host
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},  // two Hosts
      {"POST / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\nAuthorization: Bearer y\r\n"
       "Content-Length: 2\r\n\r\nhi",
       400},  // two Authorizations
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.status);
    RawClient client(server_->port());
    ASSERT_TRUE(client.Send(c.raw));
    auto r = client.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, c.status);
    EXPECT_EQ(r->body.rfind("{\"detail\":\"", 0), 0u) << r->body;
    EXPECT_TRUE(r->HasHeader("Connection: close"));
    EXPECT_TRUE(client.WaitClosed());
  }
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAlive) {
  StartServer(EchoHandler);
  {
    RawClient client(server_->port());
    ASSERT_TRUE(client.Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = client.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->HasHeader("Connection: keep-alive"));
    EXPECT_TRUE(client.Quiet(50ms));
  }
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("GET /a HTTP/1.0\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->HasHeader("Connection: close"));
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(ServerTest, ResponseCloseAndExtraHeaders) {
  StartServer([](const Request&, Responder respond) {
    Response response;
    response.status = 422;
    response.headers = {{"X-Request-Id", "7"}, {"X-Evil", "a\r\nInjected: 1"}};
    response.close = true;
    respond(std::move(response));
  });
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->head.substr(0, 34), "HTTP/1.1 422 Unprocessable Entity\r");
  EXPECT_TRUE(r->HasHeader("X-Request-Id: 7"));
  EXPECT_EQ(r->head.find("Injected"), std::string::npos);
  EXPECT_TRUE(r->HasHeader("Connection: close"));
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(ServerTest, AsyncResponderFromAnotherThread) {
  StartServer([this](const Request& request, Responder respond) {
    std::string body(request.body);  // the request is valid only until respond() is called
    threads_.emplace_back([respond, body] {
      std::this_thread::sleep_for(50ms);
      respond(Reply(body, 201));
    });
  });
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "abc");
}

TEST_F(ServerTest, ResponderAfterClientDisconnectIsHarmless) {
  std::mutex mu;
  std::vector<Responder> pending;
  StartServer([&](const Request& request, Responder respond) {
    if (request.path == "/hold") {
      std::lock_guard lock(mu);
      pending.push_back(std::move(respond));
    } else {
      EchoHandler(request, std::move(respond));
    }
  });
  {
    RawClient client(server_->port());
    ASSERT_TRUE(client.Send("GET /hold HTTP/1.1\r\nHost: h\r\n\r\n"));
    ASSERT_TRUE(Eventually([&] {
      std::lock_guard lock(mu);
      return pending.size() == 1;
    }));
  }  // client gone
  {
    std::lock_guard lock(mu);
    pending[0](Reply("late"));
    pending[0](Reply("twice"));  // a second call is ignored
  }
  EXPECT_TRUE(Eventually([&] { return server_->connections() == 0; }));
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, ResponderAfterServerDestroyedIsHarmless) {
  std::mutex mu;
  Responder held;
  StartServer([&](const Request&, Responder respond) {
    std::lock_guard lock(mu);
    held = std::move(respond);
  });
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return held != nullptr;
  }));
  server_.reset();
  std::lock_guard lock(mu);
  held(Response{});
  SUCCEED();
}

TEST_F(ServerTest, StopClosesOpenConnectionsWithoutHanging) {
  std::atomic<int> held{0};
  std::vector<Responder> never_answered;
  std::mutex mu;
  StartServer([&](const Request&, Responder respond) {
    std::lock_guard lock(mu);
    never_answered.push_back(std::move(respond));
    ++held;
  });
  RawClient idle(server_->port());
  RawClient busy(server_->port());
  RawClient partial(server_->port());
  ASSERT_TRUE(busy.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(partial.Send("GET / HT"));
  ASSERT_TRUE(Eventually([&] { return held.load() == 1 && server_->connections() == 3; }));
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(server_->connections(), 0u);
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_TRUE(busy.WaitClosed());
  EXPECT_TRUE(partial.WaitClosed());
  server_->Stop();  // idempotent
  std::lock_guard lock(mu);
  never_answered[0](Response{});  // after Stop: dropped
}

TEST_F(ServerTest, OverConnectionLimitGets503) {
  ServerOptions options = TestOptions();
  options.max_connections = 1;
  StartServer(EchoHandler, options);
  RawClient first(server_->port());
  ASSERT_TRUE(first.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(first.Read().has_value());
  RawClient second(server_->port());
  auto r = second.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(r->HasHeader("Retry-After: 1"));
  EXPECT_TRUE(r->HasHeader("Connection: close"));
  EXPECT_TRUE(second.WaitClosed());
  // The first connection is unaffected.
  ASSERT_TRUE(first.Send("GET /again HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(first.Read().has_value());
}

TEST_F(ServerTest, HandlerExceptionBecomes500) {
  StartServer([](const Request&, Responder) { throw std::runtime_error("boom"); });
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
}

TEST_F(ServerTest, HeadResponseHasLengthButNoBody) {
  StartServer(EchoHandler);
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n"));
  // The raw client would read the HEAD "body" from the next response, so check bytes.
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->HasHeader("Content-Length: 8"));
  EXPECT_EQ(r->body.substr(0, 8), "HTTP/1.1");
}

// --- The head handler: decisions from the request line and headers, before the body.

// Answers /auth with 401 and /nope with 404 from the head; /small may have 10 body bytes.
HeadDecision TestHeadHandler(const Request& head) {
  HeadDecision decision;
  if (head.path == "/auth" && head.Header("Authorization") != "Bearer ok") {
    Response r = Reply(R"({"detail":"missing or wrong bearer token"})", 401);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    decision.answer = std::move(r);
  } else if (head.path == "/nope") {
    decision.answer = Reply(R"({"detail":"Not Found"})", 404);
  } else if (head.path == "/small") {
    decision.max_body_bytes = 10;
  }
  return decision;
}

TEST_F(ServerTest, HeadHandlerAnswersBeforeAnyBodyByteAndCloses) {
  std::atomic<int> calls{0};
  StartServer(
      [&](const Request& request, Responder respond) {
        ++calls;
        EchoHandler(request, std::move(respond));
      },
      TestOptions(), TestHeadHandler);
  struct {
    std::string name, head;
    int status;
  } cases[] = {
      // The body is announced, never sent: the answer must not wait for it.
      {"NoToken", "POST /auth HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", 401},
      {"WrongToken",
       "POST /auth HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer no\r\nContent-Length: 900\r\n\r\n",
       401},
      {"ChunkedNoToken", "POST /auth HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
       401},
      {"ExpectContinueGetsTheAnswerNot100",
       "POST /auth HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 900\r\n\r\n",
       401},
      {"UnknownRouteWithBody", "POST /nope HTTP/1.1\r\nHost: h\r\nContent-Length: 900\r\n\r\n",
       404},
      {"OverTheRouteLimit", "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n",
       413},
      {"JustOverTheRouteLimit", "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n",
       413},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RawClient client(server_->port());
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(client.Send(c.head));
    auto r = client.Read();
    auto waited = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, c.status);
    EXPECT_LT(waited, 250ms) << "the answer waited (for the body?)";
    EXPECT_TRUE(r->HasHeader("Connection: close"));
    EXPECT_FALSE(r->head.starts_with("HTTP/1.1 100")) << r->head;
    EXPECT_TRUE(client.WaitClosed());
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(ServerTest, HeadHandlerAnswerWithoutBodyKeepsTheConnection) {
  StartServer(EchoHandler, TestOptions(), TestHeadHandler);
  RawClient client(server_->port());
  ASSERT_TRUE(
      client.Send("GET /nope HTTP/1.1\r\nHost: h\r\n\r\nGET /yes HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto first = client.Read();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 404);
  EXPECT_FALSE(first->HasHeader("Connection: close"));
  auto second = client.Read();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "GET /yes ");
}

TEST_F(ServerTest, RouteLimitCutsChunkedBodiesAndAllowsBodiesWithinIt) {
  StartServer(EchoHandler, TestOptions(), TestHeadHandler);
  {
    RawClient client(server_->port());
    ASSERT_TRUE(client.Send(
        "POST /small HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n"));
    ASSERT_TRUE(client.Quiet(50ms)) << "answered before the limit was passed";
    ASSERT_TRUE(client.Send("8\r\n"));
    auto r = client.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 413);
    EXPECT_NE(r->body.find("limit of 10 bytes"), std::string::npos) << r->body;
    EXPECT_TRUE(client.WaitClosed());
  }
  RawClient client(server_->port());
  ASSERT_TRUE(
      client.Send("POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"));
  auto r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /small 0123456789");
}

// The server-wide budget of buffered body bytes: a body is reserved in full once its headers
// are in, so a second large body is refused (503, Retry-After, close) before it is read.
TEST_F(ServerTest, BufferedBodyBudgetRefusesBodiesOverIt) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1 << 20;
  options.max_buffered_body_bytes = 1000;
  options.retry_after_seconds = 3;
  StartServer(EchoHandler, options);
  RawClient first(server_->port());
  ASSERT_TRUE(first.Send("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 800\r\n\r\n" +
                         std::string(100, 'a')));
  ASSERT_TRUE(Eventually([&] { return server_->buffered_body_bytes() == 800; }));
  {
    RawClient second(server_->port());
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(second.Send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 800\r\n\r\n"));
    auto r = second.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 503);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);
    EXPECT_TRUE(r->HasHeader("Retry-After: 3"));
    EXPECT_TRUE(r->HasHeader("Connection: close"));
    EXPECT_TRUE(second.WaitClosed());
  }
  EXPECT_EQ(server_->budget_refusals(), 1u);
  // A body that fits the rest of the budget goes through meanwhile.
  {
    RawClient small(server_->port());
    ASSERT_TRUE(small.Send("POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 200\r\n\r\n" +
                           std::string(200, 'c')));
    auto r = small.Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_TRUE(first.Send(std::string(700, 'a')));
  auto r = first.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  // Answered: the reservation is back, so the same body now fits.
  EXPECT_TRUE(Eventually([&] { return server_->buffered_body_bytes() == 0; }));
  RawClient third(server_->port());
  ASSERT_TRUE(third.Send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 800\r\n\r\n" +
                         std::string(800, 'b')));
  auto again = third.Read();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, 200);
}

TEST_F(ServerTest, BufferedBodyBudgetCountsChunkedBodiesAsTheyGrow) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1 << 20;
  options.max_buffered_body_bytes = 100 * 1024;
  StartServer(EchoHandler, options);
  RawClient client(server_->port());
  ASSERT_TRUE(client.Send("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk = "1000\r\n" + std::string(0x1000, 'z') + "\r\n";
  std::optional<RawResponse> r;
  for (int i = 0; i < 64 && client.Send(chunk); ++i) {
    if (!client.Quiet(5ms)) break;
  }
  r = client.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(r->HasHeader("Retry-After: 1"));
  EXPECT_EQ(server_->budget_refusals(), 1u);
  EXPECT_TRUE(Eventually([&] { return server_->buffered_body_bytes() == 0; }));
}

TEST_F(ServerTest, BudgetReleasedWhenTheClientLeavesMidBody) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1 << 20;
  StartServer(EchoHandler, options);
  {
    RawClient client(server_->port());
    ASSERT_TRUE(client.Send("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\nabc"));
    ASSERT_TRUE(Eventually([&] { return server_->buffered_body_bytes() == 5000; }));
  }
  EXPECT_TRUE(Eventually([&] { return server_->buffered_body_bytes() == 0; }));
}

TEST(ServerStartTest, BindFailureIsUnavailable) {
  Server first(TestOptions(), EchoHandler);
  ASSERT_TRUE(first.Start().ok());
  ServerOptions options = TestOptions();
  options.port = first.port();
  Server second(options, EchoHandler);
  Status status = second.Start();
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable)) << status.ToString();
  EXPECT_THAT(first.Start(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(ReasonPhraseTest, KnownAndUnknown) {
  EXPECT_EQ(ReasonPhrase(422), "Unprocessable Entity");
  EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
}

}  // namespace
}  // namespace pinpipe::http

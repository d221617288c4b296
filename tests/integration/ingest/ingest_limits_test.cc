// The real `pinpipe serve` binary under hostile or bursty uploads: per-route limits and the token
// are applied before a body is read, the buffered-body budget bounds memory, and the memory of
// a burst is given back. Memory is the process's own, from /proc/<pid>/status.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "testing/ingest_env.h"
#include "testing/kafka_env.h"
#include "testing/raw_client.h"

namespace pinpipe::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using http::testing_support::RawClient;
using http::testing_support::RawResponse;

constexpr int64_t kMiB = 1024 * 1024;
constexpr size_t kBodyBytes = 60'000'000;  // each upload of the bursts
constexpr int kUploads = 8;

// One upload: `head` then `body` (sent by `pieces` of 1 MiB by a second thread, so the answer is
// read while the body is still going, as a client that the server refuses early sees it).
struct Upload {
  std::optional<RawResponse> response;
  Clock::duration waited{};  // from the first byte sent to the whole answer read
};

Upload Post(uint16_t port, const std::string& head, std::string_view body, bool chunked = false) {
  RawClient client(port, 60s);
  Upload upload;
  if (!client.connected()) return upload;
  const auto t0 = Clock::now();
  std::thread sender([&] {
    if (!client.Send(head)) return;
    constexpr size_t kPiece = 1 << 20;
    for (size_t at = 0; at < body.size(); at += kPiece) {
      std::string_view piece = body.substr(at, kPiece);
      if (chunked) {
        char size_line[32];
        std::snprintf(size_line, sizeof(size_line), "%zx\r\n", piece.size());
        if (!client.Send(size_line) || !client.Send(piece) || !client.Send("\r\n")) return;
      } else if (!client.Send(piece)) {
        return;
      }
    }
    if (chunked) client.Send("0\r\n\r\n");
  });
  upload.response = client.Read();
  upload.waited = Clock::now() - t0;
  client.Abort();  // a refused client's sender stops here
  sender.join();
  return upload;
}

std::vector<Upload> PostConcurrently(uint16_t port, const std::string& head, std::string_view body,
                                     bool chunked = false) {
  std::vector<Upload> uploads(kUploads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kUploads; ++i) {
    threads.emplace_back([&, i] { uploads[i] = Post(port, head, body, chunked); });
  }
  for (auto& t : threads) t.join();
  return uploads;
}

std::string Head(const std::string& path, const std::string& extra) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

int64_t Mib(int64_t bytes) { return bytes / kMiB; }

// A few ordinary records, so the start value includes the producer's connections and buffers.
void WarmUp(ServeProcess& serve) {
  http::Client client = serve.NewClient();
  for (int i = 0; i < 20; ++i) {
    auto r = client.Post("/pin/", PinRecord(i));
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }
}

// Waits up to 15 s for the idle process to be within 2x of `start` (glibc and librdkafka free
// asynchronously); returns the last RSS seen.
// The lines of /proc/<pid>/status that say what the resident set is made of (anonymous memory,
// file pages, threads), for the failure messages of the idle checks.
std::string RssBreakdown(const ServeProcess& serve) {
  std::ifstream in("/proc/" + std::to_string(serve.pid()) + "/status");
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Rss", 0) == 0 || line.rfind("Threads:", 0) == 0) out += line + "; ";
  }
  return out;
}

int64_t IdleRssAfterBurst(ServeProcess& serve, int64_t start) {
  int64_t rss = 0;
  const auto deadline = Clock::now() + 15s;
  do {
    std::this_thread::sleep_for(250ms);
    auto now = serve.Rss();
    if (!now.ok()) return -1;
    rss = *now;
  } while (rss > 2 * start && Clock::now() < deadline);
  return rss;
}

#define PINPIPE_SERVE_OR_SKIP(serve, brokers, prefix, ...)                         \
  if (EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN").empty()) {                            \
    GTEST_SKIP() << "PINPIPE_TEST_PINPIPE_BIN is not set";                         \
  }                                                                                \
  auto serve##_or = ServeProcess::Start(brokers, UniqueName(prefix), __VA_ARGS__); \
  ASSERT_TRUE(serve##_or.ok()) << serve##_or.status().ToString();                  \
  ServeProcess& serve = **serve##_or

TEST(IngestLimitsTest, AnnouncedBodyOverTheRouteLimitGets413AtOnce) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  PINPIPE_SERVE_OR_SKIP(serve, brokers, "limits-413", std::vector<std::string>{});
  // Content-Length 2,000,000 on /pin/ (limit 1 MiB), no body sent: before the fix, no answer.
  RawClient client(serve.port(), 5s);
  const auto t0 = Clock::now();
  ASSERT_TRUE(client.Send(Head("/pin/", "Content-Length: 2000000\r\n")));
  auto r = client.Read();
  const auto waited = Clock::now() - t0;
  ASSERT_TRUE(r.has_value()) << "no answer without the body";
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("limit of 1048576 bytes"), std::string::npos) << r->body;
  EXPECT_TRUE(r->HasHeader("Connection: close"));
  EXPECT_LT(waited, 500ms);
  EXPECT_TRUE(client.WaitClosed());
  // The bulk route has its own, larger limit: the same head is accepted there (it waits for
  // the body instead of answering).
  RawClient bulk(serve.port(), 5s);
  ASSERT_TRUE(bulk.Send(Head("/batch/pin", "Content-Length: 2000000\r\n")));
  EXPECT_TRUE(bulk.Quiet(300ms));
}

// The bulk limits under their flag names: --max-bulk-bytes/--max-bulk-items, and the old
// spellings --max-batch-bytes/--max-batch-items, which stay accepted with the same effect.
TEST(IngestLimitsTest, BulkLimitFlagsAndTheirOldSpellingsSetTheLimits) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  for (const std::string flag : {"--max-bulk", "--max-batch"}) {
    SCOPED_TRACE(flag);
    PINPIPE_SERVE_OR_SKIP(
        serve, brokers, "limits-bulk-flags",
        std::vector<std::string>{flag + "-bytes", "100000", flag + "-items", "2"});
    RawClient over(serve.port(), 5s);
    ASSERT_TRUE(over.Send(Head("/batch/pin", "Content-Length: 100001\r\n")));
    auto r = over.Read();
    ASSERT_TRUE(r.has_value()) << "no answer without the body";
    EXPECT_EQ(r->status, 413);
    EXPECT_NE(r->body.find("limit of 100000 bytes"), std::string::npos) << r->body;
    http::Client client = serve.NewClient();
    auto three = client.Post("/batch/pin", PinRecord(1) + "\n" + PinRecord(2) + "\n" + PinRecord(3),
                             "application/x-ndjson");
    ASSERT_TRUE(three.ok()) << three.status().ToString();
    EXPECT_EQ(three->status, 413) << three->body;
    auto two =
        client.Post("/batch/pin", PinRecord(1) + "\n" + PinRecord(2), "application/x-ndjson");
    ASSERT_TRUE(two.ok()) << two.status().ToString();
    EXPECT_EQ(two->status, 200) << two->body;
  }
}

TEST(IngestLimitsTest, MissingOrWrongTokenGets401BeforeTheBody) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  PINPIPE_SERVE_OR_SKIP(serve, brokers, "limits-401",
                        std::vector<std::string>{"--auth-token", "s3cret"});
  for (const std::string auth : {"", "Authorization: Bearer wrong\r\n"}) {
    SCOPED_TRACE(auth);
    for (const std::string path : {"/pin/", "/batch/pin"}) {
      RawClient client(serve.port(), 5s);
      const auto t0 = Clock::now();
      // 500 KB announced, none sent: the answer cannot have waited for it.
      ASSERT_TRUE(client.Send(Head(path, auth + "Content-Length: 500000\r\n")));
      auto r = client.Read();
      ASSERT_TRUE(r.has_value()) << path;
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_TRUE(r->HasHeader("WWW-Authenticate: Bearer"));
      EXPECT_LT(Clock::now() - t0, 500ms);
      EXPECT_TRUE(client.WaitClosed());
    }
  }
  // Two Authorization headers: 400 (the first one no longer decides).
  RawClient twice(serve.port(), 5s);
  ASSERT_TRUE(twice.Send(Head("/pin/",
                              "Authorization: Bearer s3cret\r\nAuthorization: Bearer wrong\r\n"
                              "Content-Length: 2\r\n") +
                         "{}"));
  auto r = twice.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  // With the token the record goes through.
  http::Client client = serve.NewClient();
  auto ok =
      client.Post("/pin/", PinRecord(1), "application/json", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200) << ok->body;
}

// Eight concurrent 60 MB uploads to /pin/ (limit 1 MiB): announced ones are refused from their
// head, chunked ones once they pass 1 MiB. Before the fix each was buffered up to 64 MiB
// (peak 652 MB) and the idle process kept 288 MB.
TEST(IngestLimitsTest, ConcurrentHugeRecordUploadsKeepMemoryLow) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  PINPIPE_SERVE_OR_SKIP(serve, brokers, "limits-pin-burst", std::vector<std::string>{});
  WarmUp(serve);
  auto start = serve.Rss();
  ASSERT_TRUE(start.ok());
  const std::string body(kBodyBytes, 'x');
  for (bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "Content-Length");
    std::vector<Upload> uploads = PostConcurrently(
        serve.port(),
        Head("/pin/", chunked ? "Transfer-Encoding: chunked\r\n"
                              : "Content-Length: " + std::to_string(kBodyBytes) + "\r\n"),
        body, chunked);
    for (const Upload& u : uploads) {
      ASSERT_TRUE(u.response.has_value());
      EXPECT_EQ(u.response->status, 413);
      EXPECT_LT(u.waited, 5s);
    }
  }
  auto peak = serve.PeakRss();
  ASSERT_TRUE(peak.ok());
  EXPECT_LT(*peak, 128 * kMiB) << "peak RSS " << Mib(*peak) << " MiB";
  const int64_t idle = IdleRssAfterBurst(serve, *start);
  EXPECT_LE(idle, 2 * *start) << "idle RSS " << Mib(idle) << " MiB after the burst, " << Mib(*start)
                              << " MiB at start (" << RssBreakdown(serve) << ")";
  std::fprintf(stderr, "pin burst: start %lld MiB, peak %lld MiB, idle after %lld MiB\n",
               static_cast<long long>(Mib(*start)), static_cast<long long>(Mib(*peak)),
               static_cast<long long>(Mib(idle)));
}

// Eight concurrent 60 MB bulk requests with a budget that fits two: the others get 503 with
// Retry-After before their bodies are read, the accepted ones are complete in Kafka, the peak
// stays near budget + what librdkafka holds of the accepted records, and the idle process gives
// the memory back.
TEST(IngestLimitsTest, BulkBurstOverTheBodyBudgetIsRefusedAndMemoryBounded) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  constexpr int64_t kBudget = 128 * kMiB;
  PINPIPE_SERVE_OR_SKIP(
      serve, brokers, "limits-bulk-burst",
      std::vector<std::string>{"--max-buffered-body-bytes", std::to_string(kBudget),
                               "--max-bulk-items", "200000"});
  WarmUp(serve);
  auto start = serve.Rss();
  ASSERT_TRUE(start.ok());
  std::string body;
  int records = 0;
  while (true) {
    std::string line = PinRecord(1000000 + records) + "\n";
    if (body.size() + line.size() > kBodyBytes) break;
    body += line;
    ++records;
  }
  std::vector<Upload> uploads =
      PostConcurrently(serve.port(),
                       Head("/batch/pin", "Content-Type: application/x-ndjson\r\nContent-Length: " +
                                              std::to_string(body.size()) + "\r\n"),
                       body);
  int accepted = 0, refused = 0;
  const std::string want =
      "{\"accepted\":" + std::to_string(records) + ",\"rejected\":0,\"failed\":0,";
  for (const Upload& u : uploads) {
    ASSERT_TRUE(u.response.has_value());
    if (u.response->status == 200) {
      EXPECT_EQ(u.response->body.rfind(want, 0), 0u) << u.response->body.substr(0, 300);
      ++accepted;
    } else {
      EXPECT_EQ(u.response->status, 503) << u.response->body;
      EXPECT_TRUE(u.response->HasHeader("Retry-After: 1"));
      EXPECT_NE(u.response->body.find("buffering too many request bodies"), std::string::npos);
      EXPECT_LT(u.waited, 5s);
      ++refused;
    }
  }
  EXPECT_GE(accepted, 1);
  EXPECT_GE(refused, 1) << "8 x 60 MB cannot fit a 128 MiB budget at once";
  auto peak = serve.PeakRss();
  ASSERT_TRUE(peak.ok());
  // Overhead beyond the budget: librdkafka's copy of the accepted records until Kafka has them,
  // the per-item result lists and the process itself (measured in the commit that added this).
  EXPECT_LT(*peak, kBudget + 160 * kMiB) << "peak RSS " << Mib(*peak) << " MiB";
  const int64_t idle = IdleRssAfterBurst(serve, *start);
  EXPECT_LE(idle, 2 * *start) << "idle RSS " << Mib(idle) << " MiB after the burst, " << Mib(*start)
                              << " MiB at start (" << RssBreakdown(serve) << ")";
  std::fprintf(stderr,
               "bulk burst: %d accepted, %d refused; start %lld MiB, peak %lld MiB, idle after "
               "%lld MiB\n",
               accepted, refused, static_cast<long long>(Mib(*start)),
               static_cast<long long>(Mib(*peak)), static_cast<long long>(Mib(idle)));

  // What was acknowledged is in Kafka: the warm-up records plus every accepted bulk request.
  auto read = ReadTopic(brokers, serve.topic(core::RecordKind::kPin), 120s);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), static_cast<size_t>(20 + accepted * records));
  auto metrics = serve.NewClient().Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(
      metrics->body.find("pinpipe_http_body_budget_refusals_total " + std::to_string(refused)),
      std::string::npos);
  EXPECT_NE(metrics->body.find("pinpipe_http_buffered_body_bytes 0"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::testing

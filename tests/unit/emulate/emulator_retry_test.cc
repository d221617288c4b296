// The emulator's retries against a scripted in-process HTTP server (no services): 503 and 429
// are sent again after Retry-After, a 422 never; the bounds give up and are counted; a batch
// sends again only the items still to be stored; connection errors while the API restarts are
// retried; --no-retry is the original's fire and forget. Both modes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "emulate/emulator.h"
#include "emulate/source_posts.h"
#include "emulate/synthetic.h"
#include "testing/scripted_http_server.h"

namespace pinpipe::emulate {
namespace {

using std::chrono::milliseconds;
using testing::ScriptedHttpServer;
using Answer = ScriptedHttpServer::Answer;

const std::vector<SourcePost>& Posts() {
  static const std::vector<SourcePost> posts = PostsFromDataSet(GenerateDataSet(200, 3));
  return posts;
}

LoadOptions Load(const ScriptedHttpServer& server, int64_t count) {
  LoadOptions load;
  load.api = server.url();
  load.count = count;
  load.concurrency = 1;
  load.progress = false;
  load.retry.max_delay = milliseconds(50);  // the scripts say Retry-After: 0 or 1
  return load;
}

LoadSummary RunLoadNow(const LoadOptions& load) {
  std::stop_source stop;
  std::ostringstream progress;
  return RunLoad(Posts(), load, stop.get_token(), progress);
}

// The bodies a run answered with `status`, counted (posts repeat: draws are with replacement).
std::map<std::string, int> BodiesAnswered(const std::vector<ScriptedHttpServer::Received>& got,
                                          const std::vector<int>& statuses, int status) {
  std::map<std::string, int> out;
  for (size_t i = 0; i < got.size(); ++i) {
    if (statuses[i] == status) ++out[got[i].path + " " + got[i].body];
  }
  return out;
}

TEST(EmulatorRetryTest, LoadResendsAfter503UntilAcceptedAndCountsIt) {
  std::mutex mutex;
  std::vector<int> statuses;  // per request, guarded by mutex
  ScriptedHttpServer server([&](size_t n, const http::Request&) {
    const int status = n < 5 ? 503 : n == 7 ? 429 : 200;
    std::lock_guard lock(mutex);
    statuses.push_back(status);
    return ScriptedHttpServer::Reply(status, "{}", status == 200 ? "" : "0");
  });
  ASSERT_TRUE(server.Start().ok());
  const LoadSummary summary = RunLoadNow(Load(server, 20));
  EXPECT_EQ(summary.sent, 20) << FormatSummary(summary);
  EXPECT_EQ(summary.accepted, 20);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(summary.retried, 6);
  EXPECT_EQ(summary.gave_up, 0);
  EXPECT_EQ(summary.requests, 26);
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 26u);
  // The first record was sent six times (five 503s), then accepted; every record sent was
  // accepted exactly once in the end.
  for (size_t i = 1; i < 6; ++i) EXPECT_EQ(got[i].body, got[0].body);
  EXPECT_EQ(got[8].body, got[7].body);  // after the 429
  std::lock_guard lock(mutex);
  std::map<std::string, int> accepted = BodiesAnswered(got, statuses, 200);
  int total = 0;
  for (const auto& [body, n] : accepted) total += n;
  EXPECT_EQ(total, 20);
  EXPECT_NE(FormatSummary(summary).find("retried 6"), std::string::npos) << FormatSummary(summary);
}

TEST(EmulatorRetryTest, Load422IsNeverRetried) {
  ScriptedHttpServer server([](size_t, const http::Request&) {
    return ScriptedHttpServer::Reply(422, R"({"detail":[]})", "0");
  });
  ASSERT_TRUE(server.Start().ok());
  const LoadSummary summary = RunLoadNow(Load(server, 9));
  EXPECT_EQ(summary.rejected, 9) << FormatSummary(summary);
  EXPECT_EQ(summary.retried, 0);
  EXPECT_EQ(server.request_count(), 9u);
}

TEST(EmulatorRetryTest, LoadGivesUpAfterMaxRetriesAndCountsIt) {
  ScriptedHttpServer server(
      [](size_t, const http::Request&) { return ScriptedHttpServer::Reply(503, "{}", "0"); });
  ASSERT_TRUE(server.Start().ok());
  LoadOptions load = Load(server, 2);
  load.retry.max_retries = 3;
  const LoadSummary summary = RunLoadNow(load);
  EXPECT_EQ(summary.sent, 2) << FormatSummary(summary);
  EXPECT_EQ(summary.failed, 2);
  EXPECT_EQ(summary.gave_up, 2);
  EXPECT_EQ(summary.retried, 6);
  EXPECT_EQ(server.request_count(), 8u);  // 1 + 3 retries each
}

TEST(EmulatorRetryTest, LoadNoRetryIsFireAndForget) {
  ScriptedHttpServer server(
      [](size_t, const http::Request&) { return ScriptedHttpServer::Reply(503, "{}", "0"); });
  ASSERT_TRUE(server.Start().ok());
  LoadOptions load = Load(server, 6);
  load.retry.enabled = false;
  const LoadSummary summary = RunLoadNow(load);
  EXPECT_EQ(summary.failed, 6) << FormatSummary(summary);
  EXPECT_EQ(summary.gave_up, 0);
  EXPECT_EQ(summary.retried, 0);
  EXPECT_EQ(server.request_count(), 6u);
}

// The wait before a retry is the answer's Retry-After (+ jitter of at most a quarter + 100 ms),
// and never more than max_delay (a capped wait is in [3/4 max_delay, max_delay]).
TEST(EmulatorRetryTest, LoadWaitsRetryAfterCappedAtMaxDelay) {
  ScriptedHttpServer server([](size_t n, const http::Request&) {
    if (n == 0) return ScriptedHttpServer::Reply(503, "{}", "1");
    if (n == 1) return ScriptedHttpServer::Reply(503, "{}", "3600");
    return ScriptedHttpServer::Reply(200);
  });
  ASSERT_TRUE(server.Start().ok());
  LoadOptions load = Load(server, 1);
  load.retry.max_delay = milliseconds(1500);
  const LoadSummary summary = RunLoadNow(load);
  EXPECT_EQ(summary.accepted, 1) << FormatSummary(summary);
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 3u);
  const auto first_wait = got[1].at - got[0].at;
  const auto second_wait = got[2].at - got[1].at;
  EXPECT_GE(first_wait, milliseconds(1000));
  EXPECT_LE(first_wait, milliseconds(1350 + 250));  // + slack for a loaded machine
  EXPECT_LE(second_wait, milliseconds(1500 + 250));
  EXPECT_GE(second_wait, milliseconds(1125));  // capped waits: uniform in [3/4 cap, cap]
}

// A batch: a whole-request 503 sends the whole batch again; per-item 503s send again only those
// items (and a 422 item is final).
TEST(EmulatorRetryTest, LoadBulkResendsOnlyTheFailedItems) {
  ScriptedHttpServer server([](size_t n, const http::Request& request) {
    if (n == 0) return ScriptedHttpServer::Reply(503, R"({"detail":"kafka"})", "0");
    const auto lines =
        static_cast<size_t>(std::count(request.body.begin(), request.body.end(), '\n'));
    std::string body = "{\"results\":[";
    for (size_t i = 0; i < lines; ++i) {
      // A full batch: items 0, 3, 6, 9 are 503 and item 5 is 422; a retry: all stored.
      const int status = lines < 10 ? 200 : i % 3 == 0 ? 503 : i == 5 ? 422 : 200;
      if (i > 0) body += ',';
      body += "{\"position\":" + std::to_string(i) + ",\"status\":" + std::to_string(status) + "}";
    }
    return ScriptedHttpServer::Reply(200, body + "]}", "0");
  });
  ASSERT_TRUE(server.Start().ok());
  LoadOptions load = Load(server, 30);
  load.bulk_size = 10;
  const LoadSummary summary = RunLoadNow(load);
  EXPECT_EQ(summary.sent, 30) << FormatSummary(summary);
  EXPECT_EQ(summary.accepted, 27);
  EXPECT_EQ(summary.rejected, 3);
  EXPECT_EQ(summary.retried, 10 + 3 * 4);
  EXPECT_EQ(summary.gave_up, 0);
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 7u);  // whole 503, then per kind: the batch and its retry
  EXPECT_EQ(got[1].body, got[0].body);
  for (size_t r : {1, 3, 5}) {
    std::vector<std::string> lines, again;
    std::istringstream a(got[r].body), b(got[r + 1].body);
    for (std::string line; std::getline(a, line);) lines.push_back(line);
    for (std::string line; std::getline(b, line);) again.push_back(line);
    ASSERT_EQ(lines.size(), 10u);
    EXPECT_EQ(again, (std::vector<std::string>{lines[0], lines[3], lines[6], lines[9]}));
    EXPECT_EQ(got[r + 1].path, got[r].path);
  }
}

// A request that gets no answer in time (a hung API) is a transport error: sent again.
TEST(EmulatorRetryTest, LoadResendsAfterATimeout) {
  ScriptedHttpServer server([](size_t n, const http::Request&) {
    Answer a = ScriptedHttpServer::Reply(200);
    if (n == 0) a.delay = milliseconds(2000);
    return a;
  });
  ASSERT_TRUE(server.Start().ok());
  LoadOptions load = Load(server, 3);
  load.request_timeout = milliseconds(300);
  const LoadSummary summary = RunLoadNow(load);
  EXPECT_EQ(summary.accepted, 3) << FormatSummary(summary);
  EXPECT_EQ(summary.retried, 1);
  EXPECT_EQ(server.request_count(), 4u);
  EXPECT_NE(summary.first_error.find("read"), std::string::npos) << summary.first_error;
}

// The API restarts: in-flight and new connections fail or are refused for a while; nothing is
// lost.
TEST(EmulatorRetryTest, LoadRidesOutAnApiRestart) {
  ScriptedHttpServer server(
      [](size_t, const http::Request&) { return ScriptedHttpServer::Reply(200); });
  ASSERT_TRUE(server.Start().ok());
  LoadOptions load = Load(server, 40);
  load.rate = 20;  // two seconds of posting
  load.concurrency = 2;
  load.retry.max_delay = milliseconds(300);  // connection errors wait 1 s, capped to 0.3 s
  LoadSummary summary;
  std::thread run([&] { summary = RunLoadNow(load); });
  while (server.request_count() < 5) std::this_thread::sleep_for(milliseconds(5));
  server.Stop();
  std::this_thread::sleep_for(milliseconds(800));
  ASSERT_TRUE(server.Start().ok());
  run.join();
  EXPECT_EQ(summary.sent, 40) << FormatSummary(summary);
  EXPECT_EQ(summary.accepted, 40);
  EXPECT_GT(summary.retried, 0);
  EXPECT_EQ(summary.gave_up, 0);
}

TEST(EmulatorRetryTest, ReplayResendsAfter503AndNeverAfter422) {
  ScriptedHttpServer server([](size_t n, const http::Request& request) {
    if (request.path == "/geo/") return ScriptedHttpServer::Reply(422, R"({"detail":[]})", "0");
    return ScriptedHttpServer::Reply(n < 3 ? 503 : 200, "{}", "0");
  });
  ASSERT_TRUE(server.Start().ok());
  ReplayOptions replay;
  replay.api = server.url();
  replay.count = 2;
  replay.max_sleep_ms = 0;
  replay.retry.max_delay = milliseconds(50);
  std::stop_source stop;
  std::ostringstream printed;
  const ReplayStats stats = RunReplay(Posts(), replay, stop.get_token(), printed);
  EXPECT_EQ(stats.posts, 2);
  EXPECT_EQ(stats.records_ok, 4) << printed.str();
  EXPECT_EQ(stats.records_failed, 2);  // the two geo records: 422, final
  EXPECT_EQ(stats.retried, 3);
  EXPECT_EQ(stats.gave_up, 0);
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 9u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(got[i].path, "/pin/");
  EXPECT_EQ(got[3].body, got[0].body);
  EXPECT_NE(printed.str().find("-> 503"), std::string::npos) << printed.str();
  EXPECT_NE(printed.str().find("retry 3 in"), std::string::npos) << printed.str();
}

TEST(EmulatorRetryTest, ReplayGivesUpOnARefusedConnectionAfterMaxRetries) {
  ReplayOptions replay;
  {
    // A port that was just free: nothing listens on it any more.
    ScriptedHttpServer probe(
        [](size_t, const http::Request&) { return ScriptedHttpServer::Reply(200); });
    ASSERT_TRUE(probe.Start().ok());
    replay.api = probe.url();
  }
  replay.count = 1;
  replay.max_sleep_ms = 0;
  replay.retry.max_retries = 2;
  replay.retry.max_delay = milliseconds(20);
  std::stop_source stop;
  std::ostringstream printed;
  const ReplayStats stats = RunReplay(Posts(), replay, stop.get_token(), printed);
  EXPECT_EQ(stats.records_failed, 3) << printed.str();
  EXPECT_EQ(stats.gave_up, 3);
  EXPECT_EQ(stats.retried, 6);
  EXPECT_NE(printed.str().find("gave up after 2 retries"), std::string::npos) << printed.str();

  replay.retry.enabled = false;  // --no-retry: one try each, not counted as given up
  const ReplayStats once = RunReplay(Posts(), replay, stop.get_token(), printed);
  EXPECT_EQ(once.records_failed, 3);
  EXPECT_EQ(once.gave_up, 0);
  EXPECT_EQ(once.retried, 0);
}

}  // namespace
}  // namespace pinpipe::emulate

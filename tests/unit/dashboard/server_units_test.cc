// Unit tests of the dashboard server's parts: the Prometheus text parser, query parsing (status
// codes and messages), the answer cache's single flight (refresher and on-demand entries), the
// service's on-demand routes and their compute queue, the time series (rates, downsampling,
// histogram quantiles), the bytes shown of messages and dead letters, the asset lookup.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/utf8_text.h"
#include "dashboard/answer_cache.h"
#include "dashboard/asset_lookup.h"
#include "dashboard/compute_queue.h"
#include "dashboard/dashboard_service.h"
#include "dashboard/event_hub.h"
#include "dashboard/prom_text.h"
#include "dashboard/routes.h"
#include "dashboard/time_series.h"
#include "testing/status_matchers.h"

namespace pinpipe::dashboard {
namespace {

struct PromCase {
  std::string text;
  bool ok;
  size_t samples = 0;
};

TEST(PromTextTest, AcceptsTheFormatAndRefusesAnythingElse) {
  const std::vector<PromCase> cases = {
      {"", true, 0},
      {"# HELP a_total Records\n# TYPE a_total counter\na_total 3\n", true, 1},
      {"a{k=\"v\",l=\"w\"} 1.5e3 1700000000000\n", true, 1},
      {"a{k=\"v\",} 1\n", true, 1},
      {"a{k=\"\\\"q\\\\ \\n\"} +Inf\nb NaN\nc -Inf\n", true, 3},
      {"a\t2\n\nb 3\n", true, 2},
      {"a 1", false},                     // not newline-terminated (truncated)
      {"a\n", false},                     // no value
      {"a x\n", false},                   // not a number
      {"1a 1\n", false},                  // bad name
      {"a{k=\"v\" 1\n", false},           // unclosed braces
      {"a{k=\"\\x\"} 1\n", false},        // unknown escape
      {"a{k=\"v\",k=\"w\"} 1\n", false},  // label twice
      {"a 1\r\n", false},                 // CR
      {"a{k=\"\xff\"} 1\n", false},       // not UTF-8
      {"# TYPE a wrong\n", false},        // unknown type
      {"a 1 2 3\n", false},               // text after the timestamp
  };
  for (const PromCase& c : cases) {
    auto r = ParsePromText(c.text);
    EXPECT_EQ(r.ok(), c.ok) << c.text << ": " << (r.ok() ? "ok" : r.status().ToString());
    if (r.ok()) {
      EXPECT_EQ(r->size(), c.samples) << c.text;
    }
  }
  auto parsed = ParsePromText("m{route=\"/pin/\",le=\"0.5\"} 7\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[0].name, "m");
  EXPECT_EQ((*parsed)[0].Label("route"), "/pin/");
  EXPECT_EQ((*parsed)[0].Label("le"), "0.5");
  EXPECT_EQ((*parsed)[0].value, 7);
}

TEST(PromTextTest, BoundsAreResourceExhausted) {
  PromLimits limits;
  limits.max_samples = 2;
  auto r = ParsePromText("a 1\nb 2\nc 3\n", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted));
  limits = PromLimits{};
  limits.max_bytes = 10;
  r = ParsePromText("a_long_name 1\n", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted));
  limits = PromLimits{};
  limits.max_labels = 1;
  r = ParsePromText("a{x=\"1\",y=\"2\"} 1\n", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted));
}

struct QueryCase {
  RouteId route;
  std::string query;
  int status;           // 0: accepted
  std::string mention;  // in the detail (the parameter's name) or the canonical key
};

TEST(RoutesTest, ParametersAreValidatedWithTheirStatus) {
  const std::vector<std::string> topics = {"pinterest", "pinterest_geo", "pinterest_user"};
  const std::vector<QueryCase> cases = {
      {RouteId::kOverview, "", 0, "window=5m"},
      {RouteId::kOverview, "window=1h", 0, "window=1h"},
      {RouteId::kOverview, "window=", 0, "window=5m"},
      {RouteId::kOverview, "window=7d", 422, "window"},
      {RouteId::kOverview, "window=5m&window=1h", 400, "window"},
      {RouteId::kOverview, "extra=1", 422, "extra"},
      {RouteId::kLambda, "from=2024-13-01", 400, "from"},
      {RouteId::kLambda, "from=2024-02-30", 400, "from"},
      {RouteId::kLambda, "from=2024-07-02&to=2024-07-01", 422, "from"},
      {RouteId::kLambda, "from=2024-07-01&to=2024-07-02", 0, "from=2024-07-01"},
      {RouteId::kAnalytics, "age_group=50%2B", 0, "age_group=50+"},
      {RouteId::kAnalytics, "age_group=99", 422, "age_group"},
      {RouteId::kAnalytics, "country=C%C3%B4te+d%27Ivoire", 0, "country="},
      {RouteId::kAnalytics, "country=%ZZ", 400, "country"},
      {RouteId::kAnalytics, "country=%FF", 400, "country"},
      {RouteId::kAnalytics, "country=" + std::string(201, 'x'), 400, "country"},
      {RouteId::kKafkaMessages, "", 422, "topic"},
      {RouteId::kKafkaMessages, "topic=other", 422, "topic"},
      {RouteId::kKafkaMessages, "topic=pinterest", 0, "limit=20"},
      {RouteId::kKafkaMessages, "topic=pinterest&limit=0", 422, "limit"},
      {RouteId::kKafkaMessages, "topic=pinterest&limit=101", 422, "limit"},
      {RouteId::kKafkaMessages, "topic=pinterest&limit=x", 400, "limit"},
      {RouteId::kKafkaMessages, "topic=pinterest&partition=-1", 422, "partition"},
      {RouteId::kKafkaMessages, "topic=pinterest&partition=one", 400, "partition"},
      {RouteId::kSchedulerLog, "dag_id=d&run_id=r", 422, "task_id"},
      {RouteId::kSchedulerLog, "dag_id=d&run_id=r&task_id=t&try=0", 422, "try"},
      {RouteId::kSchedulerLog, "dag_id=d&run_id=r&task_id=t", 0, "task_id=t"},
  };
  for (const QueryCase& c : cases) {
    QueryResult r = ParseQuery(c.route, c.query, topics);
    if (c.status == 0) {
      ASSERT_TRUE(r.query.has_value()) << c.query << ": " << r.error->detail;
      EXPECT_NE(r.query->key.find(c.mention), std::string::npos)
          << c.query << " -> " << r.query->key;
    } else {
      ASSERT_TRUE(r.error.has_value()) << c.query;
      EXPECT_EQ(r.error->status, c.status) << c.query << ": " << r.error->detail;
      EXPECT_NE(r.error->detail.find(c.mention), std::string::npos) << r.error->detail;
    }
  }
  // A value holding '&' or '=' cannot spell another query's key.
  EXPECT_NE(ParseQuery(RouteId::kAnalytics, "category=a%26country%3Db", topics).query->key,
            ParseQuery(RouteId::kAnalytics, "category=a&country=b", topics).query->key);
  // The same parameters spelled differently share one cache key.
  EXPECT_EQ(ParseQuery(RouteId::kLambda, "to=2024-07-02&from=2024-07-01", topics).query->key,
            ParseQuery(RouteId::kLambda, "from=2024-07-01&to=2024-07-02", topics).query->key);
}

TEST(RoutesTest, PathsAreClassified) {
  EXPECT_EQ(ClassifyPath("/"), RouteId::kIndex);
  EXPECT_EQ(ClassifyPath("/assets/app-ABCDEFGH.js"), RouteId::kAsset);
  EXPECT_EQ(ClassifyPath("/api/kafka/messages"), RouteId::kKafkaMessages);
  EXPECT_EQ(ClassifyPath("/api/kafka/"), RouteId::kUnknown);
  EXPECT_EQ(ClassifyPath("/api/nothing"), RouteId::kUnknown);
  EXPECT_EQ(RouteLabel(RouteId::kUnknown), "unknown");
}

Query MakeQuery(RouteId route, const std::string& raw) {
  const std::vector<std::string> topics = {"pinterest"};
  return *ParseQuery(route, raw, topics).query;
}

TEST(AnswerCacheTest, ConcurrentRequestsShareOneComputation) {
  AnswerCache cache(AnswerCacheOptions{std::chrono::seconds(60), 4});
  const Query q = MakeQuery(RouteId::kOverview, "window=1h");
  const auto now = AnswerCache::Clock::now();
  int answered = 0;
  std::vector<AnswerCache::Lookup> lookups;
  for (int i = 0; i < 10; ++i) {
    std::shared_ptr<const Answer> a;
    lookups.push_back(cache.Get(
        q, now, [&](std::shared_ptr<const Answer>) { ++answered; }, &a));
  }
  EXPECT_EQ(lookups[0], AnswerCache::Lookup::kFirstMiss);
  for (int i = 1; i < 10; ++i) EXPECT_EQ(lookups[i], AnswerCache::Lookup::kJoined);
  std::vector<Query> pending = cache.TakePending();
  ASSERT_EQ(pending.size(), 1u);  // one computation for ten requests
  EXPECT_TRUE(cache.TakePending().empty());
  auto answer = std::make_shared<Answer>();
  answer->body = "{}";
  cache.Publish(pending[0], answer);
  EXPECT_EQ(answered, 10);
  std::shared_ptr<const Answer> hit;
  EXPECT_EQ(cache.Get(q, now, nullptr, &hit), AnswerCache::Lookup::kHit);
  EXPECT_EQ(hit->body, "{}");
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().joined, 9u);
  // Not asked for within keep_for: evicted; still asked for: live.
  EXPECT_EQ(cache.LiveQueries(now).size(), 1u);
  cache.Evict(now + std::chrono::seconds(1));
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(AnswerCacheTest, FullOfWaitingEntriesRefuses) {
  AnswerCache cache(AnswerCacheOptions{std::chrono::seconds(60), 2});
  const auto now = AnswerCache::Clock::now();
  std::shared_ptr<const Answer> a;
  auto noop = [](std::shared_ptr<const Answer>) {};
  EXPECT_EQ(cache.Get(MakeQuery(RouteId::kOverview, "window=5m"), now, noop, &a),
            AnswerCache::Lookup::kFirstMiss);
  EXPECT_EQ(cache.Get(MakeQuery(RouteId::kOverview, "window=1h"), now, noop, &a),
            AnswerCache::Lookup::kFirstMiss);
  EXPECT_EQ(cache.Get(MakeQuery(RouteId::kOverview, "window=24h"), now, noop, &a),
            AnswerCache::Lookup::kFull);
}

TEST(AnswerCacheTest, OnDemandEntriesAreComputedOncePerGenerationByTheirFirstRequest) {
  AnswerCache cache(AnswerCacheOptions{std::chrono::seconds(60), 4});
  const Query q = MakeQuery(RouteId::kAnalytics, "category=travel");
  const auto now = AnswerCache::Clock::now();
  int joined_answered = 0;
  auto waiter = [&](std::shared_ptr<const Answer> a) {
    EXPECT_EQ(a->body, "{\"g\":1}");
    ++joined_answered;
  };
  std::shared_ptr<const Answer> a;
  ASSERT_EQ(cache.ClaimOnDemand(q, now, 1, waiter, &a), AnswerCache::Claim::kCompute);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(cache.ClaimOnDemand(q, now, 1, waiter, &a), AnswerCache::Claim::kJoined);
  }
  // The refresher neither computes nor recomputes on-demand entries.
  EXPECT_TRUE(cache.TakePending().empty());
  auto first = std::make_shared<Answer>();
  first->body = "{\"g\":1}";
  cache.PublishClaimed(q, 1, first);
  EXPECT_EQ(joined_answered, 5);
  EXPECT_TRUE(cache.LiveQueries(now).empty());
  // Same generation: a hit; a new one: computed once more, by the first request that sees it.
  ASSERT_EQ(cache.ClaimOnDemand(q, now, 1, waiter, &a), AnswerCache::Claim::kHit);
  EXPECT_EQ(a->body, "{\"g\":1}");
  EXPECT_EQ(cache.ClaimOnDemand(q, now, 2, waiter, &a), AnswerCache::Claim::kCompute);
  EXPECT_EQ(cache.ClaimOnDemand(
                q, now, 2, [](std::shared_ptr<const Answer>) {}, &a),
            AnswerCache::Claim::kJoined);
  auto second = std::make_shared<Answer>();
  second->body = "{\"g\":2}";
  cache.PublishClaimed(q, 2, second);
  ASSERT_EQ(cache.ClaimOnDemand(q, now, 2, waiter, &a), AnswerCache::Claim::kHit);
  EXPECT_EQ(a->body, "{\"g\":2}");
  const AnswerCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.joined, 6u);
  EXPECT_EQ(stats.hits, 2u);
}

TEST(AnswerCacheTest, BodiesAreBoundedByBytesLeastRecentlyAskedFirst) {
  AnswerCacheOptions options{std::chrono::seconds(60), 64};
  options.max_bytes = 2500;
  AnswerCache cache(options);
  const auto t0 = AnswerCache::Clock::now();
  auto body = [](char c) {
    auto a = std::make_shared<Answer>();
    a->body.assign(1000, c);
    return a;
  };
  std::shared_ptr<const Answer> out;
  auto noop = [](std::shared_ptr<const Answer>) {};
  std::vector<Query> qs;
  for (int i = 0; i < 3; ++i)
    qs.push_back(MakeQuery(RouteId::kAnalytics, "category=c" + std::to_string(i)));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(cache.ClaimOnDemand(qs[i], t0 + std::chrono::seconds(i), 1, noop, &out),
              AnswerCache::Claim::kCompute);
    cache.PublishClaimed(qs[i], 1, body(static_cast<char>('a' + i)));
  }
  // 3,000 bytes > 2,500: the least recently asked (c0) went; c1 and c2 stay.
  EXPECT_EQ(cache.stats().bytes, 2000u);
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_EQ(cache.ClaimOnDemand(qs[1], t0 + std::chrono::seconds(5), 1, noop, &out),
            AnswerCache::Claim::kHit);
  EXPECT_EQ(cache.ClaimOnDemand(qs[0], t0 + std::chrono::seconds(6), 1, noop, &out),
            AnswerCache::Claim::kCompute);
  cache.PublishClaimed(qs[0], 1, body('a'));
  // Now c2 was asked least recently.
  EXPECT_EQ(cache.ClaimOnDemand(qs[2], t0 + std::chrono::seconds(7), 1, noop, &out),
            AnswerCache::Claim::kCompute);
}

TEST(AnswerCacheTest, AnOnDemandEntryBeingComputedIsNeverEvicted) {
  AnswerCache cache(AnswerCacheOptions{std::chrono::seconds(60), 1});
  const auto now = AnswerCache::Clock::now();
  const Query a = MakeQuery(RouteId::kAnalytics, "country=France");
  const Query b = MakeQuery(RouteId::kAnalytics, "country=Spain");
  std::shared_ptr<const Answer> out;
  auto noop = [](std::shared_ptr<const Answer>) {};
  ASSERT_EQ(cache.ClaimOnDemand(a, now, 1, noop, &out), AnswerCache::Claim::kCompute);
  EXPECT_EQ(cache.ClaimOnDemand(b, now, 1, noop, &out), AnswerCache::Claim::kFull);
  auto answer = std::make_shared<Answer>();
  answer->body = "{}";
  cache.PublishClaimed(a, 1, answer);
  // Recomputing at a new generation keeps its old answer but is still not evictable.
  ASSERT_EQ(cache.ClaimOnDemand(a, now, 2, noop, &out), AnswerCache::Claim::kCompute);
  cache.Evict(now + std::chrono::hours(1));
  EXPECT_EQ(cache.ClaimOnDemand(b, now, 2, noop, &out), AnswerCache::Claim::kFull);
  cache.PublishClaimed(a, 2, answer);
  // Ready again: the least recently asked ready entry makes room.
  EXPECT_EQ(cache.ClaimOnDemand(b, now, 2, noop, &out), AnswerCache::Claim::kCompute);
}

// The service's on-demand routes are computed on its compute queue (no refresher runs in this
// test), once per generation however many threads ask at once.
TEST(DashboardServiceTest, OnDemandRoutesAreComputedOncePerGeneration) {
  AnswerCache cache(AnswerCacheOptions{std::chrono::seconds(60), 16});
  EventHub events(4, std::chrono::seconds(15), std::chrono::seconds(1));
  core::Registry registry;
  std::atomic<uint64_t> generation{1};
  std::atomic<int> computed{0};
  OnDemandHooks hooks;
  hooks.handles = [](RouteId r) { return r == RouteId::kAnalytics; };
  hooks.generation = [&] { return generation.load(); };
  hooks.compute = [&](const Query&, const std::string& generated_at) {
    ++computed;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // others join meanwhile
    Answer a;
    a.body = "{\"generated_at\":\"" + generated_at +
             "\",\"generation\":" + std::to_string(generation.load()) + "}";
    return a;
  };
  DashboardService service(ServiceOptions{}, &cache, &events, &registry, hooks);
  auto ask = [&](std::string_view path, std::string_view query) {
    http::Request req;
    req.method = "GET";
    req.path = path;
    req.query = query;
    req.target = path;
    std::optional<http::Response> got;
    std::atomic<bool> done{false};
    service.Handle(req, [&](http::Response r) {
      got = std::move(r);
      done = true;
    });
    for (int i = 0; i < 500 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return got;
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      std::optional<http::Response> r = ask("/api/analytics", "category=travel");
      if (r && r->status == 200 && r->body.find("\"generation\":1") != std::string::npos) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(computed.load(), 1);
  EXPECT_EQ(ask("/api/analytics", "category=travel")->status, 200);
  EXPECT_EQ(computed.load(), 1);
  generation = 2;
  std::optional<http::Response> r = ask("/api/analytics", "category=travel");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\"generation\":2"), std::string::npos) << r->body;
  EXPECT_EQ(computed.load(), 2);
  // A route that is not on demand waits for the refresher (none runs here): no answer.
  std::optional<http::Response> waiting = ask("/api/overview", "");
  EXPECT_FALSE(waiting.has_value());
  EXPECT_EQ(cache.TakePending().size(), 1u);
}

// A computation never holds the thread that handles the request (an HTTP I/O thread): Handle()
// returns at once, and a cached answer is served while the computation still runs.
TEST(DashboardServiceTest, ACachedAnswerIsNotHeldBehindAComputation) {
  AnswerCache cache(AnswerCacheOptions{std::chrono::seconds(60), 16});
  EventHub events(4, std::chrono::seconds(15), std::chrono::seconds(1));
  core::Registry registry;
  std::atomic<bool> release{false};
  OnDemandHooks hooks;
  hooks.handles = [](RouteId r) { return r == RouteId::kAnalytics || r == RouteId::kFilters; };
  hooks.generation = [] { return uint64_t{1}; };
  hooks.compute = [&](const Query& q, const std::string&) {
    if (q.route == RouteId::kAnalytics) {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Answer a;
    a.body = q.route == RouteId::kAnalytics ? "{\"tables\":[]}" : "{\"categories\":[]}";
    return a;
  };
  DashboardService service(ServiceOptions{}, &cache, &events, &registry, hooks);
  auto request = [](std::string_view path, std::string_view query) {
    http::Request req;
    req.method = "GET";
    req.path = path;
    req.query = query;
    req.target = path;
    return req;
  };
  std::atomic<int> filters_answers{0};
  auto count_filters = [&](http::Response r) {
    if (r.status == 200) ++filters_answers;
  };
  service.Handle(request("/api/filters", ""), count_filters);  // computed on the queue
  for (int i = 0; i < 500 && filters_answers == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(filters_answers.load(), 1);

  std::atomic<bool> analytics_answered{false};
  service.Handle(request("/api/analytics", "category=travel"),
                 [&](http::Response r) { analytics_answered = r.status == 200; });
  // Handle returned while the computation is blocked: it runs elsewhere.
  EXPECT_FALSE(analytics_answered.load());
  // The cached answer comes at once, on this thread, during the computation.
  service.Handle(request("/api/filters", ""), count_filters);
  EXPECT_EQ(filters_answers.load(), 2);
  EXPECT_FALSE(analytics_answered.load());
  release = true;
  for (int i = 0; i < 500 && !analytics_answered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(analytics_answered.load());
  service.StopComputing();
  // Once stopped, a computation is refused with 503 rather than left without an answer.
  std::optional<int> status;
  service.Handle(request("/api/analytics", "category=music"),
                 [&](http::Response r) { status = r.status; });
  EXPECT_EQ(status, 503);
}

TEST(ComputeQueueTest, RunsTasksInOrderOffTheCallersThreadAndDropsThePendingOnStop) {
  ComputeQueue queue(1);
  std::mutex mu;
  std::vector<int> ran;
  std::atomic<bool> release{false};
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> off_caller{true};
  std::atomic<bool> first_started{false};
  ASSERT_TRUE(queue.Post([&] {
    if (std::this_thread::get_id() == caller) off_caller = false;
    first_started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> lock(mu);
    ran.push_back(0);
  }));
  for (int i = 0; i < 500 && !first_started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(first_started.load());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(queue.Post([&, i] {
      std::lock_guard<std::mutex> lock(mu);
      ran.push_back(i);
    }));
  }
  EXPECT_EQ(queue.pending(), 3u);  // the first runs, blocked
  release = true;
  for (int i = 0; i < 500 && queue.pending() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (ran.size() == 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3}));
  }
  EXPECT_TRUE(off_caller.load());

  // Stop: the running task finishes, the pending one never runs, later posts are refused.
  release = false;
  std::atomic<bool> started{false};
  ASSERT_TRUE(queue.Post([&] {
    started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }));
  std::atomic<bool> pending_ran{false};
  ASSERT_TRUE(queue.Post([&] { pending_ran = true; }));
  for (int i = 0; i < 500 && !started; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(started.load());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  queue.Stop();  // waits for the running task
  releaser.join();
  EXPECT_FALSE(pending_ran.load());
  EXPECT_FALSE(queue.Post([] {}));
}

TEST(SeriesStoreTest, RatesDownsamplingAndQuantiles) {
  SeriesStore store(SeriesStoreOptions{std::chrono::milliseconds(2000), 16});
  // A counter growing 10 per 2 s sample, for 10 minutes.
  const double t0 = 1'700'000'000;
  for (int i = 0; i <= 300; ++i) {
    store.BeginSample(t0 + 2.0 * i);
    ASSERT_TRUE(store.Set("c", SeriesKind::kCounter, 10.0 * i).ok());
    ASSERT_TRUE(store.Set("g", SeriesKind::kGauge, i % 7).ok());
  }
  // 5m: every sample, capacity 5 min / 2 s.
  const std::vector<double> t5 = store.Times(Window::k5m);
  EXPECT_EQ(t5.size(), 150u);
  for (double r : store.Rates("c", Window::k5m)) EXPECT_DOUBLE_EQ(r, 5.0);
  // 1h: one point per 15 s; rates stay exact.
  const std::vector<double> t1 = store.Times(Window::k1h);
  ASSERT_GE(t1.size(), 39u);
  ASSERT_LE(t1.size(), 42u);
  const std::vector<double> r1 = store.Rates("c", Window::k1h);
  for (size_t i = 1; i < r1.size(); ++i) EXPECT_NEAR(r1[i], 5.0, 1e-9) << i;
  // A gauge downsampled keeps its peak (every complete 15 s step saw a 6; the first step began
  // mid-way and the newest is still filling).
  const std::vector<double> g1 = store.Values("g", Window::k1h);
  for (size_t i = 1; i + 1 < g1.size(); ++i) {
    if (!std::isnan(g1[i])) {
      EXPECT_EQ(g1[i], 6.0) << i;
    }
  }
  EXPECT_NEAR(*store.Increase("c", Window::k5m), 1500.0, 1e-9);
  EXPECT_NEAR(*store.RecentRate("c", std::chrono::seconds(60)), 5.0, 1e-9);
  // A reset (process restart) counts the value after it as the increase.
  store.BeginSample(t0 + 602);
  ASSERT_TRUE(store.Set("c", SeriesKind::kCounter, 4).ok());
  EXPECT_DOUBLE_EQ(store.Rates("c", Window::k5m).back(), 2.0);
  // The store's bound.
  for (int i = 0; i < 14; ++i) {
    ASSERT_TRUE(store.Set("s" + std::to_string(i), SeriesKind::kGauge, 1).ok());
  }
  EXPECT_THAT(store.Set("one_too_many", SeriesKind::kGauge, 1),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST(SeriesStoreTest, HistogramQuantilesPerInterval) {
  SeriesStore store(SeriesStoreOptions{std::chrono::milliseconds(1000), 16});
  const std::vector<std::string> buckets = {"b0.01", "b0.1", "b1", "binf"};
  const std::vector<double> bounds = {0.01, 0.1, 1};
  // Interval 1: 100 observations <= 0.01 s. Interval 2: 100 in (0.1, 1].
  const double cumulative[3][4] = {{0, 0, 0, 0}, {100, 100, 100, 100}, {100, 100, 200, 200}};
  for (int i = 0; i < 3; ++i) {
    store.BeginSample(1000 + i);
    for (size_t b = 0; b < 4; ++b) {
      ASSERT_TRUE(store.Set(buckets[b], SeriesKind::kCounter, cumulative[i][b]).ok());
    }
  }
  const std::vector<double> p50 = store.Quantiles(buckets, bounds, 0.5, Window::k5m);
  ASSERT_EQ(p50.size(), 3u);
  EXPECT_TRUE(std::isnan(p50[0]));
  EXPECT_GT(p50[1], 0.0);
  EXPECT_LE(p50[1], 0.01);
  EXPECT_GT(p50[2], 0.1);
  EXPECT_LE(p50[2], 1.0);
  const std::optional<double> all = store.WindowQuantile(buckets, bounds, 0.99, Window::k5m);
  ASSERT_TRUE(all.has_value());
  EXPECT_GT(*all, 0.1);
}

struct ShownCase {
  std::string bytes;
  size_t max;
  std::string text;
  bool truncated;
};

TEST(ShowableTextTest, InvalidUtf8IsReplacedAndLengthCapped) {
  const std::string fffd = "\xEF\xBF\xBD";
  const std::vector<ShownCase> cases = {
      {"plain", 100, "plain", false},
      {"a\xff"
       "b",
       100, "a" + fffd + "b", false},
      {"\xC3", 100, fffd, false},                        // truncated sequence: one U+FFFD
      {"\xE2\x82", 100, fffd, false},                    // truncated 3-byte prefix: one
      {"\xC0\xAF", 100, fffd + fffd, false},             // overlong: each byte
      {"\xED\xA0\x80", 100, fffd + fffd + fffd, false},  // surrogate
      {"\xC3\xA9t\xC3\xA9", 3, "\xC3\xA9t", true},       // cut between characters
      {"\xC3\xA9t\xC3\xA9", 4, "\xC3\xA9t", true},       // never inside one
      {std::string("a\0b", 3), 100, std::string("a\0b", 3), false},
  };
  for (const ShownCase& c : cases) {
    core::ShownText shown = core::ShowableText(c.bytes, c.max);
    EXPECT_EQ(shown.text, c.text);
    EXPECT_EQ(shown.truncated, c.truncated);
    EXPECT_TRUE(core::IsValidUtf8(shown.text));
    EXPECT_LE(shown.text.size(), c.max);
  }
}

TEST(AssetLookupTest, PageAndHashedNames) {
  ASSERT_NE(FindAsset("/"), nullptr);
  EXPECT_EQ(FindAsset("/nothing"), nullptr);
  EXPECT_TRUE(IsHashedAssetName("/assets/app-O7AQWADC.js"));
  EXPECT_FALSE(IsHashedAssetName("/assets/app.js"));
  EXPECT_FALSE(IsHashedAssetName("/assets/app-short.js"));
  EXPECT_FALSE(IsHashedAssetName("/"));
}

}  // namespace
}  // namespace pinpipe::dashboard

// `pinpipe dashboard`'s server (DashboardServer) against the real services: a scratch
// PostgreSQL database with the serving schema, read as the SELECT-only reader role; real Kafka
// topics fed through the real ingestion API (IngestHarness), whose /metrics the dashboard
// scrapes. Every /api endpoint of the contract answers 200 with what the sources hold; the page
// and its assets come from the binary; 401 without the token; 422/400 for bad parameters; ten
// concurrent pollers cost PostgreSQL what one costs; every endpoint answers within its bound;
// the PostgreSQL source yields to a lagging speed layer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "dashboard/assets.h"
#include "dashboard/dashboard_server.h"
#include "dashboard/pg_source.h"
#include "dashboard/routes.h"
#include "integration/dashboard/analytics_engine_fixture.h"
#include "testing/ingest_env.h"
#include "testing/kafka_env.h"
#include "testing/raw_client.h"

namespace pinpipe::dashboard {
namespace {

constexpr char kToken[] = "dash-secret";

class DashboardServerTest : public AnalyticsEngineTest {
 protected:
  void SetUp() override {
    AnalyticsEngineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    brokers_ = testing::KafkaBrokers();
    if (brokers_.empty()) GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS (scripts/test)";
    auto harness = testing::IngestHarness::Start(brokers_, testing::UniqueName("dash"));
    ASSERT_TRUE(harness.ok()) << harness.status().ToString();
    ingest_ = std::move(*harness);
    // Two batch days: the analytics engine loads them, serving.boundary is the second.
    Layers layers;
    layers[0] = RowSet{{"ind", "unique_id", "poster_name", "follower_count", "category", "dt"},
                       {{"1", "u1", "Ann", "10", "art", "2024-07-01"},
                        {"2", "u2", "Bob", "20", "art", "2024-07-01"},
                        {"3", "u3", "Cid", "30", "travel", "2024-07-02"}}};
    layers[1] = RowSet{
        {"ind", "country", "dt"},
        {{"1", "Peru", "2024-07-01"}, {"2", "Peru", "2024-07-01"}, {"3", "Chad", "2024-07-02"}}};
    layers[2] = RowSet{{"ind", "age", "dt"}, {}};
    LoadBatchDay("2024-07-01", layers);
    LoadBatchDay("2024-07-02", layers);
  }

  void TearDown() override {
    server_.reset();
    ingest_.reset();
    AnalyticsEngineTest::TearDown();
  }

  DashboardConfig Config() {
    DashboardConfig c;
    c.port = 0;
    c.bearer_token = kToken;
    c.refresh_interval = std::chrono::milliseconds(300);
    c.metrics.push_back({"api", fmt::format("http://127.0.0.1:{}/metrics", ingest_->port())});
    c.kafka_brokers = brokers_;
    c.pg_dsn = reader_dsn_;
    c.pg_role = "";  // the login role is the reader
    c.topics = {ingest_->topic(RecordKind::kPin), ingest_->topic(RecordKind::kGeo),
                ingest_->topic(RecordKind::kUser)};
    c.slow_interval = std::chrono::milliseconds(500);
    return c;
  }

  void StartServer(DashboardConfig c) {
    server_ = std::make_unique<DashboardServer>(std::move(c));
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  http::Client Client() {
    http::ClientOptions o;
    o.port = server_->port();
    o.request_timeout = std::chrono::seconds(30);
    return http::Client(o);
  }

  // GET with the token.
  http::ClientResponse Get(const std::string& path, bool auth = true) {
    http::Client client = Client();
    http::HeaderList headers;
    if (auth) headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    auto r = client.Get(path, headers);
    EXPECT_TRUE(r.ok()) << path << ": " << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }

  // Polls `path` until `pred` holds on its parsed body (or 20 s pass).
  template <typename Pred>
  std::string WaitFor(const std::string& path, Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::string body;
    while (std::chrono::steady_clock::now() < deadline) {
      http::ClientResponse r = Get(path);
      body = r.body;
      if (r.status == 200) {
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        if (parser.parse(body).get(doc) == simdjson::SUCCESS && pred(doc)) return body;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << path << " never satisfied the condition; last body: " << body;
    return body;
  }

  std::string brokers_;
  std::unique_ptr<testing::IngestHarness> ingest_;
  std::unique_ptr<DashboardServer> server_;
};

TEST_F(DashboardServerTest, EveryEndpointAnswersFromTheSources) {
  // Ten records through the real API: /api/throughput counts them, the peek shows the last.
  http::Client api = ingest_->NewClient();
  for (int i = 0; i < 10; ++i) {
    auto r = api.Post("/pin/", testing::PinRecord(100 + i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
  }
  ASSERT_EQ(api.Post("/pin/", R"({"index": "not a number"})")->status, 422);
  StartServer(Config());

  // Page and documents: public.
  http::ClientResponse page = Get("/", false);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<html"), std::string::npos) << page.body.substr(0, 200);
  EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
  for (const Asset& a : BundledAssets()) {
    if (a.path == "/") continue;
    http::ClientResponse asset = Get(std::string(a.path), false);
    EXPECT_EQ(asset.status, 200) << a.path;
    EXPECT_EQ(asset.body.size(), a.body.size()) << a.path;
  }
  EXPECT_EQ(Get("/assets/none-ABCDEFGH.js", false).status, 404);
  EXPECT_EQ(Get("/healthz", false).body, R"({"status":"ok"})");
  http::ClientResponse openapi = Get("/openapi.json", false);
  ASSERT_EQ(openapi.status, 200);
  for (const RouteSpec& route : Routes()) {
    if (route.api) {
      EXPECT_NE(openapi.body.find("\"" + std::string(route.path) + "\""), std::string::npos)
          << route.path;
    }
  }

  // Throughput: the 10 accepted, 1 rejected records appear as rates once two scrapes saw them
  // move (the first scrape is the baseline: post more after it).
  WaitFor("/api/overview", [](simdjson::dom::element d) {
    for (auto s : d["stages"].get_array()) {
      if (std::string_view(s["stage"].get_string()) == "api") return bool(s["up"].get_bool());
    }
    return false;
  });
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(api.Post("/pin/", testing::PinRecord(200 + i))->status, 200);
  WaitFor("/api/throughput", [](simdjson::dom::element d) {
    double sum = 0;
    for (auto v : d["series"]["accepted"].get_array()) {
      double x;
      if (v.get(x) == simdjson::SUCCESS) sum += x;
    }
    return sum > 0;
  });

  // Kafka: the pin topic's high watermarks sum to 15; the peek's newest offsets are the last.
  const std::string pin_topic = ingest_->topic(RecordKind::kPin);
  WaitFor("/api/kafka", [&](simdjson::dom::element d) {
    int64_t high = 0;
    for (auto t : d["topics"].get_array()) {
      if (std::string_view(t["topic"].get_string()) == pin_topic)
        high += int64_t(t["high_watermark"]);
    }
    return high == 15;
  });
  http::ClientResponse peek = Get("/api/kafka/messages?topic=" + pin_topic + "&limit=3");
  ASSERT_EQ(peek.status, 200) << peek.body;
  {
    simdjson::dom::parser parser;
    simdjson::dom::element d = parser.parse(peek.body);
    auto messages = d["messages"].get_array();
    EXPECT_EQ(messages.size(), 3u);
    for (auto m : messages) {
      EXPECT_NE(std::string_view(m["value"].get_string()).find("\"index\""),
                std::string_view::npos);
      EXPECT_FALSE(bool(m["truncated"]));
    }
  }
  EXPECT_EQ(Get("/api/kafka/messages?topic=elsewhere").status, 422);

  // PostgreSQL: the boundary and the batch days, the analytics over them, the filters.
  WaitFor("/api/freshness", [](simdjson::dom::element d) {
    std::string_view day;
    return d["last_loaded_day"].get(day) == simdjson::SUCCESS && day == "2024-07-02";
  });
  WaitFor("/api/lambda?from=2024-07-01&to=2024-07-31", [](simdjson::dom::element d) {
    std::string_view boundary;
    return d["boundary"].get(boundary) == simdjson::SUCCESS && boundary == "2024-07-02" &&
           d["days"].get_array().size() > 0;
  });
  WaitFor("/api/analytics",
          [](simdjson::dom::element d) { return d["tables"].get_array().size() > 0; });
  std::string filters = WaitFor("/api/filters", [](simdjson::dom::element d) {
    return d["categories"].get_array().size() == 2;
  });
  EXPECT_NE(filters.find("\"travel\""), std::string::npos) << filters;
  http::ClientResponse analytics = Get("/api/analytics?category=art&country=Peru");
  EXPECT_EQ(analytics.status, 200) << analytics.body;
  EXPECT_NE(analytics.body.find("q1_popular_category_by_country"), std::string::npos);
  EXPECT_EQ(Get("/api/quality").status, 200);
  http::ClientResponse scheduler = Get("/api/scheduler?from=2024-07-01");
  EXPECT_EQ(scheduler.status, 200) << scheduler.body;
  EXPECT_EQ(Get("/api/scheduler/log?dag_id=d&run_id=r&task_id=t").status, 404);

  // Headers of every API answer.
  http::ClientResponse overview = Get("/api/overview?window=1h");
  EXPECT_EQ(overview.Header("Cache-Control"), "no-store");
  EXPECT_FALSE(overview.Header("X-Pinpipe-Generated-At").empty());
  EXPECT_NE(overview.body.find("\"generated_at\""), std::string::npos);

  // /metrics: the dashboard's own.
  http::ClientResponse metrics = Get("/metrics", false);
  EXPECT_NE(
      metrics.body.find("pinpipe_dashboard_requests_total{route=\"/api/overview\",status=\"200\"}"),
      std::string::npos);
}

TEST_F(DashboardServerTest, TokenAndParametersAreChecked) {
  StartServer(Config());
  struct Case {
    std::string path;
    bool auth;
    int status;
  };
  const std::vector<Case> cases = {
      {"/api/overview", false, 401},
      {"/api/overview", true, 200},
      {"/api/overview?window=7d", true, 422},
      {"/api/overview?bogus=1", true, 422},
      {"/api/lambda?from=2024-13-01", true, 400},
      {"/api/lambda?from=2024-07-02&to=2024-07-01", true, 422},
      {"/api/analytics?age_group=99", true, 422},
      {"/api/kafka/messages", true, 422},
      {"/api/kafka/messages?topic=" + ingest_->topic(RecordKind::kPin) + "&limit=500", true, 422},
      {"/api/nothing", true, 404},
      {"/", false, 200},
  };
  for (const Case& c : cases) {
    http::ClientResponse r = Get(c.path, c.auth);
    EXPECT_EQ(r.status, c.status) << c.path << ": " << r.body;
    if (c.status == 400 || c.status == 422) {
      EXPECT_NE(r.body.find("\"detail\""), std::string::npos) << c.path;
    }
  }
  http::Client client = Client();
  auto post = client.Post("/api/overview", "{}", "application/json",
                          {{"Authorization", std::string("Bearer ") + kToken}});
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->Header("Allow"), "GET, HEAD");
}

// Dead letters appear with their bytes shown safely (invalid UTF-8 replaced, markup as text in
// JSON); a scheduler run's tasks and a task's log appear; the reader role cannot write.
TEST_F(DashboardServerTest, DeadLettersSchedulerRunsAndLogs) {
  ASSERT_TRUE(conn_
                  ->Run("INSERT INTO pinpipe_dead_letters (topic, partition, kafka_offset, raw, "
                        "reason, stage) "
                        "VALUES ('t', 2, 41, '\\x3c623e61ff62'::bytea, 'not JSON', 'validate')")
                  .ok());
  ASSERT_TRUE(
      conn_
          ->Run(
              "INSERT INTO scheduler.dag_runs (dag_id, run_id, kind, interval_start, interval_end, "
              "state, "
              "queued_at, started_at, ended_at, version) VALUES ('daily', 'scheduled__2024-07-01', "
              "'scheduled', '2024-07-01', '2024-07-02', 'success', now(), now() - interval '5 s', "
              "now(), 1)")
          .ok());
  ASSERT_TRUE(
      conn_
          ->Run("INSERT INTO scheduler.task_instances (dag_id, run_id, task_id, position, state, "
                "try_number, max_tries, started_at, ended_at) VALUES ('daily', "
                "'scheduled__2024-07-01', "
                "'load', 0, 'success', 2, 3, now() - interval '4 s', now() - interval '1 s')")
          .ok());
  ASSERT_TRUE(
      conn_
          ->Run(
              "INSERT INTO scheduler.task_logs (dag_id, run_id, task_id, try_number, chunk) VALUES "
              "('daily', 'scheduled__2024-07-01', 'load', 2, 'loaded day 2024-07-01\n'::bytea)")
          .ok());
  StartServer(Config());
  const std::string quality = WaitFor("/api/quality", [](simdjson::dom::element d) {
    return d["dead_letters"]["latest"].get_array().size() == 1;
  });
  {
    simdjson::dom::parser parser;
    simdjson::dom::element d = parser.parse(quality);
    auto letter = d["dead_letters"]["latest"].at(0);
    EXPECT_EQ(std::string_view(letter["raw"].get_string()),
              "<b>a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(int64_t(letter["raw_bytes"]), 6);
    EXPECT_EQ(int64_t(letter["offset"]), 41);
    EXPECT_EQ(std::string_view(letter["reason"].get_string()), "not JSON");
  }
  const std::string scheduler =
      WaitFor("/api/scheduler?from=2024-07-01&to=2024-07-01",
              [](simdjson::dom::element d) { return d["runs"].get_array().size() == 1; });
  {
    simdjson::dom::parser parser;
    simdjson::dom::element d = parser.parse(scheduler);
    auto run = d["runs"].at(0);
    EXPECT_EQ(std::string_view(run["state"].get_string()), "success");
    auto task = run["tasks"].at(0);
    EXPECT_EQ(std::string_view(task["task_id"].get_string()), "load");
    EXPECT_EQ(int64_t(task["tries"]), 2);
    EXPECT_NEAR(double(task["duration_s"]), 3.0, 0.5);
  }
  http::ClientResponse log =
      Get("/api/scheduler/log?dag_id=daily&run_id=scheduled__2024-07-01&task_id=load");
  EXPECT_EQ(log.status, 200) << log.body;
  EXPECT_EQ(log.body, "loaded day 2024-07-01\n");
  EXPECT_EQ(log.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(
      Get("/api/scheduler/log?dag_id=daily&run_id=scheduled__2024-07-01&task_id=load&try=3").status,
      404);
  // The dashboard's role reads and cannot write.
  auto reader = OpenReaderConnection(reader_dsn_, "", std::chrono::seconds(5));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_FALSE(reader->Run("DELETE FROM pinpipe_dead_letters").ok());
  EXPECT_FALSE(reader->Run("CREATE TABLE dash_probe (x int)").ok());
}

// /api/events: a refresh event after each cycle (the refresh interval is 300 ms here), with a
// growing version; it needs the token like every /api route.
TEST_F(DashboardServerTest, EventsStreamRefreshes) {
  StartServer(Config());
  http::testing_support::RawClient anonymous(server_->port());
  ASSERT_TRUE(anonymous.Send("GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::optional<http::testing_support::RawResponse> refused = anonymous.Read();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 401);

  http::testing_support::RawClient client(server_->port(), std::chrono::seconds(5));
  ASSERT_TRUE(
      client.Send(std::string("GET /api/events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ") +
                  kToken + "\r\n\r\n"));
  ASSERT_TRUE(client.ReadUntil("\r\n\r\n"));
  EXPECT_NE(client.buffered().find("HTTP/1.1 200"), std::string::npos) << client.buffered();
  EXPECT_NE(client.buffered().find("text/event-stream"), std::string::npos) << client.buffered();
  // Three events arrive within a few intervals, each "event: refresh" with its data line.
  const auto t0 = std::chrono::steady_clock::now();
  auto count = [&client] {
    size_t n = 0;
    const std::string& seen = client.buffered();
    for (size_t p = seen.find("event: refresh\n"); p != std::string::npos;
         p = seen.find("event: refresh\n", p + 1)) {
      ++n;
    }
    return n;
  };
  while (count() < 3) ASSERT_TRUE(client.ReadSome()) << client.buffered();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(client.buffered().find("data: {\"version\":"), std::string::npos);
  EXPECT_NE(client.buffered().find("\"generated_at\":\""), std::string::npos);
}

// Every source is optional: without metrics URLs, Kafka and the lake, every endpoint still
// answers (200, or 503 with a detail for what needs the missing source).
TEST_F(DashboardServerTest, RunsWithoutOptionalSources) {
  DashboardConfig c = Config();
  c.metrics.clear();
  c.kafka_brokers.clear();
  StartServer(std::move(c));
  for (const RouteSpec& route : Routes()) {
    if (!route.api || route.id == RouteId::kEvents) continue;
    std::string path(route.path);
    if (route.id == RouteId::kKafkaMessages) path += "?topic=" + ingest_->topic(RecordKind::kPin);
    if (route.id == RouteId::kSchedulerLog) continue;
    http::ClientResponse r = Get(path);
    EXPECT_TRUE(r.status == 200 || r.status == 503) << path << ": " << r.status << " " << r.body;
    EXPECT_NE(r.body.find(r.status == 200 ? "\"generated_at\"" : "\"detail\""), std::string::npos)
        << path << ": " << r.body;
  }
  EXPECT_EQ(Get("/api/kafka").status, 503);
}

// Ten concurrent pollers cost PostgreSQL what one costs: the statements per refresh cycle do
// not depend on the number of clients (answers come from the cache).
TEST_F(DashboardServerTest, TenPollersCostWhatOneCosts) {
  StartServer(Config());
  const std::vector<std::string> paths = {"/api/overview", "/api/freshness", "/api/lambda",
                                          "/api/quality",  "/api/scheduler", "/api/analytics"};
  for (const std::string& p : paths) ASSERT_EQ(Get(p).status, 200) << p;
  // Pollers fetch every path, pause 20 ms, and go again, while the refresher runs 5 cycles.
  auto measure = [&](int pollers) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the slow lane settles
    std::atomic<bool> stop{false};
    std::vector<std::jthread> threads;
    for (int i = 0; i < pollers; ++i) {
      threads.emplace_back([&] {
        http::Client client = Client();
        while (!stop.load()) {
          for (const std::string& p : paths) {
            auto r = client.Get(p, {{"Authorization", std::string("Bearer ") + kToken}});
            EXPECT_TRUE(r.ok() && r->status == 200) << p;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      });
    }
    const uint64_t c0 = server_->refresher_stats().cycles;
    const uint64_t s0 = server_->pg_statements();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (server_->refresher_stats().cycles < c0 + 5 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const uint64_t cycles = server_->refresher_stats().cycles - c0;
    const uint64_t statements = server_->pg_statements() - s0;
    stop.store(true);
    threads.clear();
    EXPECT_GE(cycles, 5u) << "the refresher must keep its pace under " << pollers << " pollers";
    return static_cast<double>(statements) / static_cast<double>(std::max<uint64_t>(cycles, 1));
  };
  const double one = measure(1);
  const double ten = measure(10);
  std::printf("PostgreSQL statements per refresh cycle: 1 poller %.2f, 10 pollers %.2f\n", one,
              ten);
  EXPECT_GT(one, 0);
  // The slow lane's whole-table statements run on their own schedule: allow one per cycle.
  EXPECT_LE(ten, one + 1.0) << "statements per cycle: 1 poller " << one << ", 10 pollers " << ten;
}

// Every endpoint answers a cached request within 50 ms at p99 (measured over 50 requests each).
TEST_F(DashboardServerTest, EveryEndpointIsFast) {
  StartServer(Config());
  const std::vector<std::string> paths = {
      "/api/overview",  "/api/throughput",
      "/api/kafka",     "/api/freshness",
      "/api/lambda",    "/api/analytics",
      "/api/filters",   "/api/quality",
      "/api/scheduler", "/api/kafka/messages?topic=" + ingest_->topic(RecordKind::kPin)};
  http::Client client = Client();
  const http::HeaderList auth = {{"Authorization", std::string("Bearer ") + kToken}};
  for (const std::string& p : paths) {
    auto first = client.Get(p, auth);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first->status, 200) << p << ": " << first->body;
    std::vector<double> ms;
    for (int i = 0; i < 50; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = client.Get(p, auth);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ASSERT_TRUE(r.ok() && r->status == 200) << p;
    }
    std::sort(ms.begin(), ms.end());
    const double p99 = ms[ms.size() * 99 / 100 - 1];
    std::printf("latency %-40s p50 %.2f ms p99 %.2f ms\n", p.c_str(), ms[ms.size() / 2], p99);
    EXPECT_LT(p99, 50.0) << p;
  }
}

// Records the pace of each engine refresh (the PostgreSQL side of PgSource is real).
class PaceRecorder final : public Analytics {
 public:
  Status Refresh(pg::Connection&, Pace pace) override {
    paces.push_back(pace);
    return Status::Ok();
  }
  std::string AnalyticsJson(const AnalyticsFilters&) const override { return "{}"; }
  std::string FiltersJson() const override { return "{}"; }
  std::string PinDaysJson(const AnalyticsFilters&) const override { return "[]"; }
  uint64_t generation() const override { return 0; }
  size_t bytes() const override { return 0; }
  std::vector<Pace> paces;
};

// While the speed layer lags by more than yield_lag records, PgSource yields PostgreSQL to it:
// no whole-table statement starts and the engine does not poll; with the lag down
// the views run again; after max_yield of yielding in a row it stops yielding until the lag has
// come down once. (`now` is given to Refresh: the clock of the test, real time only for the
// views' asynchronous statements to finish.)
TEST_F(DashboardServerTest, PgSourceYieldsToALaggingSpeedLayer) {
  PgSourceOptions o;
  o.dsn = reader_dsn_;
  o.role = "";
  o.slow_interval = std::chrono::milliseconds(1000);
  o.yield_lag = 100;
  o.max_yield = std::chrono::milliseconds(10000);
  PaceRecorder engine;
  PgSource pg(o, &engine);
  // Runs refreshes (now advancing 0.5 s each, real time 50 ms) until the views round is
  // published or `tries` refreshes pass.
  double now = 1000;
  auto views_published = [&](int tries) {
    const std::optional<double> before = pg.views_as_of();
    for (int i = 0; i < tries; ++i) {
      pg.Refresh(now += 0.5);
      if (pg.views_as_of() != before) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  pg.SetSpeedLag(1'000'000);
  EXPECT_FALSE(views_published(12)) << "6 s of yielding, views due every 1 s";
  EXPECT_TRUE(pg.yielding());
  EXPECT_TRUE(pg.boundary().boundary.has_value()) << "the cheap statements still run";
  ASSERT_FALSE(engine.paces.empty());
  for (Analytics::Pace p : engine.paces) EXPECT_EQ(p, Analytics::Pace::kYield);

  pg.SetSpeedLag(100);  // not above yield_lag
  EXPECT_TRUE(views_published(100));
  EXPECT_FALSE(pg.yielding());
  EXPECT_EQ(engine.paces.back(), Analytics::Pace::kCatchUp);
  EXPECT_FALSE(pg.layer_days().empty());

  pg.SetSpeedLag(std::nullopt);  // unknown lag (Kafka unreachable): never yields
  pg.Refresh(now += 0.5);
  EXPECT_FALSE(pg.yielding());

  // A lag that never comes down: yielding for max_yield (10 s), then the views run anyway.
  pg.SetSpeedLag(1'000'000);
  pg.Refresh(now += 0.5);
  EXPECT_TRUE(pg.yielding());
  pg.Refresh(now += 9);
  EXPECT_TRUE(pg.yielding());
  pg.Refresh(now += 1.5);
  EXPECT_FALSE(pg.yielding());
  EXPECT_TRUE(views_published(100));
  EXPECT_EQ(engine.paces.back(), Analytics::Pace::kCatchUp);
  // Once the lag has come down, a new spell of lag yields again.
  pg.SetSpeedLag(0);
  pg.Refresh(now += 0.5);
  pg.SetSpeedLag(1'000'000);
  pg.Refresh(now += 0.5);
  EXPECT_TRUE(pg.yielding());
}

}  // namespace
}  // namespace pinpipe::dashboard

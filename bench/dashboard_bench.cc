// dashboard_bench: the analytics engine (src/dashboard/) at a million posts.
//
//   build/<preset>/bench/dashboard_bench [--posts N] [--pg-dsn DSN] [benchmark flags]
//
// 1. Pure part (always): N posts (default 1,000,000) of the emulator's shape (13 categories,
//    ~240 countries, ~11,000 posters, a person per ~5 user records, every post with its
//    geolocation and user record) built straight into PostFacts; prints the bytes held per post
//    and the RSS growth, then times every question and the pins per day under several filters
//    (Google Benchmark: one table per question, the whole /api/analytics body, pin days).
// 2. PostgreSQL part (with --pg-dsn, a superuser conninfo of a scratch server; a database
//    pinpipe_dashboard_bench is dropped and
//    re-created at each run, and left for inspection): N rows per kind generated with
//    generate_series into the real speed tables (`serving ensure`'s schema), with offsets, then
//    the engine's full load timed (and the RSS it adds), a poll of 5,000 new rows per kind, one
//    of 100,000 (the speed layer's rate over ~5 s: what one dashboard poll reads while a burst
//    drains), and an empty poll; each with its wall time and the CPU time of its PostgreSQL
//    backend (from /proc, when the server runs on this host). The questions then run on those
//    facts too.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "core/record_schema.h"
#include "dashboard/analytics_answers.h"
#include "dashboard/analytics_engine.h"
#include "dashboard/post_facts.h"
#include "pg/connection.h"
#include "serving/serving_schema.h"
#include "transform/transform.h"

namespace pinpipe::dashboard {
namespace {

int64_t RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat; -1 when unreadable
// (the server runs on another host).
double CpuSeconds(int64_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!std::getline(stat, text)) return -1;
  const size_t close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const char* kCategories[] = {"christmas", "art",    "quotes",       "education", "diy-and-crafts",
                             "finance",   "travel", "mens-fashion", "tattoos",   "event-planning",
                             "vehicles",  "beauty", "home-decor"};

int64_t g_posts = 1000000;
std::unique_ptr<PostFacts> g_facts;
FactsView g_view;

void BuildFacts() {
  const int64_t rss0 = RssKiB();
  const auto start = std::chrono::steady_clock::now();
  g_facts = std::make_unique<PostFacts>();
  std::mt19937_64 rng(7);
  const int64_t day0 = *core::ParseDate("2024-04-01");
  const int64_t micros_2017 = *core::ParseDate("2017-01-01") * 86400 * 1000000;
  const int64_t micros_2015 = *core::ParseDate("2015-01-01") * 86400 * 1000000;
  const int64_t persons = g_posts / 5 + 1;
  std::vector<std::string> countries, posters, first, last;
  for (int i = 0; i < 240; ++i) countries.push_back(fmt::format("Country {}", i));
  for (int i = 0; i < 11000; ++i) posters.push_back(fmt::format("Poster {}", i));
  for (int i = 0; i < 400; ++i) first.push_back(fmt::format("First{}", i));
  for (int i = 0; i < 500; ++i) last.push_back(fmt::format("Last{}", i));
  for (int64_t i = 0; i < g_posts; ++i) {
    const uint64_t r = rng();
    const int64_t person = static_cast<int64_t>(rng() % static_cast<uint64_t>(persons));
    UserRecord u;
    u.ind = static_cast<int32_t>(i);
    u.day = static_cast<int32_t>(day0 + i % 3);
    u.first_name = first[static_cast<size_t>(person % 400)];
    u.last_name = last[static_cast<size_t>(person / 400 % 500)];
    u.fields.age = static_cast<int32_t>(20 + person % 41);
    u.fields.date_joined_us = micros_2015 + person % 1096 * 86400 * int64_t{1000000};
    if (!g_facts->AddUser(u).ok()) std::abort();
    PinFields p;
    p.ind = u.ind;
    p.day = u.day;
    p.category = kCategories[r % 13];
    p.poster_name = posters[(r >> 8) % posters.size()];
    p.follower_count = static_cast<int32_t>((r >> 24) % 15000000);
    p.geo =
        GeoFields{countries[(r >> 48) % countries.size()],
                  micros_2017 + static_cast<int64_t>((r >> 16) % (6LL * 365 * 86400)) * 1000000};
    p.user = u.fields;
    if (!g_facts->AddPin(p).ok()) std::abort();
  }
  g_view = g_facts->View();
  const double took = Seconds(start);
  std::printf(
      "pure: %lld posts + %zu Q6 user records (%zu people) built in %.2f s; engine holds %.1f "
      "MiB = %.1f bytes per post (post entry %zu B, user record %zu B); RSS +%.1f MiB\n",
      static_cast<long long>(g_posts), g_facts->users(), g_facts->persons(), took,
      static_cast<double>(g_facts->bytes()) / (1 << 20),
      static_cast<double>(g_facts->bytes()) / static_cast<double>(g_posts), kPostBytes, kUserBytes,
      static_cast<double>(RssKiB() - rss0) / 1024);
}

// The filter sets the benchmarks run under.
AnalyticsFilters FilterSet(int64_t which) {
  AnalyticsFilters f;
  const auto day = [](const char* d) {
    return std::chrono::sys_days(std::chrono::days(*core::ParseDate(d)));
  };
  switch (which) {
    case 1: f.category = "travel"; break;
    case 2: f.country = "Country 17"; break;
    case 3: f.age_group = "25-35"; break;
    case 4:
      f.from = day("2024-04-02");
      f.to = day("2024-04-02");
      break;
    case 5:
      f.from = day("2024-04-01");
      f.category = "art";
      f.country = "Country 3";
      f.age_group = "36-50";
      break;
    default: break;
  }
  return f;
}

const char* kFilterNames[] = {"none", "category", "country", "age_group", "one_day", "all_four"};

void BM_Question(benchmark::State& state) {
  const auto question = static_cast<Question>(state.range(0));
  const AnalyticsFilters filters = FilterSet(state.range(1));
  size_t rows = 0;
  for (auto _ : state) {
    auto tables = ComputeQuestion(g_view, filters, question);
    rows = tables[0].rows.size();
    benchmark::DoNotOptimize(tables);
  }
  state.SetLabel(
      fmt::format("Q{} filter={} rows={}", state.range(0) + 1, kFilterNames[state.range(1)], rows));
  state.counters["posts"] = static_cast<double>(g_view.post_count());
}

void BM_AnalyticsBody(benchmark::State& state) {
  const AnalyticsFilters filters = FilterSet(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    AppendTablesJson(ComputeAnalytics(g_view, filters), &out);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(fmt::format("filter={} json={}B", kFilterNames[state.range(0)], bytes));
}

void BM_PinDays(benchmark::State& state) {
  const AnalyticsFilters filters = FilterSet(state.range(0));
  for (auto _ : state) {
    std::string out;
    AppendPinDaysJson(ComputePinDays(g_view, filters), &out);
    benchmark::DoNotOptimize(out);
  }
  state.SetLabel(fmt::format("filter={}", kFilterNames[state.range(0)]));
}

BENCHMARK(BM_Question)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnalyticsBody)->DenseRange(0, 5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PinDays)->DenseRange(0, 5)->Unit(benchmark::kMillisecond);

// generate_series rows of the emulator's shape into the speed tables, `first`..`first+n-1`.
std::string GenerateSql(int64_t first, int64_t n, int64_t persons) {
  return fmt::format(R"sql(
INSERT INTO public.experimental_data (ind, unique_id, poster_name, follower_count, category, dt,
                                      kafka_partition, kafka_offset)
SELECT i, md5(i::text), 'Poster ' || (hashint8(i) & 16383) % 11000, (hashint8(i * 3) & 16777215) % 15000000,
       (ARRAY['christmas','art','quotes','education','diy-and-crafts','finance','travel',
              'mens-fashion','tattoos','event-planning','vehicles','beauty','home-decor'])[1 + (i % 13)],
       DATE '2024-04-01' + (i % 3)::int, i % 3, i / 3
FROM generate_series({0}, {1}) i;
INSERT INTO public.geolocation_data_clean (ind, "timestamp", latitude, longitude, country, dt,
                                           kafka_partition, kafka_offset)
SELECT i, TIMESTAMP '2017-01-01' + ((hashint8(i * 5) & 268435455) % (6 * 365 * 86400)) * INTERVAL '1 second',
       0, 0, 'Country ' || (hashint8(i * 7) & 65535) % 240, DATE '2024-04-01' + (i % 3)::int, i % 3, i / 3
FROM generate_series({0}, {1}) i;
INSERT INTO public.user_data_clean (ind, user_name, first_name, last_name, age, date_joined, dt,
                                    kafka_partition, kafka_offset)
SELECT i, NULL, 'First' || p % 400, 'Last' || p / 400 % 500, 20 + p % 41,
       TIMESTAMP '2015-01-01' + (p % 1096) * INTERVAL '1 day', DATE '2024-04-01' + (i % 3)::int,
       i % 3, i / 3
FROM (SELECT i, (hashint8(i * 11) & 1073741823) % {2} AS p FROM generate_series({0}, {1}) i) s;
INSERT INTO public.pinpipe_stream_offsets (consumer_group, topic, partition, next_offset)
SELECT 'pinpipe-stream', t, p, ({1}) / 3 + 1
FROM unnest(ARRAY['pinterest', 'pinterest_geo', 'pinterest_user']) t, generate_series(0, 2) p
ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset;
)sql",
                     first, first + n - 1, persons);
}

std::unique_ptr<AnalyticsEngine> g_engine;

int PgPart(const std::string& admin_dsn) {
  const std::string name = "pinpipe_dashboard_bench";
  auto admin = pg::Connection::Open(admin_dsn);
  if (!admin.ok()) {
    std::fprintf(stderr, "%s\n", admin.status().ToString().c_str());
    return 1;
  }
  (void)admin->Run("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  auto dsn = pg::ConninfoWith(admin_dsn, "dbname", name);
  serving::ServingOptions options;
  options.pg_dsn = *dsn;
  options.reader.reset();
  auto transform = transform::Transform::Default();
  auto report = serving::EnsureServing(options, transform);
  if (!report.ok()) {
    std::fprintf(stderr, "serving ensure: %s\n", report.status().ToString().c_str());
    return 1;
  }
  auto conn = pg::Connection::Open(*dsn);
  const auto gen_start = std::chrono::steady_clock::now();
  Status made = conn->Run(GenerateSql(0, g_posts, g_posts / 5 + 1) +
                          "ANALYZE public.experimental_data, public.geolocation_data_clean, "
                          "public.user_data_clean;");
  if (!made.ok()) {
    std::fprintf(stderr, "generate: %s\n", made.ToString().c_str());
    return 1;
  }
  std::printf("pg: generated %lld rows per kind in %.1f s\n", static_cast<long long>(g_posts),
              Seconds(gen_start));
  EngineOptions engine_options;
  engine_options.transform = transform.get();
  engine_options.topics = core::DefaultTopics();
  engine_options.max_poll_records = 400000;  // the 100,000-row poll below stays a poll
  g_engine = std::make_unique<AnalyticsEngine>(engine_options);
  const int64_t rss0 = RssKiB();
  auto start = std::chrono::steady_clock::now();
  Status loaded = g_engine->Refresh(*conn, Analytics::Pace::kCatchUp);
  if (!loaded.ok()) {
    std::fprintf(stderr, "full load: %s\n", loaded.ToString().c_str());
    return 1;
  }
  const auto stats = g_engine->stats();
  std::printf(
      "pg: full load of %lld posts in %.2f s (engine holds %.1f MiB = %.1f B/post; RSS +%.1f "
      "MiB, process RSS %.1f MiB)\n",
      static_cast<long long>(stats.posts), Seconds(start),
      static_cast<double>(stats.bytes_held) / (1 << 20),
      static_cast<double>(stats.bytes_held) / static_cast<double>(stats.posts),
      static_cast<double>(RssKiB() - rss0) / 1024, static_cast<double>(RssKiB()) / 1024);
  // Polls of 5,000 and 100,000 new rows per kind, then one with nothing new; the CPU of the
  // server backend that ran them.
  auto backend = conn->Exec("SELECT pg_backend_pid()");
  const int64_t backend_pid = backend.ok() ? std::stoll(std::string(backend->GetValue(0, 0))) : 0;
  auto poll = [&](const std::string& what) {
    const double cpu0 = CpuSeconds(backend_pid);
    const auto poll_start = std::chrono::steady_clock::now();
    Status polled = g_engine->Refresh(*conn, Analytics::Pace::kCatchUp);
    const double wall = Seconds(poll_start);
    const double cpu = CpuSeconds(backend_pid);
    const std::string server =
        cpu0 < 0 || cpu < 0 ? "n/a" : fmt::format("{:.0f} ms", (cpu - cpu0) * 1000);
    std::printf("pg: %s in %.1f ms, server backend CPU %s (%s), posts now %lld\n", what.c_str(),
                wall * 1000, server.c_str(), polled.ToString().c_str(),
                static_cast<long long>(g_engine->stats().posts));
  };
  int64_t next = g_posts + 3;
  for (int64_t n : {5000, 100000}) {
    (void)conn->Run(GenerateSql(next, n, g_posts / 5 + 1));
    next += n + 3;
    poll(fmt::format("poll of {} new rows per kind", n));
  }
  poll("empty poll");
  g_view = g_engine->snapshot()->facts;
  return 0;
}

}  // namespace
}  // namespace pinpipe::dashboard

int main(int argc, char** argv) {
  using namespace pinpipe::dashboard;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as soon as it is measured
  std::string pg_dsn;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--posts") == 0 && i + 1 < argc) {
      g_posts = std::stoll(argv[++i]);
    } else if (std::strcmp(argv[i], "--pg-dsn") == 0 && i + 1 < argc) {
      pg_dsn = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (pg_dsn.empty()) {
    BuildFacts();
  } else if (PgPart(pg_dsn) != 0) {
    return 1;
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// `pinpipe dashboard`: the pipeline's web dashboard (the page and its read-only JSON API; see
// docs/design.md, "Dashboard").
#include <malloc.h>
#include <iostream>
#include <memory>

#include "auth_flags.h"
#include "command.h"
#include "core/record_schema.h"
#include "dashboard/dashboard_server.h"
#include "event_time_flags.h"
#include "kafka_flags.h"
#include "lake/object_store.h"
#include "log/logger.h"
#include "s3_flags.h"
#include "stop_signals.h"
#include "topic_flags.h"

namespace pinpipe::app {
namespace {

const log::Logger kDashboardLog("dashboard");

struct DashboardFlags {
  KafkaClientFlags kafka;  // --kafka-option, --kafka-config
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 2;
  int64_t refresh_interval_ms = 2000;
  int64_t scrape_timeout_ms = 1000;
  int64_t views_interval_ms = 60000;
  int64_t yield_lag = 20000;
  std::vector<std::string> metrics_urls;
  std::string brokers = "127.0.0.1:19092";
  std::string pg_dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest_streaming";
  std::string pg_role = "pinpipe_reader";
  bool no_analytics = false;
  std::string lake;
  std::string transform_file;
  std::string topic_pin = core::DefaultTopic(core::RecordKind::kPin),
              topic_geo = core::DefaultTopic(core::RecordKind::kGeo),
              topic_user = core::DefaultTopic(core::RecordKind::kUser);
  std::string stream_group = "pinpipe-stream", archive_group = "pinpipe-archiver";
  AuthTokenFlags auth;
  S3Flags s3;
};

int FailDashboard(const std::string& message) { return CommandError("dashboard", message, 1); }

int RunDashboard(const DashboardFlags& f) {
  // Memory (issue 12's RSS bound): two malloc arenas instead of one per thread that ever
  // allocated (request threads compute analytics answers), and a fixed mmap threshold, so the
  // engine's fact chunks (256 KiB) are always their own mappings, given back when freed, instead
  // of landing in the heap once glibc's dynamic threshold has risen, where the small allocations
  // of every poll then pin the freed space.
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  StopSignals signals("dashboard", "stopping");

  dashboard::DashboardConfig c;
  StatusOr<std::string> token = ResolveAuthToken(f.auth);
  if (!token.ok()) return FailDashboard(token.status().ToString());
  c.bearer_token = *token;
  c.host = f.host;
  c.port = f.port;
  c.threads = f.threads;
  c.refresh_interval = std::chrono::milliseconds(f.refresh_interval_ms);
  c.scrape_timeout = std::chrono::milliseconds(f.scrape_timeout_ms);
  c.slow_interval = std::chrono::milliseconds(f.views_interval_ms);
  c.yield_lag = f.yield_lag;
  for (const std::string& spec : f.metrics_urls) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      return FailDashboard(
          "--metrics-url " + spec +
          ": expected name=URL (name: api, speed, archiver, scheduler or supervisor)");
    }
    c.metrics.push_back({spec.substr(0, eq), spec.substr(eq + 1)});
  }
  c.kafka_brokers = f.brokers;
  c.pg_dsn = f.pg_dsn;
  c.pg_role = f.pg_role;
  c.analytics = !f.no_analytics;
  c.topics = {f.topic_pin, f.topic_geo, f.topic_user};
  c.stream_group = f.stream_group;
  c.archive_group = f.archive_group;
  if (!f.transform_file.empty()) {
    auto loaded = transform::Transform::FromFile(f.transform_file);
    if (!loaded.ok()) return FailDashboard(loaded.status().ToString());
    c.transform = *loaded;
  }
  if (!f.lake.empty()) {
    auto store = lake::OpenObjectStore(f.lake, f.s3.ToOptions());
    if (!store.ok()) return FailDashboard("--lake " + f.lake + ": " + store.status().ToString());
    c.lake = std::move(*store);
  }
  const bool auth = !c.bearer_token.empty();
  dashboard::DashboardServer server(std::move(c));
  if (Status s = server.Start(); !s.ok()) return FailDashboard(s.ToString());
  kDashboardLog.Info(
      "listening on http://{}:{}/ (API /api/*, docs /openapi.json, metrics /metrics), {}", f.host,
      server.port(), auth ? "bearer auth on /api" : "auth off");
  signals.Wait();
  server.Stop();
  return 0;
}

CommandRegistration kDashboard(
    "dashboard", "Run the web dashboard: the page and its read-only JSON API over the pipeline",
    [](CLI::App& sub) {
      auto f = std::make_shared<DashboardFlags>();
      sub.add_option("--host", f->host, "Address to listen on")
          ->envname("PINPIPE_DASHBOARD_HOST")
          ->capture_default_str();
      sub.add_option("--port", f->port, "Port to listen on (0 = any free port)")
          ->envname("PINPIPE_DASHBOARD_PORT")
          ->capture_default_str();
      sub.add_option("--threads", f->threads, "HTTP I/O threads")
          ->envname("PINPIPE_DASHBOARD_THREADS")
          ->check(CLI::Range(1, 16))
          ->capture_default_str();
      sub.add_option("--refresh-interval", f->refresh_interval_ms,
                     "How often the sources are read and the cached answers recomputed")
          ->envname("PINPIPE_DASHBOARD_REFRESH_INTERVAL")
          ->transform(DurationMs())
          ->default_str("2s");
      sub.add_option("--scrape-timeout", f->scrape_timeout_ms,
                     "Timeout of each /metrics scrape and Kafka request")
          ->envname("PINPIPE_DASHBOARD_SCRAPE_TIMEOUT")
          ->transform(DurationMs())
          ->default_str("1s");
      sub.add_option("--views-interval", f->views_interval_ms,
                     "How often the whole-table views (serving.layer_days, serving.reconciliation) "
                     "are read")
          ->envname("PINPIPE_DASHBOARD_VIEWS_INTERVAL")
          ->transform(DurationMs())
          ->default_str("60s");
      sub.add_option("--yield-lag", f->yield_lag,
                     "While the speed layer lags by more records than this, the dashboard yields "
                     "PostgreSQL to it: no whole-table view, no analytics poll, for at most 5 min "
                     "in a row (0 = never yield)")
          ->envname("PINPIPE_DASHBOARD_YIELD_LAG")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      sub.add_option("--metrics-url", f->metrics_urls,
                     "name=URL of a process's /metrics (name: api, speed, archiver, scheduler, "
                     "supervisor); repeatable")
          ->envname("PINPIPE_DASHBOARD_METRICS_URLS")
          ->delimiter(',');
      sub.add_option("--kafka-brokers", f->brokers,
                     "Kafka bootstrap servers (empty: no Kafka panel)")
          ->envname("PINPIPE_KAFKA_BROKERS")
          ->capture_default_str();
      AddKafkaClientFlags(sub, &f->kafka);
      sub.add_option("--pg-dsn", f->pg_dsn,
                     "PostgreSQL conninfo of the pipeline's database (empty: no PostgreSQL panels)")
          ->envname("PINPIPE_DASHBOARD_PG_DSN")
          ->capture_default_str();
      sub.add_option("--pg-role", f->pg_role,
                     "Role to SET after connecting (the SELECT-only reader `pinpipe serving "
                     "ensure` creates; empty: the login role)")
          ->envname("PINPIPE_DASHBOARD_PG_ROLE")
          ->capture_default_str();
      sub.add_flag("--no-analytics", f->no_analytics,
                   "Do not run the in-memory analytics engine (/api/analytics and /api/filters "
                   "answer 503)")
          ->envname("PINPIPE_DASHBOARD_NO_ANALYTICS");
      sub.add_option("--lake", f->lake,
                     "The archiver's lake, for the last sealed day (a directory or "
                     "s3://bucket[/prefix]; empty: unknown)")
          ->envname("PINPIPE_LAKE");
      sub.add_option("--transform-file", f->transform_file,
                     "Transform rules (TOML); default: the built-in transforms/pinterest.toml")
          ->envname("PINPIPE_TRANSFORM_FILE");
      AddTopicFlags(sub, {&f->topic_pin, &f->topic_geo, &f->topic_user});
      sub.add_option("--stream-group", f->stream_group,
                     "The speed layer's consumer group (pinpipe stream --group)")
          ->envname("PINPIPE_STREAM_GROUP")
          ->capture_default_str();
      sub.add_option("--archive-group", f->archive_group,
                     "The archiver's consumer group (pinpipe archive --group)")
          ->envname("PINPIPE_ARCHIVE_GROUP")
          ->capture_default_str();
      AddAuthTokenFlags(sub, &f->auth, "PINPIPE_DASHBOARD_TOKEN", "PINPIPE_DASHBOARD_TOKEN_FILE",
                        "/api/*");
      AddS3Flags(sub, &f->s3);
      return CommandRunner([f] {
        return RunWithKafkaClientFlags(f->kafka, "dashboard", [f] { return RunDashboard(*f); });
      });
    });

}  // namespace
}  // namespace pinpipe::app

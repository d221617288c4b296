// DashboardServer: `pinpipe dashboard` put together: the HTTP server (DashboardService), the
// answer cache, the one refresher thread, the sources (PipelineView) and, when PostgreSQL is
// configured, the analytics engine. The command parses flags into DashboardConfig and runs one;
// the integration tests run one in-process against real services.
//
// Start() opens the sources (nothing is contacted yet: a source that is down shows as such in
// the answers and is retried every interval), starts the refresher and binds the port. Stop()
// (and the destructor) closes the event streams, stops the server and then the refresher.
// Errors of Start: InvalidArgument for a bad metrics URL, Kafka configuration or lake URL; the
// server's bind error.
//
// Thread-safety: Start/Stop from one thread; the accessors from any.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "dashboard/analytics_engine.h"
#include "dashboard/answer_cache.h"
#include "dashboard/dashboard_service.h"
#include "dashboard/event_hub.h"
#include "dashboard/metrics_source.h"
#include "dashboard/pipeline_view.h"
#include "dashboard/refresher.h"
#include "http/server.h"
#include "lake/object_store.h"
#include "transform/transform.h"

namespace pinpipe::dashboard {

struct DashboardConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (port())
  int threads = 2;
  std::string bearer_token;  // "" = /api open
  std::chrono::milliseconds refresh_interval{2000};
  std::chrono::milliseconds keep_for{60000};  // answers not asked for this long are dropped
  std::chrono::milliseconds scrape_timeout{1000};
  std::vector<MetricsTarget> metrics;  // may be empty
  std::string kafka_brokers;           // "" = no Kafka source
  // The speed layer's and the archiver's consumer groups (`pinpipe stream --group`,
  // `pinpipe archive --group`): their lag, and the speed layer's offsets in PostgreSQL.
  std::string stream_group = "pinpipe-stream";
  std::string archive_group = "pinpipe-archiver";
  std::string pg_dsn;  // "" = no PostgreSQL source (and no analytics)
  std::string pg_role = "pinpipe_reader";
  bool analytics = true;                    // run the analytics engine (needs pg_dsn)
  std::unique_ptr<lake::ObjectStore> lake;  // null = no lake source
  std::array<std::string, 3> topics = core::DefaultTopics();
  std::shared_ptr<const transform::Transform> transform = transform::Transform::Default();
  std::chrono::milliseconds slow_interval{60000};  // serving.layer_days / reconciliation
  int64_t yield_lag = 20000;  // PgSourceOptions::yield_lag (pg_source.h, "Yielding")
  size_t max_event_streams = 64;
  size_t max_connections = 1000;
};

class DashboardServer {
 public:
  explicit DashboardServer(DashboardConfig config);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  Status Start();
  void Stop();

  uint16_t port() const { return server_ ? server_->port() : 0; }
  core::Registry& registry() { return registry_; }
  const AnswerCache& cache() const { return cache_; }
  Refresher::Stats refresher_stats() const;
  // Statements the PostgreSQL source sent (0 without it); read on the refresher's schedule.
  uint64_t pg_statements() const;
  const AnalyticsEngine* engine() const { return engine_.get(); }

 private:
  DashboardConfig config_;
  core::Registry registry_;
  AnswerCache cache_;
  EventHub events_;
  std::unique_ptr<AnalyticsEngine> engine_;
  std::unique_ptr<PipelineView> view_;
  std::unique_ptr<DashboardService> service_;
  std::unique_ptr<Refresher> refresher_;
  std::unique_ptr<http::Server> server_;
  std::atomic<uint64_t> pg_statements_{0};
  std::atomic<uint64_t> version_{0};
  std::atomic<uint64_t> series_count_{0};
  std::atomic<uint64_t> series_bytes_{0};
};

}  // namespace pinpipe::dashboard

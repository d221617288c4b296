#include "dashboard/dashboard_server.h"

#include "core/record_schema.h"

namespace pinpipe::dashboard {

DashboardServer::DashboardServer(DashboardConfig config)
    : config_(std::move(config)),
      cache_(AnswerCacheOptions{config_.keep_for, 256}),
      events_(config_.max_event_streams, std::chrono::seconds(15), config_.refresh_interval) {}

DashboardServer::~DashboardServer() { Stop(); }

Status DashboardServer::Start() {
  if (server_) return FailedPrecondition("already started");
  std::unique_ptr<MetricsSource> metrics;
  if (!config_.metrics.empty()) {
    ASSIGN_OR_RETURN(metrics, MetricsSource::Create(config_.metrics, config_.scrape_timeout));
  }
  std::unique_ptr<KafkaSource> kafka;
  if (!config_.kafka_brokers.empty()) {
    KafkaSourceOptions ko;
    ko.brokers = config_.kafka_brokers;
    ko.topics.assign(config_.topics.begin(), config_.topics.end());
    ko.groups = {config_.stream_group, config_.archive_group};
    ko.timeout = std::max(config_.scrape_timeout, std::chrono::milliseconds(500));
    ASSIGN_OR_RETURN(kafka, KafkaSource::Create(std::move(ko)));
  }
  std::unique_ptr<PgSource> pg;
  if (!config_.pg_dsn.empty()) {
    if (config_.analytics) {
      EngineOptions eo;
      eo.transform = config_.transform.get();
      eo.topics = config_.topics;
      eo.stream_group = config_.stream_group;
      engine_ = std::make_unique<AnalyticsEngine>(std::move(eo));
    }
    PgSourceOptions po;
    po.dsn = config_.pg_dsn;
    po.role = config_.pg_role;
    po.topics = config_.topics;
    po.stream_group = config_.stream_group;
    for (size_t i = 0; i < 3; ++i) {
      po.tables[i] = config_.transform->table(core::kAllRecordKinds[i]).table;
    }
    po.slow_interval = config_.slow_interval;
    po.yield_lag = config_.yield_lag;
    pg = std::make_unique<PgSource>(std::move(po), engine_.get());
  }
  std::unique_ptr<LakeSource> lake;
  if (config_.lake) {
    lake = std::make_unique<LakeSource>(
        std::move(config_.lake),
        std::vector<std::string>(config_.topics.begin(), config_.topics.end()),
        std::chrono::seconds(30));
  }
  PipelineViewOptions vo;
  vo.interval = config_.refresh_interval;
  vo.topics = config_.topics;
  vo.stream_group = config_.stream_group;
  vo.archive_group = config_.archive_group;
  view_ = std::make_unique<PipelineView>(vo, std::move(metrics), std::move(kafka), std::move(pg),
                                         std::move(lake), engine_.get());

  ServiceOptions so;
  so.bearer_token = config_.bearer_token;
  so.topics.assign(config_.topics.begin(), config_.topics.end());
  // The engine's answers are computed on the request threads from its snapshot, never behind the
  // refresher's steps.
  OnDemandHooks on_demand;
  on_demand.handles = &PipelineView::FromEngine;
  const Analytics* analytics = engine_.get();
  on_demand.generation = [analytics] { return analytics != nullptr ? analytics->generation() : 0; };
  const PipelineView* view = view_.get();
  on_demand.compute = [view](const Query& q, const std::string& generated_at) {
    return view->ComputeFromEngine(q, generated_at);
  };
  service_ =
      std::make_unique<DashboardService>(so, &cache_, &events_, &registry_, std::move(on_demand));

  RefresherHooks hooks;
  hooks.steps = view_->Steps();
  // The PostgreSQL statement count is copied after each cycle, on the refresher thread.
  hooks.compute = [this](const Query& q, const std::string& generated_at) {
    return view_->Compute(q, generated_at);
  };
  hooks.after_cycle = [this](uint64_t cycle, const std::string& generated_at) {
    if (view_->pg() != nullptr) pg_statements_.store(view_->pg()->statements());
    series_count_.store(view_->store().series_count());
    series_bytes_.store(view_->store().bytes());
    version_.store(cycle);
    events_.Broadcast(cycle, generated_at);
    events_.KeepAlive(EventHub::Clock::now());
  };
  refresher_ = std::make_unique<Refresher>(
      RefresherOptions{config_.refresh_interval, config_.keep_for}, &cache_, std::move(hooks));

  registry_.AddCounterFunction("pinpipe_dashboard_refresh_cycles_total", "Refresh cycles run",
                               [this] { return static_cast<double>(refresher_->stats().cycles); });
  registry_.AddCounterFunction(
      "pinpipe_dashboard_computations_total", "Answers computed (first answers and refreshes)",
      [this] { return static_cast<double>(refresher_->stats().computations); });
  registry_.AddGauge("pinpipe_dashboard_refresh_seconds", "Duration of the last refresh cycle",
                     [this] { return refresher_->stats().last_cycle_seconds; });
  registry_.AddCounterFunction(
      "pinpipe_dashboard_pg_statements_total",
      "Statements sent to PostgreSQL by the dashboard's sources (the engine's excluded)",
      [this] { return static_cast<double>(pg_statements_.load()); });
  registry_.AddGauge("pinpipe_dashboard_series", "Time series held (fixed memory each)",
                     [this] { return static_cast<double>(series_count_.load()); });
  registry_.AddGauge("pinpipe_dashboard_series_bytes", "Bytes of the time series' points",
                     [this] { return static_cast<double>(series_bytes_.load()); });
  if (const PgSource* source = view_->pg(); source != nullptr) {
    registry_.AddGauge("pinpipe_dashboard_yielding",
                       "1 while the dashboard yields PostgreSQL to a lagging speed layer (no "
                       "whole-table statements, no analytics engine poll)",
                       [source] { return source->yielding() ? 1.0 : 0.0; });
  }
  if (engine_) {
    AnalyticsEngine* engine = engine_.get();
    registry_.AddGauge("pinpipe_dashboard_engine_bytes", "Bytes held by the analytics engine",
                       [engine] { return static_cast<double>(engine->stats().bytes_held); });
    registry_.AddGauge("pinpipe_dashboard_engine_posts",
                       "Merged posts held by the analytics engine",
                       [engine] { return static_cast<double>(engine->stats().posts); });
    registry_.AddGauge("pinpipe_dashboard_engine_backlog",
                       "Speed-layer records committed but not yet read by the analytics engine "
                       "(a backlog is read in slices, one per refresh)",
                       [engine] { return static_cast<double>(engine->stats().backlog); });
    registry_.AddGauge("pinpipe_dashboard_engine_last_refresh_seconds",
                       "Duration of the analytics engine's last refresh",
                       [engine] { return engine->stats().last_refresh_ms / 1000.0; });
  }

  http::ServerOptions ho;
  ho.host = config_.host;
  ho.port = config_.port;
  ho.threads = config_.threads;
  ho.max_body_bytes = 0;
  ho.max_connections = config_.max_connections;
  DashboardService* service = service_.get();
  server_ = std::make_unique<http::Server>(
      ho,
      [service](const http::Request& req, const http::Responder& respond) {
        service->Handle(req, respond);
      },
      [service](const http::Request& head) { return service->OnHead(head); });
  refresher_->Start();
  if (Status s = server_->Start(); !s.ok()) {
    refresher_->Stop();
    server_.reset();
    return s;
  }
  return Status::Ok();
}

void DashboardServer::Stop() {
  events_.CloseAll();
  if (server_) server_->Stop();
  if (service_) service_->StopComputing();
  if (refresher_) refresher_->Stop();
}

Refresher::Stats DashboardServer::refresher_stats() const {
  return refresher_ ? refresher_->stats() : Refresher::Stats{};
}

uint64_t DashboardServer::pg_statements() const { return pg_statements_.load(); }

}  // namespace pinpipe::dashboard

#include "dashboard/pipeline_view.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "core/record_validator.h"
#include "core/utf8_text.h"

namespace pinpipe::dashboard {
namespace {

constexpr double kQuantiles[] = {0.5, 0.99};

std::optional<std::string> IsoOrNull(std::optional<double> unix_seconds) {
  if (!unix_seconds) return std::nullopt;
  return core::IsoTime(static_cast<int64_t>(std::llround(*unix_seconds * 1000.0)));
}

std::optional<double> Finite(std::optional<double> v) {
  if (v && std::isfinite(*v)) return v;
  return std::nullopt;
}

Window WindowOf(const Query& q) {
  return ParseWindow(q.Get("window").value_or("5m")).value_or(Window::k5m);
}

void Numbers(core::JsonWriter& j, const std::vector<double>& values, double scale = 1.0) {
  j.BeginArray();
  for (double v : values) j.Double(v * scale);  // NaN -> null
  j.EndArray();
}

std::optional<std::chrono::sys_days> DayParam(const Query& q, std::string_view name) {
  std::optional<std::string_view> v = q.Get(name);
  if (!v) return std::nullopt;
  std::optional<int64_t> day = core::ParseDate(*v);
  if (!day) return std::nullopt;
  return std::chrono::sys_days(std::chrono::days(*day));
}

AnalyticsFilters FiltersOf(const Query& q) {
  AnalyticsFilters f;
  f.from = DayParam(q, "from");
  f.to = DayParam(q, "to");
  if (auto v = q.Get("category")) f.category = std::string(*v);
  if (auto v = q.Get("country")) f.country = std::string(*v);
  if (auto v = q.Get("age_group")) f.age_group = std::string(*v);
  return f;
}

bool InRange(const std::string& dt, const Query& q) {
  if (auto from = q.Get("from"); from && dt < *from) return false;
  if (auto to = q.Get("to"); to && dt > *to) return false;
  return true;
}

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return 404;
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded: return 503;
    default: return 500;
  }
}

// One stage tile of /api/overview.
struct Stage {
  std::string stage;
  bool up = false;
  std::optional<double> rate;
  std::string rate_unit = "records/s";
  std::optional<double> last_activity_s;
  bool stale = false;
  std::optional<std::string> stale_reason;
  std::optional<int64_t> restarts;
  std::string detail;
};

}  // namespace

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

PipelineView::PipelineView(PipelineViewOptions options, std::unique_ptr<MetricsSource> metrics,
                           std::unique_ptr<KafkaSource> kafka, std::unique_ptr<PgSource> pg,
                           std::unique_ptr<LakeSource> lake, Analytics* analytics)
    : options_(std::move(options)),
      store_(SeriesStoreOptions{options_.interval, options_.max_series}),
      metrics_(std::move(metrics)),
      kafka_(std::move(kafka)),
      pg_(std::move(pg)),
      lake_(std::move(lake)),
      analytics_(analytics) {}

std::vector<RefreshStep> PipelineView::Steps() {
  std::vector<RefreshStep> steps;
  // The first step opens the cycle's sample: every source records into it.
  steps.push_back({"metrics", [this] {
                     const double now = UnixNow();
                     store_.BeginSample(now);
                     if (metrics_) metrics_->Refresh(now, &store_);
                   }});
  if (kafka_) steps.push_back({"kafka", [this] { kafka_->Refresh(UnixNow(), &store_); }});
  if (pg_) {
    steps.push_back({"postgres", [this] {
                       // The speed layer's lag as the Kafka step just read it (a stale value
                       // from a failing Kafka source is not used: unknown never yields).
                       const double now = UnixNow();
                       double at = 0;
                       std::optional<double> lag =
                           store_.Latest("kafka.lag|" + options_.stream_group, &at);
                       const double fresh_for =
                           2.0 * static_cast<double>(options_.interval.count()) / 1000.0;
                       pg_->SetSpeedLag(lag && now - at <= fresh_for
                                            ? std::optional<int64_t>(static_cast<int64_t>(*lag))
                                            : std::nullopt);
                       pg_->Refresh(now);
                     }});
  }
  if (lake_) steps.push_back({"lake", [this] { lake_->Refresh(UnixNow()); }});
  return steps;
}

bool PipelineView::FromEngine(RouteId route) {
  return route == RouteId::kAnalytics || route == RouteId::kFilters;
}

Answer PipelineView::ComputeFromEngine(const Query& query, const std::string& generated_at) const {
  Answer answer;
  if (analytics_ == nullptr) {
    answer.status = 503;
    core::JsonWriter(&answer.body)
        .BeginObject()
        .Key("detail")
        .String("this dashboard runs without the analytics engine")
        .EndObject();
    return answer;
  }
  const std::string body = query.route == RouteId::kAnalytics
                               ? analytics_->AnalyticsJson(FiltersOf(query))
                               : analytics_->FiltersJson();
  answer.body = "{\"generated_at\":";
  core::AppendJsonString(generated_at, &answer.body);
  if (body.size() > 2) {
    answer.body += ',';
    answer.body.append(body, 1);  // the engine's object without its '{'
  } else {
    answer.body += '}';
  }
  return answer;
}

Answer PipelineView::Compute(const Query& query, const std::string& generated_at) {
  if (query.route == RouteId::kSchedulerLog) return SchedulerLog(query);
  if (FromEngine(query.route)) return ComputeFromEngine(query, generated_at);
  Answer answer;
  core::JsonWriter j(&answer.body);
  j.BeginObject().Key("generated_at").String(generated_at);
  Status s;
  switch (query.route) {
    case RouteId::kOverview: s = Overview(query, j); break;
    case RouteId::kThroughput: s = Throughput(query, j); break;
    case RouteId::kKafka: s = Kafka(query, j); break;
    case RouteId::kKafkaMessages: s = Messages(query, j); break;
    case RouteId::kFreshness: s = Freshness(query, j); break;
    case RouteId::kLambda: s = Lambda(query, j); break;
    case RouteId::kQuality: s = Quality(query, j); break;
    case RouteId::kScheduler: s = Scheduler(query, j); break;
    default: s = NotFound("no such API route");
  }
  if (!s.ok()) {
    Answer failed;
    failed.status = HttpStatusOf(s);
    core::JsonWriter(&failed.body).BeginObject().Key("detail").String(s.message()).EndObject();
    return failed;
  }
  j.EndObject();
  return answer;
}

Status PipelineView::Overview(const Query& q, core::JsonWriter& j) {
  const Window w = WindowOf(q);
  const double now = store_.now().value_or(UnixNow());
  const auto span = WindowSpan(w);
  auto since = [&](std::optional<double> t) -> std::optional<double> {
    if (!t) return std::nullopt;
    return std::max(0.0, now - *t);
  };
  auto scraped = [&](std::string_view target) {
    const TargetStatus* st = metrics_ ? metrics_->StatusOf(target) : nullptr;
    return st != nullptr && st->ok;
  };
  auto restarts = [&](std::string_view worker) -> std::optional<int64_t> {
    if (!metrics_ || !metrics_->configured("supervisor")) return std::nullopt;
    std::optional<double> v = store_.Latest(fmt::format("supervisor.restarts|{}", worker));
    if (!v) return std::nullopt;
    return static_cast<int64_t>(*v);
  };
  const double stale_s = static_cast<double>(options_.stale_after.count());
  std::vector<Stage> stages;

  // api
  Stage api;
  api.stage = "api";
  api.up = scraped("api");
  api.rate = store_.RecentRate("api.records|accepted", span);
  api.last_activity_s = since(store_.LastIncrease("api.records"));
  api.restarts = restarts("api");
  api.detail = metrics_ && metrics_->configured("api")
                   ? (api.up ? "scraped" : "scrape failed: " + metrics_->StatusOf("api")->error)
                   : "no --metrics-url api=";
  stages.push_back(api);

  // kafka
  Stage kafka;
  kafka.stage = "kafka";
  kafka.up = kafka_ && kafka_->ok();
  kafka.rate = store_.RecentRate("kafka.produced", span);
  kafka.rate_unit = "messages/s";
  kafka.last_activity_s = since(store_.LastIncrease("kafka.produced"));
  kafka.detail = !kafka_        ? "no --kafka-brokers"
                 : kafka_->ok() ? fmt::format("{} partitions", kafka_->partitions().size())
                                : "unreachable: " + kafka_->error();
  if (kafka_ && !kafka_->missing_topics().empty()) {
    kafka.stale = true;
    kafka.stale_reason =
        "missing topics: " + fmt::format("{}", fmt::join(kafka_->missing_topics(), ", "));
  }
  stages.push_back(kafka);

  // speed: rows/s; stale when its lag grows or it stores nothing while Kafka receives.
  Stage speed;
  speed.stage = "speed";
  speed.up = scraped("speed");
  speed.rate = store_.RecentRate("speed.rows", span);
  speed.rate_unit = "rows/s";
  speed.last_activity_s = since(store_.LastIncrease("speed.rows"));
  speed.restarts = restarts("stream");
  {
    std::optional<double> lag = store_.Latest("kafka.lag|" + options_.stream_group);
    const std::optional<double> produced_at = store_.LastIncrease("kafka.produced");
    const bool upstream_active = produced_at && now - *produced_at < stale_s;
    const bool idle = !speed.last_activity_s || *speed.last_activity_s > stale_s;
    if (upstream_active && idle) {
      speed.stale = true;
      speed.stale_reason = fmt::format("no rows stored for {:.0f} s while Kafka receives", stale_s);
    } else if (lag && *lag > 0) {
      const std::vector<double> lags =
          store_.Values("kafka.lag|" + options_.stream_group, Window::k5m);
      std::vector<double> known;
      for (double v : lags)
        if (!std::isnan(v)) known.push_back(v);
      if (known.size() >= 10 && std::is_sorted(known.end() - 10, known.end()) &&
          known.back() > known[known.size() - 10]) {
        speed.stale = true;
        speed.stale_reason = fmt::format("consumer lag growing: {:.0f} messages", *lag);
      }
    }
    speed.detail = lag ? fmt::format("lag {:.0f} messages", *lag) : "lag unknown";
  }
  stages.push_back(speed);

  // archiver
  Stage archiver;
  archiver.stage = "archiver";
  archiver.up = scraped("archiver");
  archiver.rate = store_.RecentRate("archiver.records", span);
  archiver.last_activity_s = since(store_.LastIncrease("archiver.records"));
  archiver.restarts = restarts("archive");
  {
    std::optional<double> lag = store_.Latest("kafka.lag|" + options_.archive_group);
    const std::optional<double> produced_at = store_.LastIncrease("kafka.produced");
    const bool upstream_active = produced_at && now - *produced_at < stale_s;
    if (upstream_active && (!archiver.last_activity_s || *archiver.last_activity_s > stale_s)) {
      archiver.stale = true;
      archiver.stale_reason =
          fmt::format("no records archived for {:.0f} s while Kafka receives", stale_s);
    }
    std::string sealed = "last sealed day unknown";
    if (lake_ && lake_->last_sealed_day()) {
      sealed = "last sealed day " + core::DateOfDay(*lake_->last_sealed_day());
    }
    archiver.detail = (lag ? fmt::format("lag {:.0f} messages; ", *lag) : std::string()) + sealed;
  }
  stages.push_back(archiver);

  // scheduler
  Stage scheduler;
  scheduler.stage = "scheduler";
  scheduler.up = scraped("scheduler");
  scheduler.rate = store_.RecentRate("scheduler.tries", span);
  scheduler.rate_unit = "tries/s";
  scheduler.last_activity_s = since(store_.LastIncrease("scheduler.tries"));
  scheduler.restarts = restarts("scheduler");
  if (pg_) {
    std::optional<double> last;
    int64_t failed = 0;
    for (const DagSummary& d : pg_->dags()) {
      if (d.last_activity && (!last || *d.last_activity > *last)) last = d.last_activity;
      failed += d.failed_runs_7d;
    }
    if (!scheduler.last_activity_s) scheduler.last_activity_s = since(last);
    scheduler.detail = fmt::format("{} DAGs, {} failed runs in 7 days", pg_->dags().size(), failed);
    if (!scheduler.up && (!metrics_ || !metrics_->configured("scheduler"))) {
      scheduler.up = pg_->scheduler_status().ok && !pg_->dags().empty();
    }
  }
  stages.push_back(scheduler);

  // batch: the batch layer's loads (PostgreSQL bookkeeping).
  Stage batch;
  batch.stage = "batch";
  batch.rate_unit = "days loaded";
  if (pg_) {
    const BoundaryInfo& b = pg_->boundary();
    batch.up = pg_->serving_status().ok;
    batch.rate = static_cast<double>(b.batch_days);
    batch.last_activity_s = since(b.last_loaded_at);
    batch.detail = b.boundary ? "boundary " + *b.boundary : "no batch day loaded yet";
    if (!pg_->serving_status().ok) batch.detail = pg_->serving_status().error;
  } else {
    batch.detail = "no --pg-dsn";
  }
  stages.push_back(batch);

  j.Key("stages").BeginArray();
  for (const Stage& s : stages) {
    j.BeginObject()
        .Key("stage")
        .String(s.stage)
        .Key("up")
        .Bool(s.up)
        .Key("rate")
        .OptionalDouble(Finite(s.rate))
        .Key("rate_unit")
        .String(s.rate_unit)
        .Key("last_activity_s")
        .OptionalDouble(s.last_activity_s)
        .Key("stale")
        .Bool(s.stale)
        .Key("stale_reason")
        .OptionalString(s.stale_reason)
        .Key("restarts")
        .OptionalInt(s.restarts)
        .Key("detail")
        .String(s.detail)
        .EndObject();
  }
  j.EndArray();

  j.Key("sources").BeginArray();
  auto source = [&](std::string_view name, bool ok, const std::string& error,
                    std::optional<double> last_ok) {
    j.BeginObject().Key("source").String(name).Key("ok").Bool(ok).Key("error");
    if (ok)
      j.Null();
    else
      j.String(error);
    j.Key("last_ok").OptionalString(IsoOrNull(last_ok)).EndObject();
  };
  if (metrics_) {
    for (const TargetStatus& t : metrics_->status()) {
      source("metrics:" + t.name, t.ok, t.error, t.last_ok);
    }
  }
  if (kafka_) source("kafka", kafka_->ok(), kafka_->error(), kafka_->last_ok());
  if (pg_) {
    source("postgres", pg_->connection_status().ok, pg_->connection_status().error,
           pg_->connection_status().last_ok);
    source("postgres:serving", pg_->serving_status().ok, pg_->serving_status().error,
           pg_->serving_status().last_ok);
    source("postgres:scheduler", pg_->scheduler_status().ok, pg_->scheduler_status().error,
           pg_->scheduler_status().last_ok);
    if (analytics_ != nullptr) {
      source("analytics", pg_->analytics_status().ok, pg_->analytics_status().error,
             pg_->analytics_status().last_ok);
    }
  }
  if (lake_) source("lake", lake_->ok(), lake_->error(), lake_->last_ok());
  j.EndArray();
  return Status::Ok();
}

Status PipelineView::Throughput(const Query& q, core::JsonWriter& j) {
  const Window w = WindowOf(q);
  const std::vector<double> t = store_.Times(w);
  j.Key("window").String(WindowName(w));
  j.Key("t").BeginArray();
  for (double x : t) j.Int(static_cast<int64_t>(std::llround(x)));
  j.EndArray();
  j.Key("series").BeginObject();
  j.Key("accepted");
  Numbers(j, store_.Rates("api.records|accepted", w));
  j.Key("rejected");
  Numbers(j, store_.Rates("api.records|rejected", w));
  j.Key("unavailable");
  Numbers(j, store_.Rates("api.records|failed", w));
  const HistogramSeries empty;
  const HistogramSeries& lat = metrics_ ? metrics_->api_latency() : empty;
  j.Key("latency_p50_ms");
  Numbers(j,
          lat.buckets.empty() ? std::vector<double>(t.size(), std::nan(""))
                              : store_.Quantiles(lat.buckets, lat.bounds, kQuantiles[0], w),
          1000.0);
  j.Key("latency_p99_ms");
  Numbers(j,
          lat.buckets.empty() ? std::vector<double>(t.size(), std::nan(""))
                              : store_.Quantiles(lat.buckets, lat.bounds, kQuantiles[1], w),
          1000.0);
  j.Key("rows_per_s");
  Numbers(j, store_.Rates("speed.rows", w));
  j.EndObject();
  return Status::Ok();
}

Status PipelineView::Kafka(const Query& q, core::JsonWriter& j) {
  const Window w = WindowOf(q);
  if (!kafka_) return Unavailable("this dashboard runs without --kafka-brokers");
  j.Key("ok").Bool(kafka_->ok());
  j.Key("error");
  if (kafka_->ok())
    j.Null();
  else
    j.String(kafka_->error());
  j.Key("topics").BeginArray();
  for (const kafka::PartitionWatermarks& p : kafka_->partitions()) {
    j.BeginObject()
        .Key("topic")
        .String(p.topic)
        .Key("partition")
        .Int(p.partition)
        .Key("low_watermark")
        .Int(p.low)
        .Key("high_watermark")
        .Int(p.high)
        .Key("rate")
        .OptionalDouble(Finite(store_.RecentRate(
            fmt::format("kafka.hw|{}|{}", p.topic, p.partition), WindowSpan(Window::k5m))))
        .EndObject();
  }
  j.EndArray();
  j.Key("consumers").BeginArray();
  for (const ConsumerLag& c : kafka_->consumers()) {
    j.BeginObject()
        .Key("group")
        .String(c.group)
        .Key("topic")
        .String(c.topic)
        .Key("partition")
        .Int(c.partition)
        .Key("committed")
        .OptionalInt(c.committed)
        .Key("lag")
        .Int(c.lag)
        .EndObject();
  }
  j.EndArray();
  const std::vector<double> t = store_.Times(w);
  j.Key("lag_series").BeginObject().Key("t").BeginArray();
  for (double x : t) j.Int(static_cast<int64_t>(std::llround(x)));
  j.EndArray().Key("series").BeginObject();
  for (const std::string& g : kafka_->groups()) {
    j.Key(g);
    Numbers(j, store_.Values("kafka.lag|" + g, w));
  }
  j.EndObject().EndObject();
  return Status::Ok();
}

Status PipelineView::Messages(const Query& q, core::JsonWriter& j) {
  if (!kafka_) return Unavailable("this dashboard runs without --kafka-brokers");
  const std::string topic(q.Get("topic").value_or(""));
  std::optional<int32_t> partition;
  if (auto p = q.Get("partition")) partition = static_cast<int32_t>(std::stol(std::string(*p)));
  const size_t limit = std::stoul(std::string(q.Get("limit").value_or("20")));
  ASSIGN_OR_RETURN(std::vector<kafka::PeekedMessage> messages,
                   kafka_->Peek(topic, partition, limit));
  j.Key("messages").BeginArray();
  for (const kafka::PeekedMessage& m : messages) {
    const core::ShownText value = core::ShowableText(m.value, options_.peek_value_bytes);
    j.BeginObject()
        .Key("topic")
        .String(m.topic)
        .Key("partition")
        .Int(m.partition)
        .Key("offset")
        .Int(m.offset)
        .Key("key");
    if (m.key)
      j.String(core::ShowableText(*m.key, options_.peek_value_bytes).text);
    else
      j.Null();
    j.Key("timestamp");
    if (m.timestamp_ms >= 0)
      j.String(core::IsoTime(m.timestamp_ms));
    else
      j.Null();
    j.Key("value")
        .String(value.text)
        .Key("value_bytes")
        .Int(static_cast<int64_t>(m.value_bytes))
        .Key("truncated")
        .Bool(value.truncated || m.value_bytes > m.value.size())
        .EndObject();
  }
  j.EndArray();
  return Status::Ok();
}

Status PipelineView::Freshness(const Query& q, core::JsonWriter& j) {
  const Window w = WindowOf(q);
  const HistogramSeries empty;
  const HistogramSeries& vis = metrics_ ? metrics_->visible() : empty;
  std::optional<double> p50, p99;
  std::vector<double> s50, s99;
  const std::vector<double> t = store_.Times(w);
  if (!vis.buckets.empty()) {
    p50 = store_.WindowQuantile(vis.buckets, vis.bounds, 0.5, w);
    p99 = store_.WindowQuantile(vis.buckets, vis.bounds, 0.99, w);
    s50 = store_.Quantiles(vis.buckets, vis.bounds, 0.5, w);
    s99 = store_.Quantiles(vis.buckets, vis.bounds, 0.99, w);
  } else {
    s50.assign(t.size(), std::nan(""));
    s99.assign(t.size(), std::nan(""));
  }
  auto ms = [](std::optional<double> s) -> std::optional<double> {
    if (!s) return std::nullopt;
    return *s * 1000.0;
  };
  j.Key("ack_to_visible_ms")
      .BeginObject()
      .Key("p50")
      .OptionalDouble(ms(p50))
      .Key("p99")
      .OptionalDouble(ms(p99))
      .EndObject();
  j.Key("series").BeginObject().Key("t").BeginArray();
  for (double x : t) j.Int(static_cast<int64_t>(std::llround(x)));
  j.EndArray().Key("p50");
  Numbers(j, s50, 1000.0);
  j.Key("p99");
  Numbers(j, s99, 1000.0);
  j.EndObject();

  j.Key("tables").BeginArray();
  if (pg_) {
    const auto& tables = pg_->options().tables;
    const auto& topics = pg_->options().topics;
    // Speed layer: rows (live-row estimate) and data as of (the latest offset commit of the
    // table's topic).
    for (size_t i = 0; i < tables.size(); ++i) {
      std::optional<double> as_of;
      for (const StreamOffset& o : pg_->stream_offsets()) {
        if (o.topic == topics[i] && (!as_of || o.updated_at > *as_of)) as_of = o.updated_at;
      }
      std::optional<int64_t> rows;
      if (auto it = pg_->live_rows().find(tables[i]); it != pg_->live_rows().end()) {
        rows = it->second;
      }
      j.BeginObject()
          .Key("table")
          .String(tables[i])
          .Key("layer")
          .String("speed")
          .Key("rows")
          .OptionalInt(rows)
          .Key("data_as_of")
          .OptionalString(IsoOrNull(as_of))
          .EndObject();
    }
    // Batch layer: rows summed over the loaded days, as of the last load.
    std::map<std::string, std::pair<int64_t, double>> batch;  // table -> rows, loaded_at
    for (const BatchDayKind& d : pg_->batch_days()) {
      auto& e = batch[d.table];
      e.first += d.rows;
      e.second = std::max(e.second, d.loaded_at);
    }
    for (const auto& [table, e] : batch) {
      j.BeginObject()
          .Key("table")
          .String(table)
          .Key("layer")
          .String("batch")
          .Key("rows")
          .Int(e.first)
          .Key("data_as_of")
          .OptionalString(IsoOrNull(e.second))
          .EndObject();
    }
  }
  j.EndArray();
  std::optional<std::string> sealed;
  if (lake_ && lake_->last_sealed_day()) sealed = core::DateOfDay(*lake_->last_sealed_day());
  j.Key("last_sealed_day").OptionalString(sealed);
  j.Key("last_loaded_day").OptionalString(pg_ ? pg_->boundary().boundary : std::nullopt);
  return Status::Ok();
}

Status PipelineView::Lambda(const Query& q, core::JsonWriter& j) {
  if (!pg_) return Unavailable("this dashboard runs without --pg-dsn");
  j.Key("boundary").OptionalString(pg_->boundary().boundary);
  j.Key("views_as_of").OptionalString(IsoOrNull(pg_->views_as_of()));
  j.Key("views_refresh_s")
      .Int(std::chrono::duration_cast<std::chrono::seconds>(pg_->options().slow_interval).count());
  j.Key("days").BeginArray();
  for (const LayerDay& d : pg_->layer_days()) {
    if (!InRange(d.dt, q)) continue;
    j.BeginObject()
        .Key("dt")
        .String(d.dt)
        .Key("kind")
        .String(d.kind)
        .Key("batch_rows")
        .Int(d.batch_rows)
        .Key("speed_rows")
        .Int(d.speed_rows)
        .Key("merged_batch")
        .Int(d.merged_batch)
        .Key("merged_speed")
        .Int(d.merged_speed)
        .EndObject();
  }
  j.EndArray();
  j.Key("reconciliation").BeginArray();
  for (const ReconciliationRow& r : pg_->reconciliation()) {
    if (!InRange(r.dt, q)) continue;
    j.BeginObject()
        .Key("dt")
        .String(r.dt)
        .Key("kind")
        .String(r.kind)
        .Key("batch_rows")
        .Int(r.batch_rows)
        .Key("speed_rows")
        .Int(r.speed_rows)
        .Key("difference")
        .Int(r.difference)
        .Key("only_batch")
        .Int(r.only_batch)
        .Key("only_speed")
        .Int(r.only_speed)
        .EndObject();
  }
  j.EndArray();
  // The live merged pin counts per day and layer (every refresh), from the engine.
  j.Key("pin_days");
  if (analytics_ != nullptr) {
    AnalyticsFilters f;
    f.from = DayParam(q, "from");
    f.to = DayParam(q, "to");
    j.Raw(analytics_->PinDaysJson(f));
  } else {
    j.Null();
  }
  return Status::Ok();
}

Status PipelineView::Quality(const Query& q, core::JsonWriter& j) {
  const Window w = WindowOf(q);
  j.Key("validation_failures").BeginArray();
  for (const std::string& name : store_.SeriesWithPrefix("api.validation|")) {
    // api.validation|<kind>|<field>|<type>
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t pos; (pos = name.find('|', start)) != std::string::npos; start = pos + 1) {
      parts.push_back(name.substr(start, pos - start));
    }
    parts.push_back(name.substr(start));
    if (parts.size() != 4) continue;
    const std::optional<double> inc = store_.Increase(name, w);
    if (!inc || *inc <= 0) continue;
    j.BeginObject()
        .Key("kind")
        .String(parts[1])
        .Key("field")
        .String(parts[2])
        .Key("type")
        .String(parts[3])
        .Key("count")
        .Int(static_cast<int64_t>(std::llround(*inc)))
        .EndObject();
  }
  j.EndArray();

  j.Key("dead_letters").BeginObject();
  j.Key("count").OptionalInt(pg_ ? pg_->dead_letter_count() : std::nullopt);
  j.Key("latest").BeginArray();
  if (pg_) {
    for (const DeadLetter& d : pg_->dead_letters()) {
      const core::ShownText raw = core::ShowableText(d.raw, options_.dead_letter_bytes);
      j.BeginObject()
          .Key("at")
          .OptionalString(IsoOrNull(d.at))
          .Key("stage")
          .String(core::ShowableText(d.stage, 256).text)
          .Key("topic")
          .String(core::ShowableText(d.topic, 256).text)
          .Key("partition")
          .Int(d.partition)
          .Key("offset")
          .Int(d.offset)
          .Key("reason")
          .String(core::ShowableText(d.reason, 1024).text)
          .Key("raw")
          .String(raw.text)
          .Key("raw_bytes")
          .Int(d.raw_bytes)
          .Key("truncated")
          .Bool(raw.truncated || d.raw_bytes > static_cast<int64_t>(d.raw.size()))
          .EndObject();
    }
  }
  j.EndArray().EndObject();

  j.Key("dropped").BeginArray();
  for (const std::string& name : store_.SeriesWithPrefix("speed.dropped|")) {
    const std::optional<double> inc = store_.Increase(name, w);
    j.BeginObject()
        .Key("layer")
        .String("speed")
        .Key("rule")
        .String(name.substr(std::string_view("speed.dropped|").size()))
        .Key("count")
        .Int(inc ? static_cast<int64_t>(std::llround(*inc)) : 0)
        .Key("window")
        .String(WindowName(w))
        .EndObject();
  }
  if (pg_) {
    std::map<std::string, int64_t> by_rule;
    for (const BatchDayKind& d : pg_->batch_days()) {
      for (const auto& [rule, n] : d.dropped_by_rule) by_rule[rule] += n;
    }
    for (const auto& [rule, n] : by_rule) {
      j.BeginObject()
          .Key("layer")
          .String("batch")
          .Key("rule")
          .String(rule)
          .Key("count")
          .Int(n)
          .Key("window")
          .String("loaded days")
          .EndObject();
    }
  }
  j.EndArray();

  j.Key("late_records").BeginArray();
  for (const std::string& name : store_.SeriesWithPrefix("archiver.late|")) {
    const std::optional<double> inc = store_.Increase(name, w);
    j.BeginObject()
        .Key("topic")
        .String(name.substr(std::string_view("archiver.late|").size()))
        .Key("count")
        .Int(inc ? static_cast<int64_t>(std::llround(*inc)) : 0)
        .EndObject();
  }
  j.EndArray();
  return Status::Ok();
}

Status PipelineView::Scheduler(const Query& q, core::JsonWriter& j) {
  if (!pg_) return Unavailable("this dashboard runs without --pg-dsn");
  const std::string from(q.Get("from").value_or("0001-01-01"));
  const std::string to(q.Get("to").value_or("9999-12-31"));
  ASSIGN_OR_RETURN(std::vector<RunRow> runs, pg_->Runs(from, to, options_.runs_shown));
  j.Key("dags").BeginArray();
  int64_t sla_misses = 0;
  for (const DagSummary& d : pg_->dags()) {
    sla_misses += d.sla_misses;
    j.BeginObject()
        .Key("dag_id")
        .String(d.dag_id)
        .Key("paused")
        .Bool(d.paused)
        .Key("latest_run_id")
        .OptionalString(d.latest_run_id)
        .Key("latest_run_state")
        .OptionalString(d.latest_run_state)
        .Key("last_activity")
        .OptionalString(IsoOrNull(d.last_activity))
        .Key("failed_runs_7d")
        .Int(d.failed_runs_7d)
        .EndObject();
  }
  j.EndArray();
  int64_t total = 0, done = 0, running = 0, failed = 0;
  j.Key("runs").BeginArray();
  for (const RunRow& r : runs) {
    if (r.kind == "backfill") {
      ++total;
      if (r.state == "success")
        ++done;
      else if (r.state == "running" || r.state == "queued")
        ++running;
      else if (r.state == "failed")
        ++failed;
    }
    j.BeginObject()
        .Key("dag_id")
        .String(r.dag_id)
        .Key("run_id")
        .String(r.run_id)
        .Key("kind")
        .String(r.kind)
        .Key("logical_date")
        .OptionalString(IsoOrNull(r.logical_date))
        .Key("state")
        .String(r.state)
        .Key("started_at")
        .OptionalString(IsoOrNull(r.started_at))
        .Key("ended_at")
        .OptionalString(IsoOrNull(r.ended_at))
        .Key("sla_missed")
        .Bool(r.sla_missed)
        .Key("tasks")
        .BeginArray();
    for (const TaskRow& t : r.tasks) {
      std::optional<double> duration;
      if (t.started_at && t.ended_at) duration = *t.ended_at - *t.started_at;
      j.BeginObject()
          .Key("task_id")
          .String(t.task_id)
          .Key("state")
          .String(t.state)
          .Key("tries")
          .Int(t.tries)
          .Key("started_at")
          .OptionalString(IsoOrNull(t.started_at))
          .Key("ended_at")
          .OptionalString(IsoOrNull(t.ended_at))
          .Key("duration_s")
          .OptionalDouble(duration)
          .EndObject();
    }
    j.EndArray().EndObject();
  }
  j.EndArray();
  j.Key("backfill")
      .BeginObject()
      .Key("total")
      .Int(total)
      .Key("done")
      .Int(done)
      .Key("running")
      .Int(running)
      .Key("failed")
      .Int(failed)
      .EndObject();
  j.Key("sla_misses").Int(sla_misses);
  return Status::Ok();
}

Answer PipelineView::SchedulerLog(const Query& q) {
  Answer a;
  auto fail = [&a](int status, std::string_view detail) {
    a.status = status;
    a.content_type = "application/json; charset=utf-8";
    core::JsonWriter(&a.body).BeginObject().Key("detail").String(detail).EndObject();
    return a;
  };
  if (!pg_) return fail(503, "this dashboard runs without --pg-dsn");
  std::optional<int> try_number;
  if (auto t = q.Get("try")) try_number = std::stoi(std::string(*t));
  StatusOr<PgSource::TaskLog> log =
      pg_->Log(std::string(q.Get("dag_id").value_or("")), std::string(q.Get("run_id").value_or("")),
               std::string(q.Get("task_id").value_or("")), try_number, options_.log_bytes);
  if (!log.ok()) return fail(HttpStatusOf(log.status()), log.status().message());
  a.content_type = "text/plain; charset=utf-8";
  a.body = core::ShowableText(log->text, options_.log_bytes).text;
  return a;
}

}  // namespace pinpipe::dashboard

#include "dashboard/metrics_source.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace pinpipe::dashboard {
namespace {

// The API routes whose latency the dashboard shows: one record per request. (Batches of
// thousands of records are a different distribution and would hide the records' latency.)
constexpr std::string_view kRecordRoutes[] = {"/pin/", "/geo/", "/user/"};

std::string Join(std::string_view a, std::string_view b) {
  std::string out(a);
  out += '|';
  out += b;
  return out;
}

// Sums of samples by a key, recorded at the end.
class Sums {
 public:
  void Add(const std::string& series, double v) { sums_[series] += v; }
  void Min(const std::string& series, double v) {
    auto [it, fresh] = sums_.emplace(series, v);
    if (!fresh) it->second = std::min(it->second, v);
  }
  Status Record(SeriesStore* store, SeriesKind kind, bool born_at_zero) const {
    Status first;
    for (const auto& [series, v] : sums_) {
      Status s = store->Set(series, kind, v, born_at_zero && kind == SeriesKind::kCounter);
      if (!s.ok() && first.ok()) first = s;
    }
    return first;
  }

 private:
  std::map<std::string, double> sums_;
};

// A histogram's buckets summed over the samples that pass `keep`, by their `le`.
class BucketSums {
 public:
  void Add(const PromSample& s) {
    std::optional<std::string_view> le = s.Label("le");
    if (!le) return;
    double bound = 0;
    if (*le == "+Inf") {
      bound = INFINITY;
    } else {
      char* end = nullptr;
      const std::string text(*le);
      bound = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end != '\0' || !std::isfinite(bound)) return;
    }
    by_bound_[bound] += s.value;
  }
  // Records the buckets as `<prefix>|<bound>` counters and describes them in *shape.
  Status Record(std::string_view prefix, SeriesStore* store, HistogramSeries* shape) const {
    if (by_bound_.empty() || !std::isinf(by_bound_.rbegin()->first)) return Status::Ok();
    HistogramSeries fresh;
    for (const auto& [bound, count] : by_bound_) {
      const std::string name =
          std::isinf(bound) ? Join(prefix, "+Inf") : Join(prefix, fmt::format("{}", bound));
      RETURN_IF_ERROR(store->Set(name, SeriesKind::kCounter, count));
      if (!std::isinf(bound)) fresh.bounds.push_back(bound);
      fresh.buckets.push_back(name);
    }
    *shape = std::move(fresh);
    return Status::Ok();
  }

 private:
  std::map<double, double> by_bound_;
};

std::string_view LabelOr(const PromSample& s, std::string_view label) {
  return s.Label(label).value_or("");
}

}  // namespace

StatusOr<std::unique_ptr<MetricsSource>> MetricsSource::Create(std::vector<MetricsTarget> targets,
                                                               std::chrono::milliseconds timeout) {
  std::unique_ptr<MetricsSource> source(new MetricsSource());
  for (MetricsTarget& t : targets) {
    const auto known = std::find(std::begin(kMetricsTargets), std::end(kMetricsTargets), t.name);
    if (known == std::end(kMetricsTargets)) {
      return InvalidArgument(fmt::format(
          "metrics target '{}': the names are api, speed, archiver, scheduler, supervisor",
          t.name));
    }
    if (source->StatusOf(t.name) != nullptr) {
      return InvalidArgument(fmt::format("metrics target '{}' given twice", t.name));
    }
    ASSIGN_OR_RETURN(http::HttpUrl url, http::ParseHttpUrl(t.url));
    http::ClientOptions options;
    options.host = url.host;
    options.port = url.port;
    options.connect_timeout = timeout;
    options.request_timeout = timeout;
    options.max_body_bytes = source->limits_.max_bytes;
    Target target{t, url.base_path.empty() ? "/" : url.base_path,
                  std::make_unique<http::Client>(options)};
    TargetStatus status;
    status.name = t.name;
    status.url = t.url;
    source->status_.push_back(std::move(status));
    source->targets_.push_back(std::move(target));
  }
  return source;
}

const TargetStatus* MetricsSource::StatusOf(std::string_view target) const {
  for (const TargetStatus& s : status_) {
    if (s.name == target) return &s;
  }
  return nullptr;
}

void MetricsSource::Refresh(double now, SeriesStore* store) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& target = targets_[i];
    TargetStatus& status = status_[i];
    StatusOr<http::ClientResponse> response = target.client->Get(target.path);
    Status result;
    if (!response.ok()) {
      result = response.status();
      target.client->Close();
    } else if (response->status != 200) {
      result = Unavailable(fmt::format("HTTP {}", response->status));
    } else {
      result = Record(target.spec.name, response->body, store);
    }
    const bool ok = result.ok() || result.code() == StatusCode::kResourceExhausted;
    status.ok = ok;
    status.error = result.ok() ? "" : result.ToString();
    if (ok) status.last_ok = now;
    store->Set("scrape." + target.spec.name, SeriesKind::kGauge, ok ? 1 : 0).IgnoreError();
  }
}

Status MetricsSource::Record(const std::string& target, std::string_view text, SeriesStore* store) {
  ASSIGN_OR_RETURN(std::vector<PromSample> samples, ParsePromText(text, limits_));
  TargetStatus* status = const_cast<TargetStatus*>(StatusOf(target));
  if (status != nullptr) status->samples = samples.size();
  Sums counters, gauges;
  BucketSums latency, visible;
  for (const PromSample& s : samples) {
    if (!std::isfinite(s.value)) continue;  // NaN/Inf counts are not counts
    const std::string_view name = s.name;
    if (target == "api") {
      if (name == "pinpipe_ingest_records_total") {
        counters.Add("api.records", s.value);
        counters.Add(Join("api.records", LabelOr(s, "outcome")), s.value);
      } else if (name == "pinpipe_validation_failures_total") {
        counters.Add(fmt::format("api.validation|{}|{}|{}", LabelOr(s, "kind"), LabelOr(s, "field"),
                                 LabelOr(s, "type")),
                     s.value);
      } else if (name == "pinpipe_http_request_duration_seconds_bucket") {
        const std::string_view route = LabelOr(s, "route");
        if (std::find(std::begin(kRecordRoutes), std::end(kRecordRoutes), route) !=
            std::end(kRecordRoutes)) {
          latency.Add(s);
        }
      }
    } else if (target == "speed") {
      if (name == "pinpipe_stream_rows_total") {
        counters.Add("speed.rows", s.value);
        counters.Add(Join("speed.rows", LabelOr(s, "table")), s.value);
      } else if (name == "pinpipe_stream_records_total") {
        counters.Add("speed.records", s.value);
        counters.Add(Join("speed.records", LabelOr(s, "outcome")), s.value);
      } else if (name == "pinpipe_stream_visible_seconds_bucket") {
        visible.Add(s);
      } else if (name == "pinpipe_stream_lag") {
        gauges.Add("speed.lag", s.value);
      } else if (name == "pinpipe_stream_quality_total" && LabelOr(s, "effect") == "dropped") {
        counters.Add(Join("speed.dropped", LabelOr(s, "rule")), s.value);
      }
    } else if (target == "archiver") {
      if (name == "pinpipe_archive_records_total") {
        counters.Add("archiver.records", s.value);
      } else if (name == "pinpipe_archive_lag") {
        gauges.Add("archiver.lag", s.value);
      } else if (name == "pinpipe_archive_late_records_total") {
        counters.Add(Join("archiver.late", LabelOr(s, "topic")), s.value);
      } else if (name == "pinpipe_archive_seals_total") {
        counters.Add("archiver.seals", s.value);
      } else if (name == "pinpipe_archive_watermark_seconds") {
        gauges.Min("archiver.watermark", s.value);
      }
    } else if (target == "scheduler") {
      if (name == "pinpipe_scheduler_tries_total") {
        counters.Add("scheduler.tries", s.value);
      } else if (name == "pinpipe_scheduler_runs_finished_total") {
        counters.Add("scheduler.runs", s.value);
      } else if (name == "pinpipe_scheduler_sla_misses_total") {
        counters.Add("scheduler.sla_misses", s.value);
      }
    } else if (target == "supervisor") {
      if (name == "pinpipe_supervisor_restarts_total") {
        counters.Add(Join("supervisor.restarts", LabelOr(s, "worker")), s.value);
      } else if (name == "pinpipe_supervisor_worker_up") {
        gauges.Add(Join("supervisor.up", LabelOr(s, "worker")), s.value);
      }
    }
  }
  // A series over the store's bound is dropped (ResourceExhausted, reported); the rest stays.
  // Counters a process creates at their first increment (new label values) count from 0,
  // except at the first scrape of the target, where every counter is new to us.
  const bool seen_before = status != nullptr && status->last_ok.has_value();
  Status result = counters.Record(store, SeriesKind::kCounter, seen_before);
  Status g = gauges.Record(store, SeriesKind::kGauge, false);
  if (result.ok()) result = g;
  if (target == "api") {
    Status h = latency.Record("api.latency", store, &api_latency_);
    if (result.ok()) result = h;
  } else if (target == "speed") {
    Status h = visible.Record("speed.visible", store, &visible_);
    if (result.ok()) result = h;
  }
  return result;
}

}  // namespace pinpipe::dashboard

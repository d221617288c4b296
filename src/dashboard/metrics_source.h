// MetricsSource: scrapes the pipeline processes' /metrics pages (one per named target: api,
// speed, archiver, scheduler, supervisor) once per refresh, with a short timeout each, parses
// them (prom_text.h) and records what the dashboard shows into the SeriesStore:
//
//   target      metric                                             series
//   api         pinpipe_ingest_records_total{kind,outcome}         api.records|<outcome> (summed
//   over kinds)
//               pinpipe_validation_failures_total{kind,field,type}
//               api.validation|<kind>|<field>|<type> pinpipe_http_request_duration_seconds{route}
//               histogram api.latency (the record routes /pin/ /geo/ /user/ summed)
//   speed       pinpipe_stream_rows_total{table}                   speed.rows, speed.rows|<table>
//               pinpipe_stream_records_total{outcome}              speed.records,
//               speed.records|<outcome> pinpipe_stream_visible_seconds histogram speed.visible
//               (Kafka CreateTime to row visible) pinpipe_stream_lag{topic,partition} speed.lag
//               (gauge, summed) pinpipe_stream_quality_total{rule,effect=dropped}
//               speed.dropped|<rule>
//   archiver    pinpipe_archive_records_total{topic}               archiver.records
//               pinpipe_archive_lag{topic,partition}               archiver.lag (gauge, summed)
//               pinpipe_archive_late_records_total{topic}          archiver.late|<topic>
//               pinpipe_archive_seals_total                        archiver.seals
//               pinpipe_archive_watermark_seconds{topic}           archiver.watermark (gauge: the
//               lowest)
//   scheduler   pinpipe_scheduler_tries_total                      scheduler.tries
//               pinpipe_scheduler_runs_finished_total              scheduler.runs
//               pinpipe_scheduler_sla_misses_total                 scheduler.sla_misses
//   supervisor  pinpipe_supervisor_restarts_total{worker}          supervisor.restarts|<worker>
//               pinpipe_supervisor_worker_up{worker}               supervisor.up|<worker> (gauge)
// and for every target scrape.<target> (gauge: 1 when the scrape succeeded). Counters keep the
// processes' own values (since their start); the store's readers turn them into rates and
// window increases, a process restart showing as a counter reset.
//
// Thread-safety: the refresher thread only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dashboard/prom_text.h"
#include "dashboard/time_series.h"
#include "http/client.h"

namespace pinpipe::dashboard {

inline constexpr const char* kMetricsTargets[] = {"api", "speed", "archiver", "scheduler",
                                                  "supervisor"};

struct MetricsTarget {
  std::string name;  // one of kMetricsTargets
  std::string url;   // http://host:port/metrics
};

// A histogram kept as one counter series per bucket.
struct HistogramSeries {
  std::vector<double> bounds;        // finite upper bounds, increasing
  std::vector<std::string> buckets;  // series names, bounds order, +Inf last
};

struct TargetStatus {
  std::string name;
  std::string url;
  bool ok = false;
  std::string error;              // of the last scrape, when not ok
  std::optional<double> last_ok;  // Unix seconds
  size_t samples = 0;             // in the last good scrape
};

class MetricsSource {
 public:
  // Errors: InvalidArgument for a target name not in kMetricsTargets or a URL that is not
  // http://host:port/path.
  static StatusOr<std::unique_ptr<MetricsSource>> Create(std::vector<MetricsTarget> targets,
                                                         std::chrono::milliseconds timeout);

  // Scrapes every target and records sample time `now` (Unix seconds) into `store`.
  void Refresh(double now, SeriesStore* store);
  // Records one target's text as scraped at the store's current sample (also for tests).
  Status Record(const std::string& target, std::string_view text, SeriesStore* store);

  const std::vector<TargetStatus>& status() const { return status_; }
  const TargetStatus* StatusOf(std::string_view target) const;
  // The bucket series of the API latency and the speed layer's visibility histograms (empty
  // until a scrape showed them).
  const HistogramSeries& api_latency() const { return api_latency_; }
  const HistogramSeries& visible() const { return visible_; }
  bool configured(std::string_view target) const { return StatusOf(target) != nullptr; }

 private:
  struct Target {
    MetricsTarget spec;
    std::string path;
    std::unique_ptr<http::Client> client;
  };
  MetricsSource() = default;

  std::vector<Target> targets_;
  std::vector<TargetStatus> status_;
  HistogramSeries api_latency_;
  HistogramSeries visible_;
  PromLimits limits_;
};

}  // namespace pinpipe::dashboard

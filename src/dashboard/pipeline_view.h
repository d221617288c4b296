// PipelineView: the dashboard's sources and the answers computed from them. It owns the time
// series (SeriesStore) and the sources (MetricsSource, KafkaSource, PgSource, LakeSource; each
// optional: a source that is not configured shows as such in the answers) and borrows the
// analytics engine (Analytics, optional: without it /api/analytics and /api/filters answer 503
// and /api/lambda takes its pin counts from serving.layer_days alone).
//
// Steps() are the refresh steps of the Refresher (one sample of the SeriesStore per cycle:
// metrics, kafka, postgres (and the engine), lake); Compute() renders one validated query's
// JSON body per /work/notes/dashboard_api.md (docs/design.md, "Dashboard") from the state the
// steps left. The peek (/api/kafka/messages), the scheduler's runs and a task's log are read on
// demand by Compute, once per refresh interval however many clients ask (the answer cache).
//
// Thread-safety: the refresher thread only (steps and Compute run there), except
// ComputeFromEngine, which reads only the analytics engine and may run on any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/json_writer.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "dashboard/analytics.h"
#include "dashboard/answer_cache.h"
#include "dashboard/kafka_source.h"
#include "dashboard/lake_source.h"
#include "dashboard/metrics_source.h"
#include "dashboard/pg_source.h"
#include "dashboard/refresher.h"
#include "dashboard/routes.h"
#include "dashboard/time_series.h"

namespace pinpipe::dashboard {

struct PipelineViewOptions {
  std::chrono::milliseconds interval{2000};
  std::array<std::string, 3> topics = core::DefaultTopics();
  std::string stream_group = "pinpipe-stream";     // the speed layer's lag (its stage tile)
  std::string archive_group = "pinpipe-archiver";  // the archiver's
  // A stage with no activity for this long while its upstream is active is stale.
  std::chrono::seconds stale_after{60};
  size_t max_series = 1024;
  size_t peek_value_bytes = 4096;   // of each message value shown
  size_t dead_letter_bytes = 2048;  // of each dead letter's raw record shown
  size_t log_bytes = 1 << 20;       // of a task's log shown (its end)
  size_t runs_shown = 200;          // scheduler runs in one answer
};

class PipelineView {
 public:
  // Every source may be null (not configured).
  PipelineView(PipelineViewOptions options, std::unique_ptr<MetricsSource> metrics,
               std::unique_ptr<KafkaSource> kafka, std::unique_ptr<PgSource> pg,
               std::unique_ptr<LakeSource> lake, Analytics* analytics);

  std::vector<RefreshStep> Steps();
  Answer Compute(const Query& query, const std::string& generated_at);
  // The routes answered from the analytics engine alone (/api/analytics, /api/filters), and
  // their answer; any thread.
  static bool FromEngine(RouteId route);
  Answer ComputeFromEngine(const Query& query, const std::string& generated_at) const;

  const SeriesStore& store() const { return store_; }
  const PgSource* pg() const { return pg_.get(); }

 private:
  // Each writes its route's fields into the open object of `j` (after "generated_at"); a
  // non-OK status is the answer instead (its code picks the HTTP status).
  Status Overview(const Query& q, core::JsonWriter& j);
  Status Throughput(const Query& q, core::JsonWriter& j);
  Status Kafka(const Query& q, core::JsonWriter& j);
  Status Messages(const Query& q, core::JsonWriter& j);
  Status Freshness(const Query& q, core::JsonWriter& j);
  Status Lambda(const Query& q, core::JsonWriter& j);
  Status Quality(const Query& q, core::JsonWriter& j);
  Status Scheduler(const Query& q, core::JsonWriter& j);
  Answer SchedulerLog(const Query& q);

  const PipelineViewOptions options_;
  SeriesStore store_;
  std::unique_ptr<MetricsSource> metrics_;
  std::unique_ptr<KafkaSource> kafka_;
  std::unique_ptr<PgSource> pg_;
  std::unique_ptr<LakeSource> lake_;
  Analytics* analytics_;
};

// Unix seconds now.
double UnixNow();

}  // namespace pinpipe::dashboard

// Archiver: the batch layer's first half: Kafka record topics -> the lake, exactly once.
//
// One consumer group (default pinpipe-archiver) over the pin, geo and user topics. Each held
// partition has an open segment (SegmentBuilder) that collects its records from a known offset;
// the segment is cut by RotationPolicy (records, bytes, idle, age, event hours) and handed to the
// ArchiveWriter thread, which writes intent -> objects -> done into the lake (SegmentWriter).
// Offsets live in the lake only: on assignment a partition resumes where its manifests say
// (partition_recovery.h), redoing an intent without done marker byte for byte first. Kafka
// commits follow each done marker for lag tools only and are never read.
//
// Days (hourly layout): SealPlanner tracks the per-topic event-time watermark and the open days;
// due days are sealed by the writer thread (DayLedger) with <topic>/dt=YYYY-MM-DD/_SUCCESS.
//
// Rebalance: on revocation the open segments of the revoked partitions are cut and written
// before the partitions are let go (a lost assignment abandons them instead, as does a redo that
// is not complete: the next owner redoes it). Stop: the same for every partition, within
// stop_timeout (after that the writer gives up; whatever it had not finished is redone by the
// next start). Fatal errors (DataLoss: the lake and Kafka disagree; non-retriable store errors)
// end Run() with that status: the archiver stops loudly rather than write something wrong.
//
// Threading: Run() owns the consumer and uses it on its (calling) thread; rebalance callbacks
// run inside Poll() on that thread. The ArchiveWriter has its own thread. The registry's metrics
// (the lag and watermark gauges included) may be read from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "archive/archive_log.h"
#include "archive/archive_writer.h"
#include "archive/frame_pool.h"
#include "archive/rotation_policy.h"
#include "archive/seal_planner.h"
#include "archive/segment_builder.h"
#include "core/event_time.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "core/record_fields.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "kafka/consumer.h"
#include "kafka/consumer_state_log.h"
#include "kafka/lag_gauge.h"
#include "lake/object_store.h"

namespace pinpipe::archive {

struct ArchiverOptions {
  std::string brokers = "127.0.0.1:19092";
  std::array<std::string, 3> topics = core::DefaultTopics();
  std::string group = "pinpipe-archiver";
  std::string client_id = "pinpipe-archive";
  Layout layout = Layout::kHourly;
  RotationLimits rotation;
  // Level 1: on a 2-core machine compression is most of the archiver's CPU; level 3 compresses
  // JSON records about 25% smaller at about 60% of the speed (bench/archive_bench.sh).
  int zstd_level = 1;
  // The objects' codec (archive_codec.h): zstd, the default and fastest for pinpipe, or gzip
  // (*.jsonl.gz, for readers without zstd) at gzip_level.
  ArchiveCodec codec = ArchiveCodec::kZstd;
  int gzip_level = 6;
  int level() const { return codec == ArchiveCodec::kGzip ? gzip_level : zstd_level; }
  int64_t frame_bytes = 1 << 20;
  int compress_threads = 1;  // frames are compressed off the consuming thread (0: inline)
  core::EventTimePolicy event_time;
  bool seal = true;
  std::chrono::milliseconds lateness{3600 * 1000};
  std::chrono::milliseconds watermark_idle{60 * 1000};
  size_t manifest_keep = 10000;    // done segments whose manifests are kept per partition
  size_t max_queued_segments = 3;  // cut segments waiting for the writer (memory: compressed)
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds stop_timeout{30 * 1000};
  bool commit_to_kafka = true;                     // for lag tools only; never read back
  std::map<std::string, std::string> kafka_extra;  // more consumer properties
};

class Archiver {
 public:
  // `store` and `registry` must outlive the archiver; `store` also the registry's last Render()
  // (pinpipe_archive_store_requests_total reads it).
  Archiver(ArchiverOptions options, lake::ObjectStore* store, core::Registry* registry);
  ~Archiver();
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;

  // Runs until stop is requested on `stop`, then writes the open segments and leaves the group; OK
  // after a clean stop. Errors (fatal): InvalidArgument for bad options; DataLoss when the lake and
  // Kafka disagree (an existing object differs, a redo cannot be rebuilt); non-retriable store
  // errors (permissions, bad keys).
  Status Run(std::stop_token stop);

  // Totals since start (durable records and segments), for tests and the shutdown line.
  int64_t archived_records() const { return archived_records_.load(); }
  int64_t archived_segments() const { return archived_segments_.load(); }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Part;

  Status Validate() const;
  std::vector<kafka::TopicPartitionOffset> OnRebalance(
      kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions,
      bool lost);
  // Reads a partition's state from the lake (retrying while the store is unavailable) into
  // `part`. False when stopped or a fatal error was recorded.
  bool Recover(Part* part);
  void LoadTopicDays(const std::string& topic);
  std::vector<kafka::TopicPartitionOffset> SeekPositions() const;
  void HandleMessage(const kafka::Message& m, TimePoint now);
  void StartSegment(Part* part, int64_t offset, TimePoint now);
  void Cut(Part* part, std::string_view reason);
  void Abandon(Part* part);
  void CheckDeadlines(TimePoint now);
  void ProcessEvents();
  void DrainWriter();
  // True once a stop was requested more than stop_timeout ago: the writer is then given up on.
  bool GiveUp();
  void ResetPartition(const kafka::TopicPartition& key);
  void SealTick(TimePoint now);
  // Partition count (from the cluster) and open days (from the lake) of a topic, for sealing.
  void LoadTopicInfo(const std::string& topic, TimePoint now);
  void UpdateGauges();
  void SetFatal(Status s);
  FramePool* PoolFor(ArchiveCodec codec, int level);
  std::unique_ptr<SegmentBuilder> NewBuilder(const Part& part, const SegmentSettings* settings);
  Part* Find(const std::string& topic, int32_t partition);

  ArchiverOptions options_;
  lake::ObjectStore* store_;
  std::map<std::string, core::RecordKind> kind_of_topic_;
  RotationPolicy rotation_;

  // Run() thread only.
  std::stop_token stop_;
  Status fatal_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<ArchiveWriter> writer_;
  SealPlanner planner_;
  core::EventTimeExtractor extractor_;
  core::RecordFieldReader ids_;
  // By codec and level; outlive the builders.
  std::map<std::pair<ArchiveCodec, int>, std::unique_ptr<FramePool>> pools_;
  std::map<kafka::TopicPartition, std::unique_ptr<Part>> parts_;
  Part* last_part_ = nullptr;  // cache: consecutive messages usually share a partition
  TimePoint next_deadline_check_{};
  TimePoint next_seal_tick_{};
  TimePoint next_gauge_update_{};
  kafka::ConsumerStateLog kafka_log_{[](const std::string& line) { ArchiveLog(line); }, "the lake"};
  std::vector<kafka::TopicPartition> to_reset_;
  std::optional<TimePoint> stop_seen_;
  bool gave_up_ = false;
  std::set<std::string> topic_info_loaded_;
  std::map<std::string, TimePoint> topic_info_retry_;

  // Metrics (cells cached; the registry outlives the archiver).
  core::Registry* registry_;
  core::CounterFamily* records_;
  core::CounterFamily* objects_;
  core::CounterFamily* bytes_;
  core::CounterFamily* segments_cut_;
  core::CounterFamily* segments_written_;
  core::CounterFamily* late_;
  core::CounterFamily* seals_;
  core::CounterFamily* event_time_;
  core::Counter* stale_;
  core::Counter* newline_records_;
  core::Counter* kafka_errors_;
  core::Counter* lost_to_retention_;
  core::Counter* store_retries_;
  int64_t retries_seen_ = 0;
  core::Histogram* write_seconds_;
  std::atomic<int64_t> archived_records_{0};
  std::atomic<int64_t> archived_segments_{0};

  // Gauges, set on the Run() thread (UpdateGauges, revocation), rendered by the registry:
  // pinpipe_archive_lag{topic,partition} (high watermark - next offset to archive) and
  // pinpipe_archive_watermark_seconds{topic}.
  kafka::LagGauge lag_;
  core::GaugeFamily* watermarks_;
};

}  // namespace pinpipe::archive

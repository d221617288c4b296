// StreamWorker: the speed layer's main loop: Kafka consumer group -> micro-batches -> transform
// -> PostgreSQL, exactly once.
//
// Exactly once rests on PostgreSQL alone: each micro-batch's rows and the next offsets of the
// partitions it consumed commit in one transaction (PgSink::Write, offsets by compare-and-set),
// and the consumer always starts where PostgreSQL says: on group assignment, after a CAS miss
// (another worker took the partition) and after a lost PostgreSQL connection, the worker reads
// pinpipe_stream_offsets and assigns at exactly those offsets (absent: the beginning). Offsets
// are committed to Kafka after each batch only so that lag tools see them; they are never read.
//
// Failures: PostgreSQL down or lost mid-batch -> the batch is abandoned (its transaction never
// committed), reconnect with exponential back-off capped at 5 s, re-seek, go on. Kafka down ->
// keep polling (librdkafka reconnects), logging once per state change. Stop -> the batch in
// progress is committed, the consumer leaves the group, Run() returns OK.
//
// Threading: Run() owns the consumer and the PostgreSQL connection and uses them on its own
// (calling) thread; rebalance callbacks run on it too, inside Poll(). The one exception: while a
// batch is in flight (see inflight_), a writer thread has the PgSink to itself; Drain() waits
// for it before the Run() thread touches the sink again (re-seek, assignment, revoke, stop).
// RenderLag() and the registry's metrics may be read from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "kafka/consumer.h"
#include "stream/backoff.h"
#include "stream/batch_builder.h"
#include "stream/batch_cutter.h"
#include "stream/offset_book.h"
#include "stream/pg_sink.h"
#include "transform/transform.h"

namespace pinpipe::stream {

struct StreamOptions {
  std::string brokers = "127.0.0.1:19092";
  std::array<std::string, kKinds> topics = {"pinterest", "pinterest_geo", "pinterest_user"};
  std::string pg_dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest_streaming";
  std::string group = "pinpipe-stream";
  std::string client_id = "pinpipe-stream";
  BatchLimits limits;
  DedupMode dedup_mode = DedupMode::kDirectFirst;
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  bool commit_to_kafka = true;                    // for lag tools only; never read back
  std::map<std::string, std::string> kafka_extra;  // more consumer properties
};

class StreamWorker {
 public:
  StreamWorker(StreamOptions options, std::shared_ptr<const transform::Transform> transform,
               core::Registry* registry);
  ~StreamWorker();
  StreamWorker(const StreamWorker&) = delete;
  StreamWorker& operator=(const StreamWorker&) = delete;

  // Runs until `stop` is true, then commits the batch in progress and leaves the group.
  // Returns OK after a clean stop. Errors (fatal only, nothing is retried): InvalidArgument for
  // a bad consumer configuration; the schema error when the tables cannot be created for a
  // non-retriable reason (e.g. a table exists with incompatible columns).
  Status Run(const std::atomic<bool>& stop);

  // pinpipe_stream_lag{topic,partition} (high watermark - next offset in PostgreSQL) in the
  // Prometheus text format. Any thread.
  std::string RenderLag() const;

  // Totals since start, for tests and the shutdown line. Any thread.
  int64_t committed_rows() const { return committed_rows_.load(); }
  int64_t committed_batches() const { return committed_batches_.load(); }

 private:
  enum class Connect : uint8_t { kOk, kStopped, kFatal };

  Connect ConnectPg(const std::atomic<bool>& stop, Status* fatal);
  bool Reseek();  // re-reads offsets for the owned partitions and assigns at them
  void HandleMessage(const kafka::Message& m, std::chrono::steady_clock::time_point now);
  // Cuts the batch in progress and hands it to the writer (after the previous one finished).
  void Flush();
  // Waits for the batch being written (if any) and applies its result. After it returns no
  // write is in flight and sink_ may be used on the Run() thread again.
  void Drain();
  bool WriteInFlight() const { return inflight_.valid(); }
  bool WriteDone() const {
    return inflight_.valid() &&
           inflight_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  void UpdateLag();
  void SleepFor(std::chrono::milliseconds d, const std::atomic<bool>& stop);
  std::vector<kafka::TopicPartitionOffset> OnRebalance(
      kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions,
      bool lost);

  StreamOptions options_;
  std::shared_ptr<const transform::Transform> transform_;
  std::map<std::string, core::RecordKind> kind_of_topic_;

  // Used on the Run() thread only.
  const std::atomic<bool>* stop_ = nullptr;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<PgSink> sink_;
  bool schema_ready_ = false;
  Backoff backoff_;
  BatchBuilder builder_;
  BatchCutter cutter_;
  OffsetBook book_;
  std::vector<int64_t> batch_timestamps_;  // Kafka CreateTime of the batch's records
  bool kafka_down_ = false;
  bool pg_down_logged_ = false;
  std::chrono::steady_clock::time_point last_lag_update_{};

  // Pipelining: batch N is written (one PostgreSQL transaction, on a writer thread) while the
  // Run() thread consumes and transforms batch N+1. The book's offsets advance optimistically
  // when N is handed over, so N+1's compare-and-sets expect N's end; if N fails or conflicts,
  // N+1 is discarded before it is written and the worker re-seeks from PostgreSQL as before.
  struct Written {
    PreparedBatch batch;
    std::vector<int64_t> timestamps;
    StatusOr<WriteResult> result = WriteResult{};
    double seconds = 0;
  };
  std::future<Written> inflight_;

  // Metrics (cells cached; the registry outlives the worker).
  core::Counter* rows_ok_;
  core::Counter* dropped_;
  core::Counter* dead_;
  core::Counter* rejected_;
  std::string last_kafka_error_;  // main thread: the last consumer error logged (no repeats)  // refused by PostgreSQL, dead-lettered with stage 'load'
  core::Counter* dedup_;
  core::Counter* stale_;
  core::Counter* batches_committed_;
  core::Counter* batches_conflict_;
  core::Counter* batches_failed_;
  core::Counter* reconnects_;
  core::Counter* kafka_errors_;
  core::CounterFamily* quality_;
  core::CounterFamily* table_rows_;
  core::Histogram* batch_records_;
  core::Histogram* commit_seconds_;
  core::Histogram* visible_seconds_;
  std::atomic<int64_t> committed_rows_{0};
  std::atomic<int64_t> committed_batches_{0};

  // Lag snapshot, written on the Run() thread and rendered on the HTTP thread.
  mutable std::mutex lag_mu_;
  std::map<PartitionKey, int64_t> lag_;  // guarded by lag_mu_
};

}  // namespace pinpipe::stream

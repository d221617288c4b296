// StreamWorker: the speed layer's main loop: Kafka consumer group -> chunks (records cut together
// by ChunkCutter, written as one transaction per lane) -> transform
// -> PostgreSQL, exactly once: each chunk's rows and its partitions' next offsets commit in
// one transaction per writer lane (offsets by compare-and-set in pinpipe_stream_offsets), and the
// consumer always starts where PostgreSQL says (on assignment, after a CAS miss, after a lost
// connection). Kafka's committed offsets are written for lag tools only. Failures, lanes and
// their figures: docs/design.md, "Speed layer".
//
// Threading: Run() owns the consumer and the PostgreSQL connections and uses them on its own
// (calling) thread; rebalance callbacks run on it too, inside Poll(). The one exception: while a
// chunk is in flight (see inflight_), each lane's writer thread (a LaneThread, started with the
// worker) has that lane's PgSink to itself; Drain() waits for them before the Run() thread touches
// a sink again (re-seek, assignment, revoke, stop). The registry's metrics (the lag gauge included)
// may be read from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/event_time.h"
#include "core/metrics.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "kafka/consumer.h"
#include "kafka/consumer_state_log.h"
#include "kafka/lag_gauge.h"
#include "stream/chunk_builder.h"
#include "stream/chunk_cutter.h"
#include "stream/lane_thread.h"
#include "stream/offset_book.h"
#include "stream/pg_sink.h"
#include "transform/transform.h"

namespace pinpipe::stream {

struct StreamOptions {
  std::string brokers = "127.0.0.1:19092";
  std::array<std::string, kKinds> topics = core::DefaultTopics();
  std::string pg_dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest_streaming";
  std::string group = "pinpipe-stream";
  std::string client_id = "pinpipe-stream";
  ChunkLimits limits;
  // The row's `dt`: the UTC day of this event time, the archiver's rule and window (so a record is
  // on the same day in both layers; `pinpipe stream` and `pinpipe archive` share the flags).
  core::EventTimePolicy event_time;
  DedupMode dedup_mode = DedupMode::kDirectFirst;
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  // Writer lanes = PostgreSQL connections writing in parallel (>= 1). 3: the default partition
  // count of `pinpipe topics ensure`, so each partition number gets its own lane.
  int writers = 3;
  bool commit_to_kafka = true;                     // for lag tools only; never read back
  std::map<std::string, std::string> kafka_extra;  // more consumer properties
};

class StreamWorker {
 public:
  StreamWorker(StreamOptions options, std::shared_ptr<const transform::Transform> transform,
               core::Registry* registry);
  ~StreamWorker();
  StreamWorker(const StreamWorker&) = delete;
  StreamWorker& operator=(const StreamWorker&) = delete;

  // Runs until stop is requested on `stop`, then commits the chunk in progress and leaves the
  // group. Returns OK after a clean stop. Errors (fatal only, nothing is retried): InvalidArgument
  // for a bad consumer configuration; the schema error when the tables cannot be created for a
  // non-retriable reason (e.g. a table exists with incompatible columns).
  Status Run(std::stop_token stop);

  // Totals since start, for tests and the shutdown line. Any thread.
  int64_t committed_rows() const { return committed_rows_.load(); }
  int64_t committed_chunks() const { return committed_chunks_.load(); }

 private:
  enum class Connect : uint8_t { kOk, kStopped, kFatal };

  Connect ConnectPg(std::stop_token stop, Status* fatal);
  bool Reseek();  // re-reads offsets for the owned partitions and assigns at them
  size_t LaneOf(int32_t partition) const {
    return static_cast<size_t>(partition < 0 ? 0 : partition) % builders_.size();
  }
  void DiscardChunk();  // forgets the chunk being built (all lanes)
  void HandleMessage(const kafka::Message& m, std::chrono::steady_clock::time_point now);
  // Cuts the chunk in progress and hands it to the writer (after the previous one finished).
  void Flush();
  // Waits for the chunk being written (if any) and applies its result. After it returns no
  // write is in flight and sink_ may be used on the Run() thread again.
  void Drain();
  bool WriteInFlight() const { return !inflight_.empty(); }
  bool WriteDone() const {
    if (inflight_.empty()) return false;
    for (size_t lane : inflight_) {
      if (!writers_[lane]->Done()) return false;
    }
    return true;
  }
  void UpdateLag();
  void SleepFor(std::chrono::milliseconds d, std::stop_token stop);
  std::vector<kafka::TopicPartitionOffset> OnRebalance(
      kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions,
      bool lost);

  StreamOptions options_;
  std::shared_ptr<const transform::Transform> transform_;
  std::map<std::string, core::RecordKind> kind_of_topic_;

  // Used on the Run() thread only.
  std::stop_token stop_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::vector<std::unique_ptr<PgSink>> sinks_;  // one per lane; empty = not connected
  bool schema_ready_ = false;
  core::Backoff backoff_;
  std::vector<std::unique_ptr<ChunkBuilder>> builders_;  // one per lane
  ChunkCutter cutter_;
  OffsetBook book_;
  std::vector<std::vector<int64_t>> chunk_timestamps_;  // per lane: the records' CreateTime
  bool pg_down_logged_ = false;
  std::chrono::steady_clock::time_point last_lag_update_{};

  // Pipelining: chunk N is written (one PostgreSQL transaction per lane, on writer threads) while
  // the Run() thread consumes and transforms chunk N+1. The book's offsets advance optimistically
  // when N is handed over, so N+1's compare-and-sets expect N's end; if N fails or conflicts,
  // N+1 is discarded before it is written and the worker re-seeks from PostgreSQL as before.
  // Lane i's chunk in flight and its result live in written_[i]: filled by the Run() thread
  // before writers_[i] gets the task, written by the task, read back after writers_[i]->Wait().
  struct Written {
    PreparedChunk chunk;
    std::vector<int64_t> timestamps;
    StatusOr<WriteResult> result = WriteResult{};
    double seconds = 0;
  };
  std::vector<Written> written_;                      // one per lane
  std::vector<size_t> inflight_;                      // lanes with a task submitted, in lane order
  std::vector<std::unique_ptr<LaneThread>> writers_;  // one per lane; after sinks_ and written_,
                                                      // so joined before they are destroyed

  // Metrics (cells cached; the registry outlives the worker).
  core::Counter* rows_ok_;
  core::Counter* dropped_;
  core::Counter* dead_;
  core::Counter* rejected_;  // refused by PostgreSQL, dead-lettered with stage 'load'
  kafka::ConsumerStateLog kafka_log_;
  core::Counter* dedup_;
  core::Counter* stale_;
  core::Counter* chunks_committed_;
  core::Counter* chunks_conflict_;
  core::Counter* chunks_failed_;
  core::Counter* reconnects_;
  core::Counter* kafka_errors_;
  core::CounterFamily* quality_;
  core::CounterFamily* table_rows_;
  core::Histogram* chunk_records_;
  core::Histogram* commit_seconds_;
  core::Histogram* visible_seconds_;
  std::atomic<int64_t> committed_rows_{0};
  std::atomic<int64_t> committed_chunks_{0};

  // pinpipe_stream_lag{topic,partition} (high watermark - next offset in PostgreSQL), set on the
  // Run() thread (UpdateLag, revocation), rendered by the registry.
  kafka::LagGauge lag_;
};

}  // namespace pinpipe::stream

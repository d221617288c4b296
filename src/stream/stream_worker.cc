#include "stream/stream_worker.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "core/stop_sleep.h"
#include "log/logger.h"

namespace pinpipe::stream {
namespace {

using Clock = std::chrono::steady_clock;

const log::Logger kStreamLog("stream");

void Log(const std::string& line) { kStreamLog.Log(log::Level::kInfo, line); }
// What an operator should look at: PostgreSQL away, rows refused, another worker's takeover.
void Warn(const std::string& line) { kStreamLog.Log(log::Level::kWarn, line); }

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

StreamWorker::StreamWorker(StreamOptions options,
                           std::shared_ptr<const transform::Transform> transform,
                           core::Registry* registry)
    : options_(std::move(options)),
      transform_(std::move(transform)),
      backoff_(options_.backoff_initial, options_.backoff_max),
      cutter_(options_.limits),
      kafka_log_([](const std::string& line) { Log(line); }, "PostgreSQL"),
      lag_(registry, "pinpipe_stream_lag",
           "Records in Kafka not yet committed to PostgreSQL (high watermark - next offset)") {
  const int lanes = std::max(options_.writers, 1);
  for (int i = 0; i < lanes; ++i)
    builders_.push_back(std::make_unique<ChunkBuilder>(transform_, options_.event_time));
  chunk_timestamps_.resize(static_cast<size_t>(lanes));
  written_.resize(static_cast<size_t>(lanes));
  for (int i = 0; i < lanes; ++i) writers_.push_back(std::make_unique<LaneThread>());
  for (core::RecordKind kind : core::kAllRecordKinds) {
    kind_of_topic_[options_.topics[static_cast<size_t>(kind)]] = kind;
  }
  auto* records =
      registry->AddCounter("pinpipe_stream_records_total",
                           "Records consumed by the speed layer, by outcome", {"outcome"});
  rows_ok_ = records->With({"row"});
  dropped_ = records->With({"dropped"});
  dead_ = records->With({"dead_letter"});
  rejected_ = records->With({"rejected_by_postgres"});
  dedup_ = records->With({"duplicate"});
  stale_ = records->With({"stale"});
  auto* chunks =
      registry->AddCounter("pinpipe_stream_batches_total", "Chunks by result", {"result"});
  chunks_committed_ = chunks->With({"committed"});
  chunks_conflict_ = chunks->With({"offset_conflict"});
  chunks_failed_ = chunks->With({"failed"});
  reconnects_ =
      registry->AddCounter("pinpipe_stream_pg_reconnects_total", "PostgreSQL reconnections")
          ->With({});
  kafka_errors_ = registry
                      ->AddCounter("pinpipe_stream_kafka_errors_total",
                                   "Consumer error events (broker down, ...)")
                      ->With({});
  table_rows_ = registry->AddCounter("pinpipe_stream_rows_total",
                                     "Rows committed to PostgreSQL, by table", {"table"});
  quality_ = registry->AddCounter("pinpipe_stream_quality_total",
                                  "Transform data-quality counters (values changed or nulled, "
                                  "rows dropped), committed chunks only",
                                  {"rule", "effect"});
  chunk_records_ =
      registry
          ->AddHistogram("pinpipe_stream_batch_records", "Records per committed chunk", {},
                         {1, 10, 100, 1000, 2000, 5000, 10000, 20000, 50000, 100000})
          ->With({});
  commit_seconds_ =
      registry
          ->AddHistogram("pinpipe_stream_commit_seconds", "PostgreSQL transaction time per chunk",
                         {}, core::LatencyBuckets())
          ->With({});
  visible_seconds_ = registry
                         ->AddHistogram("pinpipe_stream_visible_seconds",
                                        "Kafka CreateTime to committed in PostgreSQL, per row", {},
                                        core::LatencyBuckets())
                         ->With({});
}

StreamWorker::~StreamWorker() = default;

void StreamWorker::SleepFor(std::chrono::milliseconds d, std::stop_token stop) {
  core::SleepUnlessStopped(stop, d);
}

StreamWorker::Connect StreamWorker::ConnectPg(std::stop_token stop, Status* fatal) {
  while (!stop.stop_requested()) {
    Status s;
    auto sink = PgSink::Open(options_.pg_dsn, options_.group, transform_, options_.dedup_mode);
    if (sink.ok()) {
      s = schema_ready_ ? Status::Ok() : (*sink)->EnsureSchema();
      if (!s.ok() && !s.retriable()) {
        *fatal = s.WithContext("creating the speed layer tables");
        return Connect::kFatal;
      }
      // The other lanes' connections (the first one made the database and the schema).
      std::vector<std::unique_ptr<PgSink>> lanes;
      if (s.ok()) lanes.push_back(std::move(*sink));
      while (s.ok() && lanes.size() < builders_.size()) {
        auto more = PgSink::Open(options_.pg_dsn, options_.group, transform_, options_.dedup_mode);
        if (more.ok()) {
          lanes.push_back(std::move(*more));
        } else {
          s = more.status();
        }
      }
      if (s.ok()) {
        schema_ready_ = true;
        sinks_ = std::move(lanes);
        if (pg_down_logged_ || backoff_.attempts() > 0) {
          Log("PostgreSQL connection restored");
          reconnects_->Inc();
        }
        pg_down_logged_ = false;
        backoff_.Reset();
        return Connect::kOk;
      }
    } else {
      s = sink.status();
    }
    if (!pg_down_logged_) {
      Warn(fmt::format("PostgreSQL unavailable ({}); retrying with back-off", s.ToString()));
      pg_down_logged_ = true;
    }
    SleepFor(backoff_.Next(), stop);
  }
  return Connect::kStopped;
}

bool StreamWorker::Reseek() {
  auto stored = sinks_.front()->LoadOffsets();
  if (!stored.ok()) {
    Warn("reading offsets: " + stored.status().ToString());
    sinks_.clear();
    return false;
  }
  for (const kafka::TopicPartition& key : book_.Owned()) {
    auto it = stored->find(key);
    book_.Own(key, it == stored->end() ? std::nullopt : std::optional<int64_t>(it->second));
  }
  if (Status s = consumer_->Assign(book_.SeekPositions()); !s.ok()) {
    Warn("re-seeking: " + s.ToString());
  }
  return true;
}

std::vector<kafka::TopicPartitionOffset> StreamWorker::OnRebalance(
    kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions,
    bool lost) {
  if (event == kafka::RebalanceEvent::kRevoke) {
    // Finish the chunk while the partitions are still ours; if they were lost the CAS refuses.
    Flush();
    Drain();
    std::vector<kafka::TopicPartition> gone;
    for (const auto& p : partitions) {
      book_.Release(p.key());
      gone.push_back(p.key());
    }
    lag_.Forget(gone);
    Log(fmt::format("{} {} partition(s)", lost ? "lost" : "revoked", partitions.size()));
    return {};
  }
  // Assign: start exactly where PostgreSQL says. Without PostgreSQL there is nothing safe to
  // start from, so wait for it here (a stop request still ends the wait).
  Drain();  // the sinks are the writers' while a chunk is in flight
  while (!stop_.stop_requested()) {
    if (sinks_.empty()) {
      Status fatal;
      if (ConnectPg(stop_, &fatal) != Connect::kOk) break;
    }
    auto stored = sinks_.front()->LoadOffsets();
    if (!stored.ok()) {
      Warn("reading offsets: " + stored.status().ToString());
      sinks_.clear();
      continue;
    }
    for (const auto& p : partitions) {
      kafka::TopicPartition key{p.topic, p.partition};
      auto it = stored->find(key);
      book_.Own(key, it == stored->end() ? std::nullopt : std::optional<int64_t>(it->second));
    }
    std::vector<kafka::TopicPartitionOffset> start;
    for (const auto& p : book_.SeekPositions()) {
      for (const auto& a : partitions) {
        if (a.topic == p.topic && a.partition == p.partition) start.push_back(p);
      }
    }
    Log(fmt::format("assigned {} partition(s)", start.size()));
    return start;
  }
  return {};
}

void StreamWorker::HandleMessage(const kafka::Message& m, Clock::time_point now) {
  if (!m.error.ok()) {
    // A consumer error event (e.g. for one partition); librdkafka keeps retrying by itself.
    kafka_errors_->Inc();
    kafka_log_.OnError(m.error);
    return;
  }
  if (m.end_of_partition) return;
  auto kind = kind_of_topic_.find(m.topic);
  if (kind == kind_of_topic_.end() || !book_.Accept({m.topic, m.partition}, m.offset)) {
    stale_->Inc();
    return;
  }
  const size_t lane = LaneOf(m.partition);
  builders_[lane]->Add(kind->second, m.topic, kafka::Partition(m.partition),
                       kafka::Offset(m.offset), m.value, m.timestamp_ms);
  chunk_timestamps_[lane].push_back(m.timestamp_ms);
  cutter_.Add(m.value.size(), now);
}

void StreamWorker::DiscardChunk() {
  for (auto& b : builders_) b->Discard();
  for (auto& ts : chunk_timestamps_) ts.clear();
}

void StreamWorker::Flush() {
  const auto chunk_started = cutter_.started();
  cutter_.Reset();
  if (!book_.HasPending()) {
    DiscardChunk();
    return;
  }
  // One chunk in flight at most: the previous one must be settled first (its failure or
  // conflict makes this one's offsets wrong, and Drain() then abandons it).
  Drain();
  if (!book_.HasPending()) return;  // abandoned by Drain()
  if (sinks_.empty()) {
    book_.AbandonPending();
    DiscardChunk();
    return;
  }
  const std::vector<OffsetUpdate> offsets = book_.PendingUpdates();
  // Optimistic: the next chunk's compare-and-sets expect this one's end.
  book_.CommitPending();
  const double duration_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - chunk_started).count();
  for (size_t lane = 0; lane < builders_.size(); ++lane) {
    PreparedChunk chunk = builders_[lane]->Take();
    for (const OffsetUpdate& u : offsets) {
      if (LaneOf(u.key.partition) == lane) chunk.offsets.push_back(u);
    }
    std::vector<int64_t> timestamps = std::move(chunk_timestamps_[lane]);
    chunk_timestamps_[lane].clear();
    if (chunk.offsets.empty()) continue;  // no record of this lane's partitions
    Written& w = written_[lane];
    w.chunk = std::move(chunk);
    w.timestamps = std::move(timestamps);
    writers_[lane]->Submit([&w, sink = sinks_[lane].get(), duration_ms] {
      const auto started = Clock::now();
      w.result = sink->Write(w.chunk, duration_ms);
      w.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    });
    inflight_.push_back(lane);
  }
}

void StreamWorker::Drain() {
  if (inflight_.empty()) return;
  std::vector<Written> lanes;
  for (size_t lane : inflight_) {
    writers_[lane]->Wait();
    lanes.push_back(std::move(written_[lane]));
    written_[lane] = Written{};
  }
  inflight_.clear();
  bool failed = false;
  bool conflict = false;
  const int64_t now_ms = NowMillis();
  std::vector<kafka::TopicPartitionOffset> positions;
  for (Written& w : lanes) {
    const PreparedChunk& chunk = w.chunk;
    StatusOr<WriteResult>& r = w.result;
    if (!r.ok()) {
      failed = true;
      chunks_failed_->Inc();
      Warn(fmt::format("chunk of {} records not written ({}); will retry from PostgreSQL's offsets",
                       chunk.records, r.status().ToString()));
      continue;
    }
    if (r->conflict) {
      conflict = true;
      chunks_conflict_->Inc();
      continue;
    }
    // This lane's transaction committed, whatever happened to the others.
    int64_t inserted = 0;
    for (core::RecordKind kind : core::kAllRecordKinds) {
      const int64_t n = r->inserted[static_cast<size_t>(kind)];
      if (n > 0) table_rows_->With({transform_->table(kind).table})->Inc(n);
      inserted += n;
    }
    rows_ok_->Inc(inserted);
    dropped_->Inc(chunk.dropped);
    dead_->Inc(chunk.dead);
    rejected_->Inc(r->rejected);
    if (r->rejected > 0) {
      Warn(fmt::format("{} row(s) rejected by PostgreSQL, dead-lettered with stage 'load' ({})",
                       r->rejected, r->first_rejection));
    }
    dedup_->Inc(chunk.dedup_in_chunk + r->dedup_stored);
    chunks_committed_->Inc();
    chunk_records_->Observe(static_cast<double>(chunk.records));
    commit_seconds_->Observe(w.seconds);
    for (const auto& [key, n] : chunk.quality.changed) quality_->With({key, "changed"})->Inc(n);
    for (const auto& [key, n] : chunk.quality.nulled) quality_->With({key, "nulled"})->Inc(n);
    for (const auto& [key, n] : chunk.quality.unparseable) {
      quality_->With({key, "unparseable"})->Inc(n);
    }
    for (const auto& [key, n] : chunk.quality.dropped) quality_->With({key, "dropped"})->Inc(n);
    for (int64_t ts : w.timestamps) {
      if (ts >= 0) visible_seconds_->Observe(static_cast<double>(now_ms - ts) / 1000.0);
    }
    committed_rows_ += inserted;
    ++committed_chunks_;
    for (const auto& u : chunk.offsets) positions.push_back({u.key.topic, u.key.partition, u.next});
  }
  if (failed || conflict) {
    // The failed or refused lanes stored nothing (their transactions did not commit), and the
    // chunk being built continued from the optimistic ends: drop it, then restart every
    // partition from PostgreSQL (which also holds what the other lanes committed).
    book_.AbandonPending();
    DiscardChunk();
    cutter_.Reset();
  }
  if (failed) {
    sinks_.clear();  // reconnect (all lanes) with back-off, then re-seek
    return;
  }
  if (conflict) {
    Warn("offset conflict: another worker owns a partition now; re-seeking");
    Reseek();
    return;
  }
  if (options_.commit_to_kafka && !positions.empty()) {
    consumer_->CommitAsync(positions).IgnoreError();  // visibility only
  }
}

void StreamWorker::UpdateLag() {
  std::map<kafka::TopicPartition, std::optional<int64_t>> next;
  for (const auto& p : book_.SeekPositions()) {
    next[p.key()] = p.offset >= 0 ? std::optional<int64_t>(p.offset) : std::nullopt;
  }
  lag_.Update(*consumer_, next);
}

Status StreamWorker::Run(std::stop_token stop) {
  stop_ = stop;
  Status fatal;
  switch (ConnectPg(stop, &fatal)) {
    case Connect::kFatal: return fatal;
    case Connect::kStopped: return Status::Ok();
    case Connect::kOk: break;
  }
  kafka::ConsumerOptions co;
  co.brokers = options_.brokers;
  co.group_id = options_.group;
  co.client_id = options_.client_id;
  co.enable_auto_commit = false;
  co.auto_offset_reset = "earliest";
  // Bounded prefetch: the default (64 MiB) alone would eat half the memory budget.
  co.fetch_wake_bytes = 2u << 20;  // a quarter of the queue below
  co.extra = {{"queued.max.messages.kbytes", "8192"},
              {"fetch.max.bytes", "4194304"},
              {"enable.auto.offset.store", "false"},
              // An empty partition in the first fetch would otherwise hold the records of the
              // others back for the default 500 ms (first rows after startup/assignment).
              {"fetch.wait.max.ms", "100"},
              // Bigger fetches per partition: fewer round trips while catching up.
              {"max.partition.fetch.bytes", "2097152"}};
  for (const auto& [k, v] : options_.kafka_extra) co.extra[k] = v;
  co.on_rebalance = [this](kafka::RebalanceEvent e,
                           const std::vector<kafka::TopicPartitionOffset>& p,
                           bool lost) { return OnRebalance(e, p, lost); };
  ASSIGN_OR_RETURN(consumer_, kafka::Consumer::Create(co));
  // Partition leaders known before the group assigns: fetching starts right after assignment.
  consumer_
      ->PrefetchMetadata(std::vector<std::string>(options_.topics.begin(), options_.topics.end()),
                         std::chrono::milliseconds(2000))
      .IgnoreError();
  RETURN_IF_ERROR(consumer_->Subscribe(
      std::vector<std::string>(options_.topics.begin(), options_.topics.end())));
  Log(fmt::format("consuming {}/{}/{} from {} as group {}, writing to {}", options_.topics[0],
                  options_.topics[1], options_.topics[2], options_.brokers, options_.group,
                  options_.pg_dsn));

  auto now = Clock::now();
  while (!stop.stop_requested()) {
    if (sinks_.empty()) {
      Connect c = ConnectPg(stop, &fatal);
      if (c == Connect::kFatal) return fatal;
      if (c == Connect::kStopped) break;
      if (!Reseek()) continue;
    }
    auto timeout = std::min(cutter_.TimeLeft(now), std::chrono::milliseconds(200));
    // A due chunk waiting for the writer: look again soon, without spinning.
    if (timeout.count() == 0 && WriteInFlight()) timeout = std::chrono::milliseconds(2);
    std::optional<kafka::Message> m = consumer_->Poll(timeout);
    now = Clock::now();  // one clock read per record
    if (m) HandleMessage(*m, now);
    kafka_log_.Check(*consumer_);
    // While the writer is busy the chunk keeps growing (up to its record/byte limits): a
    // lagging worker writes fewer, larger transactions.
    if (WriteDone()) Drain();
    if (cutter_.ShouldCut(now) &&
        (!WriteInFlight() || cutter_.records() >= cutter_.limits().max_records ||
         cutter_.bytes() >= cutter_.limits().max_bytes)) {
      Flush();
    }
    if (now - last_lag_update_ > std::chrono::seconds(1)) {
      UpdateLag();
      last_lag_update_ = now;
    }
  }
  Flush();
  Drain();
  Status closed = consumer_->Close();
  Log(fmt::format("stopped: {} rows in {} chunks", committed_rows_.load(),
                  committed_chunks_.load()));
  return closed;
}

}  // namespace pinpipe::stream

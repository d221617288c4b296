#include "stream/stream_worker.h"

#include <algorithm>
#include <future>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "core/stop_sleep.h"

namespace pinpipe::stream {
namespace {

using Clock = std::chrono::steady_clock;

void Log(const std::string& line) { std::cerr << "pinpipe stream: " << line << std::endl; }

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
      kafka_log_([](const std::string& line) { Log(line); }, "PostgreSQL") {
  const int lanes = std::max(options_.writers, 1);
  for (int i = 0; i < lanes; ++i) builders_.push_back(std::make_unique<BatchBuilder>(transform_, options_.event_time));
  batch_timestamps_.resize(static_cast<size_t>(lanes));
  for (core::RecordKind kind : core::kAllRecordKinds) {
    kind_of_topic_[options_.topics[static_cast<size_t>(kind)]] = kind;
  }
  auto* records = registry->AddCounter("pinpipe_stream_records_total",
                                       "Records consumed by the speed layer, by outcome",
                                       {"outcome"});
  rows_ok_ = records->With({"row"});
  dropped_ = records->With({"dropped"});
  dead_ = records->With({"dead_letter"});
  rejected_ = records->With({"rejected_by_postgres"});
  dedup_ = records->With({"duplicate"});
  stale_ = records->With({"stale"});
  auto* batches = registry->AddCounter("pinpipe_stream_batches_total",
                                       "Micro-batches by result", {"result"});
  batches_committed_ = batches->With({"committed"});
  batches_conflict_ = batches->With({"offset_conflict"});
  batches_failed_ = batches->With({"failed"});
  reconnects_ = registry->AddCounter("pinpipe_stream_pg_reconnects_total",
                                     "PostgreSQL reconnections")
                    ->With({});
  kafka_errors_ = registry->AddCounter("pinpipe_stream_kafka_errors_total",
                                       "Consumer error events (broker down, ...)")
                      ->With({});
  table_rows_ = registry->AddCounter("pinpipe_stream_rows_total",
                                     "Rows committed to PostgreSQL, by table", {"table"});
  quality_ = registry->AddCounter("pinpipe_stream_quality_total",
                                  "Transform data-quality counters (values changed or nulled, "
                                  "rows dropped), committed batches only",
                                  {"rule", "effect"});
  batch_records_ = registry
                       ->AddHistogram("pinpipe_stream_batch_records",
                                      "Records per committed micro-batch", {},
                                      {1, 10, 100, 1000, 2000, 5000, 10000, 20000, 50000, 100000})
                       ->With({});
  commit_seconds_ = registry
                        ->AddHistogram("pinpipe_stream_commit_seconds",
                                       "PostgreSQL transaction time per micro-batch", {},
                                       core::LatencyBuckets())
                        ->With({});
  visible_seconds_ = registry
                         ->AddHistogram("pinpipe_stream_visible_seconds",
                                        "Kafka CreateTime to committed in PostgreSQL, per row",
                                        {}, core::LatencyBuckets())
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
        auto more =
            PgSink::Open(options_.pg_dsn, options_.group, transform_, options_.dedup_mode);
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
      Log(fmt::format("PostgreSQL unavailable ({}); retrying with back-off", s.ToString()));
      pg_down_logged_ = true;
    }
    SleepFor(backoff_.Next(), stop);
  }
  return Connect::kStopped;
}

bool StreamWorker::Reseek() {
  auto stored = sinks_.front()->LoadOffsets();
  if (!stored.ok()) {
    Log("reading offsets: " + stored.status().ToString());
    sinks_.clear();
    return false;
  }
  for (const PartitionKey& key : book_.Owned()) {
    auto it = stored->find(key);
    book_.Own(key, it == stored->end() ? std::nullopt : std::optional<int64_t>(it->second));
  }
  if (Status s = consumer_->Assign(book_.SeekPositions()); !s.ok()) {
    Log("re-seeking: " + s.ToString());
  }
  return true;
}

std::vector<kafka::TopicPartitionOffset> StreamWorker::OnRebalance(
    kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions,
    bool lost) {
  if (event == kafka::RebalanceEvent::kRevoke) {
    // Finish the batch while the partitions are still ours; if they were lost the CAS refuses.
    Flush();
    Drain();
    for (const auto& p : partitions) {
      book_.Release({p.topic, p.partition});
      std::lock_guard<std::mutex> lock(lag_mu_);
      lag_.erase({p.topic, p.partition});
    }
    Log(fmt::format("{} {} partition(s)", lost ? "lost" : "revoked", partitions.size()));
    return {};
  }
  // Assign: start exactly where PostgreSQL says. Without PostgreSQL there is nothing safe to
  // start from, so wait for it here (a stop request still ends the wait).
  Drain();  // the sinks are the writers' while a batch is in flight
  while (!stop_.stop_requested()) {
    if (sinks_.empty()) {
      Status fatal;
      if (ConnectPg(stop_, &fatal) != Connect::kOk) break;
    }
    auto stored = sinks_.front()->LoadOffsets();
    if (!stored.ok()) {
      Log("reading offsets: " + stored.status().ToString());
      sinks_.clear();
      continue;
    }
    for (const auto& p : partitions) {
      PartitionKey key{p.topic, p.partition};
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
  builders_[lane]->Add(kind->second, m.topic, m.partition, m.offset, m.value, m.timestamp_ms);
  batch_timestamps_[lane].push_back(m.timestamp_ms);
  cutter_.Add(m.value.size(), now);
}

void StreamWorker::DiscardBatch() {
  for (auto& b : builders_) b->Discard();
  for (auto& ts : batch_timestamps_) ts.clear();
}

void StreamWorker::Flush() {
  const auto batch_started = cutter_.started();
  cutter_.Reset();
  if (!book_.HasPending()) {
    DiscardBatch();
    return;
  }
  // One batch in flight at most: the previous one must be settled first (its failure or
  // conflict makes this one's offsets wrong, and Drain() then abandons it).
  Drain();
  if (!book_.HasPending()) return;  // abandoned by Drain()
  if (sinks_.empty()) {
    book_.AbandonPending();
    DiscardBatch();
    return;
  }
  const std::vector<OffsetUpdate> offsets = book_.PendingUpdates();
  // Optimistic: the next batch's compare-and-sets expect this one's end.
  book_.CommitPending();
  const double duration_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - batch_started).count();
  for (size_t lane = 0; lane < builders_.size(); ++lane) {
    PreparedBatch batch = builders_[lane]->Take();
    for (const OffsetUpdate& u : offsets) {
      if (LaneOf(u.key.partition) == lane) batch.offsets.push_back(u);
    }
    std::vector<int64_t> timestamps = std::move(batch_timestamps_[lane]);
    batch_timestamps_[lane].clear();
    if (batch.offsets.empty()) continue;  // no record of this lane's partitions
    PgSink* sink = sinks_[lane].get();
    inflight_.push_back(std::async(
        std::launch::async,
        [sink, duration_ms](PreparedBatch b, std::vector<int64_t> ts) {
          Written w;
          const auto started = Clock::now();
          w.result = sink->Write(b, duration_ms);
          w.seconds = std::chrono::duration<double>(Clock::now() - started).count();
          w.batch = std::move(b);
          w.timestamps = std::move(ts);
          return w;
        },
        std::move(batch), std::move(timestamps)));
  }
}

void StreamWorker::Drain() {
  if (inflight_.empty()) return;
  std::vector<Written> lanes;
  for (auto& f : inflight_) lanes.push_back(f.get());
  inflight_.clear();
  bool failed = false;
  bool conflict = false;
  const int64_t now_ms = NowMillis();
  std::vector<kafka::TopicPartitionOffset> positions;
  for (Written& w : lanes) {
    const PreparedBatch& batch = w.batch;
    StatusOr<WriteResult>& r = w.result;
    if (!r.ok()) {
      failed = true;
      batches_failed_->Inc();
      Log(fmt::format(
          "batch of {} records not written ({}); will retry from PostgreSQL's offsets",
          batch.records, r.status().ToString()));
      continue;
    }
    if (r->conflict) {
      conflict = true;
      batches_conflict_->Inc();
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
    dropped_->Inc(batch.dropped);
    dead_->Inc(batch.dead);
    rejected_->Inc(r->rejected);
    if (r->rejected > 0) {
      Log(fmt::format("{} row(s) rejected by PostgreSQL, dead-lettered with stage 'load' ({})",
                      r->rejected, r->first_rejection));
    }
    dedup_->Inc(batch.dedup_in_batch + r->dedup_stored);
    batches_committed_->Inc();
    batch_records_->Observe(static_cast<double>(batch.records));
    commit_seconds_->Observe(w.seconds);
    for (const auto& [key, n] : batch.quality.changed) quality_->With({key, "changed"})->Inc(n);
    for (const auto& [key, n] : batch.quality.nulled) quality_->With({key, "nulled"})->Inc(n);
    for (const auto& [key, n] : batch.quality.unparseable) {
      quality_->With({key, "unparseable"})->Inc(n);
    }
    for (const auto& [key, n] : batch.quality.dropped) quality_->With({key, "dropped"})->Inc(n);
    for (int64_t ts : w.timestamps) {
      if (ts >= 0) visible_seconds_->Observe(static_cast<double>(now_ms - ts) / 1000.0);
    }
    committed_rows_ += inserted;
    ++committed_batches_;
    for (const auto& u : batch.offsets) positions.push_back({u.key.topic, u.key.partition, u.next});
  }
  if (failed || conflict) {
    // The failed or refused lanes stored nothing (their transactions did not commit), and the
    // batch being built continued from the optimistic ends: drop it, then restart every
    // partition from PostgreSQL (which also holds what the other lanes committed).
    book_.AbandonPending();
    DiscardBatch();
    cutter_.Reset();
  }
  if (failed) {
    sinks_.clear();  // reconnect (all lanes) with back-off, then re-seek
    return;
  }
  if (conflict) {
    Log("offset conflict: another worker owns a partition now; re-seeking");
    Reseek();
    return;
  }
  if (options_.commit_to_kafka && !positions.empty()) {
    consumer_->CommitAsync(positions).IgnoreError();  // visibility only
  }
}

void StreamWorker::UpdateLag() {
  std::map<PartitionKey, int64_t> lag;
  for (const auto& p : book_.SeekPositions()) {
    const int64_t high = consumer_->CachedHighWatermark(p.topic, p.partition);
    if (high < 0) continue;
    lag[{p.topic, p.partition}] = p.offset >= 0 ? std::max<int64_t>(high - p.offset, 0) : high;
  }
  std::lock_guard<std::mutex> lock(lag_mu_);
  lag_ = std::move(lag);
}

std::string StreamWorker::RenderLag() const {
  std::string out =
      "# HELP pinpipe_stream_lag Records in Kafka not yet committed to PostgreSQL "
      "(high watermark - next offset)\n# TYPE pinpipe_stream_lag gauge\n";
  std::lock_guard<std::mutex> lock(lag_mu_);
  for (const auto& [key, n] : lag_) {
    fmt::format_to(std::back_inserter(out), "pinpipe_stream_lag{{topic=\"{}\",partition=\"{}\"}} {}\n",
                   key.topic, key.partition, n);
  }
  return out;
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
                           const std::vector<kafka::TopicPartitionOffset>& p, bool lost) {
    return OnRebalance(e, p, lost);
  };
  ASSIGN_OR_RETURN(consumer_, kafka::Consumer::Create(co));
  // Partition leaders known before the group assigns: fetching starts right after assignment.
  consumer_->PrefetchMetadata(std::vector<std::string>(options_.topics.begin(), options_.topics.end()),
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
    // A due batch waiting for the writer: look again soon, without spinning.
    if (timeout.count() == 0 && WriteInFlight()) timeout = std::chrono::milliseconds(2);
    std::optional<kafka::Message> m = consumer_->Poll(timeout);
    now = Clock::now();  // one clock read per record
    if (m) HandleMessage(*m, now);
    kafka_log_.Check(*consumer_);
    // While the writer is busy the batch keeps growing (up to its record/byte limits): a
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
  Log(fmt::format("stopped: {} rows in {} batches", committed_rows_.load(),
                  committed_batches_.load()));
  return closed;
}

}  // namespace pinpipe::stream

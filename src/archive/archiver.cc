#include "archive/archiver.h"

#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "archive/archive_log.h"
#include "archive/day_ledger.h"
#include "archive/partition_recovery.h"
#include "core/backoff.h"
#include "core/mutex.h"
#include "core/stop_sleep.h"
#include "kafka/admin.h"
#include "lake/object_key.h"

namespace pinpipe::archive {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

struct Archiver::Part {
  std::string topic;
  int32_t partition = 0;
  core::RecordKind kind = core::RecordKind::kPin;
  // Offset where the open segment ends so far = where the next one starts (nullopt: nothing
  // archived yet; the first record's offset starts the first segment).
  std::optional<int64_t> position;
  std::optional<SegmentManifest> redo;                  // the intent being redone, if any
  std::unique_ptr<core::EventTimeExtractor> extractor;  // a redo with other event-time bounds
  std::unique_ptr<SegmentBuilder> builder;
  std::set<int64_t> pending_days;  // days of the open segment, registered with the planner
  TimePoint first_record{};
  TimePoint last_record{};
  PartitionProgress* progress = nullptr;
  core::Counter* from_record = nullptr;
  core::Counter* from_kafka = nullptr;
  core::Counter* from_none = nullptr;
};

Archiver::Archiver(ArchiverOptions options, lake::ObjectStore* store, core::Registry* registry)
    : options_(std::move(options)),
      store_(store),
      rotation_(options_.rotation),
      planner_(options_.lateness, options_.watermark_idle),
      extractor_(options_.event_time),
      registry_(registry),
      lag_(registry, "pinpipe_archive_lag",
           "Records in Kafka not yet archived (high watermark - next offset to archive)"),
      watermarks_(registry->AddGaugeFamily(
          "pinpipe_archive_watermark_seconds",
          "Event-time watermark per topic (Unix time): days ending before it minus the lateness "
          "allowance are sealed",
          {"topic"})) {
  for (core::RecordKind kind : core::kAllRecordKinds) {
    kind_of_topic_[options_.topics[static_cast<size_t>(kind)]] = kind;
  }
  records_ =
      registry->AddCounter("pinpipe_archive_records_total",
                           "Records durably archived (segments with a done marker)", {"topic"});
  objects_ = registry->AddCounter(
      "pinpipe_archive_objects_total",
      "Archive objects by outcome: created, or existing (an earlier attempt's, verified identical)",
      {"topic", "outcome"});
  bytes_ = registry->AddCounter("pinpipe_archive_bytes_total",
                                "Bytes archived: raw (JSONL) and stored (compressed, created)",
                                {"topic", "kind"});
  segments_cut_ = registry->AddCounter("pinpipe_archive_segments_cut_total",
                                       "Segments closed, by reason", {"reason"});
  segments_written_ = registry->AddCounter(
      "pinpipe_archive_segments_total",
      "Segments by result: done, redone (an intent without done rebuilt), conflict (another "
      "archiver's intent held the offset), abandoned",
      {"result"});
  late_ = registry->AddCounter("pinpipe_archive_late_records_total",
                               "Records archived for a day that was already sealed", {"topic"});
  seals_ = registry->AddCounter("pinpipe_archive_seals_total",
                                "Days sealed with _SUCCESS (already: found sealed)",
                                {"topic", "result"});
  event_time_ = registry->AddCounter(
      "pinpipe_archive_event_time_total",
      "Records by where their event time came from: record (its own field), kafka (CreateTime), "
      "none (neither: filed under 1970-01-01)",
      {"topic", "source"});
  stale_ = registry
               ->AddCounter("pinpipe_archive_stale_records_total",
                            "Records fetched for partitions or offsets not (or no longer) "
                            "archived by this instance, skipped")
               ->With({});
  newline_records_ = registry
                         ->AddCounter("pinpipe_archive_newline_records_total",
                                      "Records whose CR/LF bytes became spaces in JSONL")
                         ->With({});
  lost_to_retention_ =
      registry
          ->AddCounter("pinpipe_archive_lost_to_retention_total",
                       "Offsets deleted by Kafka retention before they were archived")
          ->With({});
  kafka_errors_ = registry
                      ->AddCounter("pinpipe_archive_kafka_errors_total",
                                   "Consumer error events (broker down, ...)")
                      ->With({});
  write_seconds_ = registry
                       ->AddHistogram("pinpipe_archive_segment_write_seconds",
                                      "Time to make a segment durable (intent, objects, done)", {},
                                      core::LatencyBuckets())
                       ->With({});
  store_retries_ = registry
                       ->AddCounter("pinpipe_archive_store_retries_total",
                                    "Retries of retriable object-store errors")
                       ->With({});
  registry->AddCounterFunction(
      "pinpipe_archive_store_requests_total",
      "Requests sent to the object store (S3: HTTP requests, retries included; 0 for a local "
      "directory)",
      [store] { return static_cast<double>(store->requests_sent()); });
}

Archiver::~Archiver() = default;

Status Archiver::Validate() const {
  std::set<std::string> distinct(options_.topics.begin(), options_.topics.end());
  if (distinct.size() != options_.topics.size() || distinct.count("") != 0) {
    return InvalidArgument("archive: the pin, geo and user topics must be three distinct names");
  }
  if (options_.group.empty()) return InvalidArgument("archive: the consumer group is empty");
  for (const std::string& topic : options_.topics) {
    RETURN_IF_ERROR(lake::ValidatePrefix(ManifestPrefix(options_.group, topic, 0))
                        .WithContext("archive: group/topic not usable in object names"));
    RETURN_IF_ERROR(
        lake::ValidateKey(SegmentObjectKey(topic, 0, kafka::Partition{0}, kafka::Offset{0}))
            .WithContext("archive: topic not usable in object names"));
  }
  const RotationLimits& r = options_.rotation;
  if (r.max_records < 1 || r.max_bytes < 1 || r.idle.count() < 1 || r.max_age.count() < 1 ||
      r.max_hours < 1) {
    return InvalidArgument("archive: rotation limits must be positive");
  }
  if (options_.frame_bytes < 1024) return InvalidArgument("archive: frame bytes below 1 KiB");
  return Status::Ok();
}

void Archiver::SetFatal(Status s) {
  if (fatal_.ok() && !s.ok()) {
    fatal_ = std::move(s);
    ArchiveLog("FATAL: " + fatal_.ToString());
  }
}

FramePool* Archiver::PoolFor(ArchiveCodec codec, int level) {
  auto it = pools_.find({codec, level});
  if (it != pools_.end()) return it->second.get();
  auto created = FramePool::Create(level, options_.compress_threads, 8, codec);
  if (!created.ok()) {
    SetFatal(created.status());
    return nullptr;
  }
  return pools_.emplace(std::make_pair(codec, level), std::move(*created)).first->second.get();
}

std::unique_ptr<SegmentBuilder> Archiver::NewBuilder(const Part& part,
                                                     const SegmentSettings* settings) {
  SegmentSettings s;
  if (settings != nullptr) {
    s = *settings;
  } else {
    s.group = options_.group;
    s.topic = part.topic;
    s.partition = part.partition;
    s.kind = part.kind;
    s.layout = options_.layout;
    s.zstd_level = options_.level();
    s.codec = options_.codec;
    s.frame_bytes = options_.frame_bytes;
    s.event_time = options_.event_time;
  }
  FramePool* frames = nullptr;
  if (s.layout == Layout::kHourly) {
    frames = PoolFor(s.codec, s.zstd_level);
    if (frames == nullptr) return nullptr;
  }
  return std::make_unique<SegmentBuilder>(std::move(s), frames);
}

Archiver::Part* Archiver::Find(const std::string& topic, int32_t partition) {
  if (last_part_ != nullptr && last_part_->partition == partition && last_part_->topic == topic) {
    return last_part_;
  }
  auto it = parts_.find(kafka::TopicPartition{topic, partition});
  last_part_ = it == parts_.end() ? nullptr : it->second.get();
  return last_part_;
}

bool Archiver::Recover(Part* part) {
  core::Backoff backoff(options_.backoff_initial, options_.backoff_max);
  bool logged = false;
  StatusOr<PartitionRecovery> r = PartitionRecovery{};
  while (true) {
    r = RecoverPartition(store_, options_.group, part->topic, part->partition);
    if (r.ok()) break;
    if (!r.status().retriable()) {
      SetFatal(r.status().WithContext(
          fmt::format("reading the manifests of {}[{}]", part->topic, part->partition)));
      return false;
    }
    if (!logged) {
      ArchiveLog(fmt::format("reading the manifests of {}[{}]: {}; retrying", part->topic,
                             part->partition, r.status().ToString()));
      logged = true;
    }
    if (!core::SleepUnlessStopped(stop_, backoff.Next())) return false;
  }
  part->position = r->next;
  part->redo = std::move(r->pending);
  part->extractor.reset();
  if (part->redo) {
    const SegmentManifest& intent = *part->redo;
    auto kind = core::ParseRecordKind(intent.kind);
    if (!kind) {
      SetFatal(DataLoss(fmt::format("intent of {}[{}] at {} names an unknown kind '{}'",
                                    part->topic, part->partition, intent.first, intent.kind)));
      return false;
    }
    // Kafka must still hold the whole range, or the redo could not rebuild the same objects.
    auto marks = consumer_->WatermarkOffsets(part->topic, part->partition, milliseconds(5000));
    if (marks.ok() && marks->first > intent.first) {
      SetFatal(DataLoss(fmt::format(
          "{}[{}]: the unfinished segment [{}, {}) cannot be redone: Kafka's log now starts at "
          "{} (retention removed records that were never archived)",
          part->topic, part->partition, intent.first, intent.end, marks->first)));
      return false;
    }
    SegmentSettings settings;
    settings.group = options_.group;
    settings.topic = part->topic;
    settings.partition = part->partition;
    settings.kind = *kind;
    settings.layout = intent.layout;
    settings.zstd_level = intent.zstd_level;
    settings.codec = intent.codec;  // a redo rebuilds with the intent's codec, whatever --codec
    settings.frame_bytes = intent.frame_bytes;
    settings.event_time = intent.event_time;
    part->builder = NewBuilder(*part, &settings);
    if (intent.event_time != options_.event_time) {
      part->extractor = std::make_unique<core::EventTimeExtractor>(intent.event_time);
    }
    ArchiveLog(fmt::format("{}[{}]: redoing the unfinished segment [{}, {}) ({} records)",
                           part->topic, part->partition, intent.first, intent.end, intent.records));
  } else {
    part->builder = NewBuilder(*part, nullptr);
    // Records between the archive's end and Kafka's log start were deleted by retention before
    // they were archived: nothing can bring them back, but it must not pass silently.
    if (part->position) {
      auto marks = consumer_->WatermarkOffsets(part->topic, part->partition, milliseconds(5000));
      if (marks.ok() && marks->first > *part->position) {
        lost_to_retention_->Inc(marks->first - *part->position);
        ArchiveLog(fmt::format(
            "WARNING: {}[{}]: offsets [{}, {}) were deleted by Kafka retention before they were "
            "archived; archiving continues at {}",
            part->topic, part->partition, *part->position, marks->first, marks->first));
      }
    }
  }
  if (part->builder == nullptr) return false;
  if (r->done_firsts.size() > options_.manifest_keep) {
    auto pruned = PruneManifests(store_, options_.group, part->topic, part->partition,
                                 r->done_firsts, options_.manifest_keep, 2000);
    if (!pruned.ok()) {
      ArchiveLog(fmt::format("pruning old manifests of {}[{}]: {}", part->topic, part->partition,
                             pruned.status().ToString()));
    }
  }
  return true;
}

std::vector<kafka::TopicPartitionOffset> Archiver::SeekPositions() const {
  std::vector<kafka::TopicPartitionOffset> out;
  for (const auto& [key, part] : parts_) {
    out.push_back({key.topic, key.partition, part->position.value_or(kafka::kOffsetBeginning)});
  }
  return out;
}

std::vector<kafka::TopicPartitionOffset> Archiver::OnRebalance(
    kafka::RebalanceEvent event, const std::vector<kafka::TopicPartitionOffset>& partitions,
    bool lost) {
  if (event == kafka::RebalanceEvent::kRevoke) {
    // Write what we hold while the partitions are still ours; a lost assignment (another
    // member may own them already) or an unfinished redo is left to the next owner.
    for (const auto& p : partitions) {
      Part* part = Find(p.topic, p.partition);
      if (part == nullptr) continue;
      if (lost || part->redo || !fatal_.ok()) {
        Abandon(part);
      } else {
        Cut(part, "revoke");
      }
    }
    DrainWriter();
    ProcessEvents();
    for (const auto& p : partitions) {
      const kafka::TopicPartition key{p.topic, p.partition};
      planner_.Release(p.topic, p.partition);
      writer_->ClearPoison(p.topic, p.partition);
      parts_.erase(key);
      std::erase(to_reset_, key);
      lag_.Forget({key});
    }
    last_part_ = nullptr;
    ArchiveLog(fmt::format("{} {} partition(s)", lost ? "lost" : "revoked", partitions.size()));
    return {};
  }
  std::vector<kafka::TopicPartitionOffset> start;
  const auto now = Clock::now();
  for (const auto& p : partitions) {
    auto kind = kind_of_topic_.find(p.topic);
    if (kind == kind_of_topic_.end()) continue;
    auto part = std::make_unique<Part>();
    part->topic = p.topic;
    part->partition = p.partition;
    part->kind = kind->second;
    part->progress = planner_.Assign(p.topic, p.partition, now);
    part->from_record = event_time_->With({p.topic, "record"});
    part->from_kafka = event_time_->With({p.topic, "kafka"});
    part->from_none = event_time_->With({p.topic, "none"});
    if (!Recover(part.get())) break;  // stopping, or fatal: Run() ends right after
    start.push_back({p.topic, p.partition, part->position.value_or(kafka::kOffsetBeginning)});
    topic_info_loaded_.erase(p.topic);  // another member may have opened days meanwhile
    parts_[kafka::TopicPartition{p.topic, p.partition}] = std::move(part);
  }
  last_part_ = nullptr;
  ArchiveLog(fmt::format("assigned {} partition(s)", start.size()));
  return start;
}

void Archiver::StartSegment(Part* part, int64_t offset, TimePoint now) {
  // Segments tile the partition: each starts where the previous one ended, even when Kafka
  // skips offsets (transaction markers, compaction), so the ledger has no holes to explain.
  part->builder->Start(part->position.value_or(offset));
  part->first_record = now;
}

void Archiver::HandleMessage(const kafka::Message& m, TimePoint now) {
  if (!m.error.ok()) {
    kafka_errors_->Inc();
    kafka_log_.OnError(m.error);
    return;
  }
  if (m.end_of_partition) return;
  Part* part = Find(m.topic, m.partition);
  if (part == nullptr || (part->position && m.offset < *part->position)) {
    stale_->Inc();  // not ours, or fetched before a re-seek
    return;
  }
  if (part->redo && m.offset >= part->redo->end) {
    // The redo range ended without its last record: write what there is; the writer compares
    // it with the intent and stops loudly if records are missing.
    if (part->builder->started()) {
      Cut(part, "redo");
    } else {
      SetFatal(DataLoss(fmt::format(
          "{}[{}]: no record of the unfinished segment [{}, {}) is left in Kafka (first "
          "offset now {})",
          m.topic, m.partition, part->redo->first, part->redo->end, m.offset)));
      return;
    }
  }
  SegmentBuilder* builder = part->builder.get();
  if (!builder->started()) StartSegment(part, m.offset, now);
  core::EventTimeExtractor& extractor = part->extractor ? *part->extractor : extractor_;
  const core::EventTime et = extractor.Extract(builder->settings().kind, m.value, m.timestamp_ms);
  switch (et.source) {
    case core::EventTimeSource::kRecord: part->from_record->Inc(); break;
    case core::EventTimeSource::kKafka: part->from_kafka->Inc(); break;
    case core::EventTimeSource::kNone: part->from_none->Inc(); break;
  }
  std::optional<std::string> id;
  if (builder->settings().layout == Layout::kHourly) {
    const int64_t hour = HourOf(et.epoch_ms);
    if (!part->redo && !builder->HasHour(hour) && !builder->empty() &&
        rotation_.HoursFull(builder->buckets())) {
      Cut(part, "hours");
      builder = part->builder.get();
      StartSegment(part, m.offset, now);
    }
    const int64_t day = DayOfHour(hour);
    if (part->pending_days.insert(day).second) planner_.AddPending(part->topic, day);
  } else if (builder->settings().kind == core::RecordKind::kPin) {
    if (auto s = ids_.String(m.value, "unique_id")) id = std::string(*s);
  } else if (auto n = ids_.Int(m.value, "ind")) {
    id = std::to_string(*n);
  }
  if (Status s = builder->Add(m.offset, m.value, et.epoch_ms, id); !s.ok()) {
    SetFatal(s);
    return;
  }
  part->progress->Observe(et.epoch_ms, now);
  part->last_record = now;
  part->position = m.offset + 1;
  if (part->redo) {
    if (m.offset + 1 >= part->redo->end) Cut(part, "redo");
    return;
  }
  const RotateReason reason = rotation_.AfterAdd(builder->records(), builder->raw_bytes());
  if (reason != RotateReason::kNone) Cut(part, RotateReasonName(reason));
}

void Archiver::Cut(Part* part, std::string_view reason) {
  SegmentBuilder* builder = part->builder.get();
  if (builder == nullptr || !builder->started() || builder->empty()) {
    if (builder != nullptr) builder->Discard();
    return;
  }
  newline_records_->Inc(builder->newline_records());
  auto segment = builder->Finish(*part->position);
  if (!segment.ok()) {
    SetFatal(segment.status());
    return;
  }
  segments_cut_->With({std::string(reason)})->Inc();
  SegmentTask task{std::move(*segment), std::move(part->redo)};
  part->pending_days.clear();  // the segment's days stay pending until the writer reports it
  if (task.stored_intent) {
    part->redo.reset();
    part->extractor.reset();
    part->builder = NewBuilder(*part, nullptr);
    if (part->builder == nullptr) return;
  }
  writer_->Submit(std::move(task), [this] { return GiveUp(); });
}

void Archiver::Abandon(Part* part) {
  if (part->builder != nullptr) part->builder->Discard();
  for (int64_t day : part->pending_days) planner_.RemovePending(part->topic, day);
  part->pending_days.clear();
}

void Archiver::CheckDeadlines(TimePoint now) {
  for (auto& [key, part] : parts_) {
    if (part->redo || part->builder == nullptr || part->builder->empty()) continue;
    const RotateReason reason = rotation_.Due(part->first_record, part->last_record, now);
    if (reason != RotateReason::kNone) Cut(part.get(), RotateReasonName(reason));
  }
}

void Archiver::ProcessEvents() {
  for (WriterEvent& e : writer_->TakeEvents()) {
    const kafka::TopicPartition key{e.topic, e.partition};
    switch (e.kind) {
      case WriterEvent::Kind::kSegmentDone: {
        for (int64_t day : e.days) planner_.RemovePending(e.topic, day);
        for (int64_t day : e.days) {
          if (std::find(e.late_days.begin(), e.late_days.end(), day) == e.late_days.end()) {
            planner_.AddOpenDay(e.topic, day);
          }
        }
        records_->With({e.topic})->Inc(e.records);
        objects_->With({e.topic, "created"})->Inc(e.write.objects_written);
        objects_->With({e.topic, "existing"})->Inc(e.write.objects_existing);
        bytes_->With({e.topic, "raw"})->Inc(e.raw_bytes);
        bytes_->With({e.topic, "stored"})->Inc(e.write.bytes_written);
        segments_written_->With({e.redo ? "redone" : "done"})->Inc();
        write_seconds_->Observe(e.seconds);
        archived_records_ += e.records;
        ++archived_segments_;
        if (e.redo || e.write.objects_existing > 0) {
          ArchiveLog(fmt::format(
              "{}[{}] [{}, {}): {} record(s) archived ({} object(s) created, {} found from an "
              "earlier attempt and verified identical{})",
              e.topic, e.partition, e.first, e.end, e.records, e.write.objects_written,
              e.write.objects_existing,
              e.write.objects_same_content > 0
                  ? fmt::format(", {} of them with the same records in other zstd bytes",
                                e.write.objects_same_content)
                  : ""));
        }
        if (e.late_records > 0) {
          late_->With({e.topic})->Inc(e.late_records);
          std::string days;
          for (int64_t d : e.late_days) days += (days.empty() ? "" : ", ") + DateOfDay(d);
          ArchiveLog(fmt::format(
              "{} late record(s) of {}[{}] for already sealed day(s) {}: archived, the "
              "_SUCCESS marker is left as it was; a backfill of those days picks them up",
              e.late_records, e.topic, e.partition, days));
        }
        if (options_.commit_to_kafka && Find(e.topic, e.partition) != nullptr) {
          consumer_->CommitAsync({{e.topic, e.partition, e.end}}).IgnoreError();  // lag tools
        }
        break;
      }
      case WriterEvent::Kind::kConflict:
        for (int64_t day : e.days) planner_.RemovePending(e.topic, day);
        segments_written_->With({"conflict"})->Inc();
        ArchiveLog(fmt::format(
            "{}[{}]: another archiver's intent holds offset {} ([{}, {})); dropping this "
            "segment and resuming from the lake",
            e.topic, e.partition, e.first, e.write.existing ? e.write.existing->first : e.first,
            e.write.existing ? e.write.existing->end : e.end));
        if (Find(e.topic, e.partition) != nullptr) to_reset_.push_back(key);
        break;
      case WriterEvent::Kind::kSkipped:
        for (int64_t day : e.days) planner_.RemovePending(e.topic, day);
        segments_written_->With({"abandoned"})->Inc();
        break;
      case WriterEvent::Kind::kSealed:
        planner_.Sealed(e.topic, e.day);
        seals_->With({e.topic, e.seal.already_sealed ? "already" : "sealed"})->Inc();
        if (!e.seal.already_sealed) {
          ArchiveLog(fmt::format("sealed {} {}: {} records in {} objects", e.topic,
                                 DateOfDay(e.day), e.seal.records, e.seal.objects));
        }
        break;
      case WriterEvent::Kind::kSealAbandoned: planner_.SealFailed(e.topic, e.day); break;
      case WriterEvent::Kind::kFatal: SetFatal(e.status); break;
    }
  }
  const int64_t retries = writer_->retries();
  store_retries_->Inc(retries - retries_seen_);
  retries_seen_ = retries;
}

bool Archiver::GiveUp() {
  if (!stop_.stop_requested()) return false;
  const auto now = Clock::now();
  if (!stop_seen_) stop_seen_ = now;
  if (now - *stop_seen_ < options_.stop_timeout) return false;
  if (gave_up_) return true;
  gave_up_ = true;
  ArchiveLog(
      "stopping: the lake did not take the last segments in time; they will be redone or "
      "re-read at the next start");
  return true;
}

void Archiver::DrainWriter() {
  while (!writer_->WaitIdle(Clock::now() + milliseconds(100))) {
    if (GiveUp()) writer_->Abort();
  }
}

void Archiver::ResetPartition(const kafka::TopicPartition& key) {
  Part* part = Find(key.topic, key.partition);
  if (part == nullptr) return;
  DrainWriter();  // every segment of the partition still queued is dropped (poisoned)
  ProcessEvents();
  Abandon(part);
  writer_->ClearPoison(key.topic, key.partition);
  if (!Recover(part)) return;
  if (Status s = consumer_->Assign(SeekPositions()); !s.ok()) {
    ArchiveLog("re-seeking: " + s.ToString());
  }
}

void Archiver::LoadTopicInfo(const std::string& topic, TimePoint now) {
  auto retry = topic_info_retry_.find(topic);
  if (retry != topic_info_retry_.end() && now < retry->second) return;
  topic_info_retry_[topic] = now + std::chrono::seconds(30);
  auto cluster = kafka::Describe(options_.brokers, milliseconds(5000));
  if (!cluster.ok()) {
    ArchiveLog("reading the partition count of " + topic + ": " + cluster.status().ToString());
    return;
  }
  int count = 0;
  for (const kafka::TopicInfo& t : cluster->topics) {
    if (t.name == topic && t.error.ok()) count = t.partitions;
  }
  auto days = ListOpenDays(store_, options_.group, topic);
  if (!days.ok()) {
    ArchiveLog("listing the open days of " + topic + ": " + days.status().ToString());
    return;
  }
  planner_.SetPartitionCount(topic, count);
  for (int64_t day : *days) planner_.AddOpenDay(topic, day);
  topic_info_loaded_.insert(topic);
  topic_info_retry_.erase(topic);
}

void Archiver::SealTick(TimePoint now) {
  if (options_.layout != Layout::kHourly || !options_.seal) return;
  std::set<std::string> held;
  for (const auto& [key, part] : parts_) held.insert(key.topic);
  for (const std::string& topic : held) {
    if (topic_info_loaded_.count(topic) == 0) LoadTopicInfo(topic, now);
    if (topic_info_loaded_.count(topic) == 0) continue;
    const std::vector<int64_t> due = planner_.DueDays(topic, now);
    if (due.empty()) continue;
    const int64_t watermark = planner_.Watermark(topic, now).value_or(0);
    for (int64_t day : due) {
      writer_->Submit(SealTask{topic, day, watermark}, [this] { return GiveUp(); });
    }
  }
}

void Archiver::UpdateGauges() {
  const auto now = Clock::now();
  std::map<kafka::TopicPartition, std::optional<int64_t>> next;
  for (const auto& [key, part] : parts_) next[key] = part->position;
  lag_.Update(*consumer_, next);
  std::vector<core::GaugeFamily::Sample> watermarks;
  for (const std::string& topic : planner_.Topics()) {
    if (auto w = planner_.Watermark(topic, now)) {
      watermarks.push_back({{topic}, static_cast<double>(*w) / 1000.0});
    }
  }
  watermarks_->Replace(std::move(watermarks));
}

Status Archiver::Run(std::stop_token stop) {
  RETURN_IF_ERROR(Validate());
  stop_ = stop;
  if (PoolFor(options_.codec, options_.level()) == nullptr) return fatal_;
  ArchiveWriter::Options wo;
  wo.track_days = options_.layout == Layout::kHourly;
  wo.lateness_ms = options_.lateness.count();
  wo.max_queued = options_.max_queued_segments;
  wo.backoff_initial = options_.backoff_initial;
  wo.backoff_max = options_.backoff_max;
  writer_ = std::make_unique<ArchiveWriter>(store_, options_.group, wo);

  kafka::ConsumerOptions co;
  co.brokers = options_.brokers;
  co.group_id = options_.group;
  co.client_id = options_.client_id;
  co.enable_auto_commit = false;
  co.auto_offset_reset = "earliest";
  // Larger fetches than the speed layer's: the archiver is a throughput job (records/s into
  // big objects), not a latency one. Memory stays bounded by the prefetch queue.
  // (16 MiB prefetch queue, 8 MiB fetches: as fast as twice that in bench/archive_bench.sh,
  // ~60 MiB less resident.)
  co.fetch_wake_bytes = 4u << 20;
  co.extra = {{"queued.max.messages.kbytes", "16384"},
              {"fetch.max.bytes", "8388608"},
              {"max.partition.fetch.bytes", "4194304"},
              {"enable.auto.offset.store", "false"},
              {"fetch.wait.max.ms", "100"}};
  for (const auto& [k, v] : options_.kafka_extra) co.extra[k] = v;
  co.on_rebalance = [this](kafka::RebalanceEvent e,
                           const std::vector<kafka::TopicPartitionOffset>& p,
                           bool lost) { return OnRebalance(e, p, lost); };
  auto consumer = kafka::Consumer::Create(co);
  if (!consumer.ok()) {
    writer_.reset();
    return consumer.status();
  }
  consumer_ = std::move(*consumer);
  const std::vector<std::string> topics(options_.topics.begin(), options_.topics.end());
  consumer_->PrefetchMetadata(topics, milliseconds(2000)).IgnoreError();
  if (Status s = consumer_->Subscribe(topics); !s.ok()) {
    writer_.reset();
    return s;
  }
  ArchiveLog(fmt::format("consuming {}/{}/{} from {} as group {}, writing to {} ({} layout)",
                         topics[0], topics[1], topics[2], options_.brokers, options_.group,
                         store_->Describe(), LayoutName(options_.layout)));

  auto now = Clock::now();
  int since_clock = 0;
  while (!stop.stop_requested() && fatal_.ok()) {
    std::optional<kafka::Message> m = consumer_->Poll(milliseconds(100));
    // The clock is read every 32 records while records stream in (a clock read cost as much as
    // appending a pin): idle and age deadlines are milliseconds apart, records microseconds.
    if (!m || ++since_clock >= 32) {
      now = Clock::now();
      since_clock = 0;
    }
    if (m) HandleMessage(*m, now);
    if (now < next_deadline_check_) continue;
    next_deadline_check_ = now + milliseconds(50);
    kafka_log_.Check(*consumer_);
    CheckDeadlines(now);
    ProcessEvents();
    while (!to_reset_.empty() && fatal_.ok()) {
      const kafka::TopicPartition key = to_reset_.back();
      to_reset_.pop_back();
      ResetPartition(key);
    }
    if (now >= next_seal_tick_) {
      next_seal_tick_ = now + std::chrono::seconds(1);
      SealTick(now);
      UpdateGauges();
    }
  }
  if (fatal_.ok()) {
    for (auto& [key, part] : parts_) {
      if (part->redo) {
        Abandon(part.get());
      } else {
        Cut(part.get(), "stop");
      }
    }
    DrainWriter();
    ProcessEvents();
  } else {
    writer_->Abort();
  }
  Status closed = consumer_->Close();
  writer_.reset();
  ArchiveLog(fmt::format("stopped: {} records archived in {} segments", archived_records_.load(),
                         archived_segments_.load()));
  if (!fatal_.ok()) return fatal_;
  return closed;
}

}  // namespace pinpipe::archive

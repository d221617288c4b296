#include "archive/segment_builder.h"

#include <algorithm>
#include <cstring>

#include "archive/archive_layout.h"

namespace pinpipe::archive {

SegmentBuilder::SegmentBuilder(SegmentSettings settings, FramePool* frames)
    : settings_(std::move(settings)), frames_(frames) {
  PINPIPE_CHECK(settings_.layout == Layout::kOriginal ||
                (frames_ != nullptr && frames_->level() == settings_.zstd_level &&
                 frames_->codec() == settings_.codec))
      << "SegmentBuilder needs a frame pool of level " << settings_.zstd_level << " and codec "
      << CodecName(settings_.codec);
}

void SegmentBuilder::Start(int64_t first) {
  Discard();
  started_ = true;
  first_ = first;
}

void SegmentBuilder::Discard() {
  started_ = false;
  records_ = 0;
  raw_bytes_ = 0;
  min_event_ms_.reset();
  max_event_ms_.reset();
  buckets_.clear();
  records_by_key_.clear();
  days_.clear();
  day_records_.clear();
  newline_records_ = 0;
}

void SegmentBuilder::FlushFrame(Bucket* bucket) {
  if (bucket->pending.empty()) return;
  std::string raw;
  raw.swap(bucket->pending);
  bucket->frames.push_back(frames_->Submit(std::move(raw)));
  // The next frame's buffer grows to about frame_bytes again: reserve it at once.
  bucket->pending.reserve(static_cast<size_t>(settings_.frame_bytes) + 4096);
}

Status SegmentBuilder::Add(int64_t offset, std::string_view value, int64_t event_ms,
                           const std::optional<std::string>& id) {
  PINPIPE_CHECK(started_) << "SegmentBuilder::Add before Start";
  ++records_;
  min_event_ms_ = std::min(min_event_ms_.value_or(event_ms), event_ms);
  max_event_ms_ = std::max(max_event_ms_.value_or(event_ms), event_ms);
  if (settings_.layout == Layout::kOriginal) {
    raw_bytes_ += static_cast<int64_t>(value.size());
    const kafka::Partition partition(settings_.partition);
    records_by_key_[OriginalObjectKey(settings_.kind, id, partition, kafka::Offset(offset))] =
        std::string(value);
    return Status::Ok();
  }
  const int64_t hour = HourOf(event_ms);
  const int64_t day = DayOfHour(hour);
  days_.insert(day);
  ++day_records_[day];
  Bucket& bucket = buckets_[hour];
  const size_t start = bucket.pending.size();
  bucket.pending.append(value);
  // Two memchr scans: find_first_of("\r\n") would run a search per byte of the record.
  if (std::memchr(value.data(), '\n', value.size()) != nullptr ||
      std::memchr(value.data(), '\r', value.size()) != nullptr) {
    std::replace_if(
        bucket.pending.begin() + static_cast<std::ptrdiff_t>(start), bucket.pending.end(),
        [](char c) { return c == '\r' || c == '\n'; }, ' ');
    ++newline_records_;
  }
  bucket.pending.push_back('\n');
  ++bucket.records;
  bucket.raw_bytes += static_cast<int64_t>(value.size()) + 1;
  raw_bytes_ += static_cast<int64_t>(value.size()) + 1;
  if (static_cast<int64_t>(bucket.pending.size()) >= settings_.frame_bytes) FlushFrame(&bucket);
  return Status::Ok();
}

StatusOr<Segment> SegmentBuilder::Finish(int64_t end) {
  PINPIPE_CHECK(started_ && end > first_) << "SegmentBuilder::Finish without a range";
  Segment s;
  SegmentManifest& m = s.manifest;
  m.group = settings_.group;
  m.topic = settings_.topic;
  m.partition = settings_.partition;
  m.kind = std::string(core::RecordKindName(settings_.kind));
  m.first = first_;
  m.end = end;
  m.records = records_;
  m.layout = settings_.layout;
  m.zstd_level = settings_.zstd_level;
  m.codec = settings_.codec;
  m.frame_bytes = settings_.frame_bytes;
  m.event_time = settings_.event_time;
  m.min_event_ms = min_event_ms_;
  m.max_event_ms = max_event_ms_;
  std::vector<std::string> keys;
  if (settings_.layout == Layout::kHourly) {
    for (auto& [hour, bucket] : buckets_) {
      FlushFrame(&bucket);
      SegmentObject o;
      o.key = SegmentObjectKey(settings_.topic, hour, kafka::Partition{settings_.partition},
                               kafka::Offset{first_}, settings_.codec);
      for (auto& frame : bucket.frames) {
        StatusOr<std::string> bytes = frame.get();
        if (!bytes.ok()) {
          Discard();
          return bytes.status();
        }
        o.bytes += *bytes;
      }
      o.records = bucket.records;
      o.raw_bytes = bucket.raw_bytes;
      o.day = DayOfHour(hour);
      m.objects.push_back({o.key, o.records, o.raw_bytes});
      keys.push_back(o.key);
      s.objects.push_back(std::move(o));
    }
    s.day_records = day_records_;
  } else {
    for (auto& [key, value] : records_by_key_) {
      SegmentObject o;
      o.key = key;
      o.raw_bytes = static_cast<int64_t>(value.size());
      o.bytes = std::move(value);
      o.records = 1;
      keys.push_back(key);
      s.objects.push_back(std::move(o));
    }
  }
  m.object_count = static_cast<int64_t>(keys.size());
  m.keys_digest = KeysDigest(keys);
  Discard();
  return s;
}

}  // namespace pinpipe::archive

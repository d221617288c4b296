// SegmentBuilder: collects the records of one partition's open segment and turns them into the
// segment's objects and intent (SegmentManifest).
//
// Hourly layout: records are grouped by event hour; each hour bucket becomes one object
// <topic>/dt=/hr=/<partition>-<segment first offset>.jsonl.zst holding the bucket's records in
// offset order, one per line. A segment spanning several hours therefore writes several objects
// with the same file name under different dt=/hr= folders. Lines are the Kafka values byte for
// byte, except that CR and LF bytes (in valid JSON only possible as whitespace between tokens)
// become spaces so that a pretty-printed record cannot break the one-record-per-line framing.
// A bucket's lines are compressed in frames of about frame_bytes as they come (FramePool, on
// worker threads), so the builder holds compressed data plus at most one uncompressed frame per
// bucket (and the frames the pool is still working on).
//
// Original layout: one object per record, named by OriginalObjectKey; within a segment a later
// record with the same name replaces the earlier one (as a later put did in the original).
//
// Everything the builder produces is a function of the records and the SegmentSettings, which
// the intent records, so a redo from the intent rebuilds identical objects. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <future>
#include "archive/segment_manifest.h"

#include "archive/frame_pool.h"
#include "core/record_schema.h"
#include "core/status.h"

namespace pinpipe::archive {

// What shapes a segment's objects; stored in its intent.
struct SegmentSettings {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  core::RecordKind kind = core::RecordKind::kPin;
  Layout layout = Layout::kHourly;
  int zstd_level = 3;  // the codec's level (zstd or gzip)
  ArchiveCodec codec = ArchiveCodec::kZstd;
  int64_t frame_bytes = 1 << 20;
  core::EventTimePolicy event_time;
};

struct SegmentObject {
  std::string key;
  std::string bytes;  // exactly what is stored
  int64_t records = 0;
  int64_t raw_bytes = 0;
  std::optional<int64_t> day;  // hourly layout: the event day of the object
};

// A finished segment: its intent and its objects (same order as manifest.objects for hourly).
struct Segment {
  SegmentManifest manifest;
  std::vector<SegmentObject> objects;
  // Hourly layout: records per event day (day number -> records).
  std::map<int64_t, int64_t> day_records;
};

class SegmentBuilder {
 public:
  // `frames` (hourly layout) must have settings.zstd_level and settings.codec and outlive the
  // builder.
  SegmentBuilder(SegmentSettings settings, FramePool* frames);

  // Opens a segment whose range starts at `first`.
  void Start(int64_t first);
  bool started() const { return started_; }
  bool empty() const { return records_ == 0; }

  // Adds the record at `offset` (greater than any added before). `event_ms` places it (hourly
  // layout); `id` names it (original layout). Errors: none so far (compression errors surface in
  // Finish); the Status leaves room for a builder that can refuse a record.
  Status Add(int64_t offset, std::string_view value, int64_t event_ms,
             const std::optional<std::string>& id);

  // Hourly layout: whether a record of `hour` would go to an existing bucket.
  bool HasHour(int64_t hour) const { return buckets_.count(hour) != 0; }
  size_t buckets() const { return settings_.layout == Layout::kHourly ? buckets_.size() : 0; }
  int64_t records() const { return records_; }
  int64_t raw_bytes() const { return raw_bytes_; }
  int64_t first() const { return first_; }
  // Event days of the records added so far (hourly layout).
  const std::set<int64_t>& days() const { return days_; }
  // Records of the open segment whose CR/LF bytes were replaced (see the class comment).
  int64_t newline_records() const { return newline_records_; }
  const SegmentSettings& settings() const { return settings_; }

  // Closes the segment as [first, end) (end > the last offset added) and returns it; the builder
  // is then empty and not started. Errors: Internal when compression fails.
  StatusOr<Segment> Finish(int64_t end);
  // Drops the open segment.
  void Discard();

 private:
  struct Bucket {
    std::string pending;  // uncompressed lines not yet in a frame
    std::vector<std::future<StatusOr<std::string>>> frames;  // in order
    int64_t records = 0;
    int64_t raw_bytes = 0;
  };
  void FlushFrame(Bucket* bucket);

  SegmentSettings settings_;
  FramePool* frames_;
  bool started_ = false;
  int64_t first_ = 0;
  int64_t records_ = 0;
  int64_t raw_bytes_ = 0;
  std::optional<int64_t> min_event_ms_;
  std::optional<int64_t> max_event_ms_;
  std::map<int64_t, Bucket> buckets_;                  // hourly: by hour
  std::map<std::string, std::string> records_by_key_;  // original: key -> record
  std::set<int64_t> days_;
  std::map<int64_t, int64_t> day_records_;
  int64_t newline_records_ = 0;
};

}  // namespace pinpipe::archive

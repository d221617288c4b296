// SegmentManifest and DoneMarker: the archiver's ledger in the lake, one pair per segment.
//
// A segment is a contiguous offset range [first, end) of one partition. Before any of its objects
// is written, its intent (SegmentManifest, IntentKey) is created with if_none_match; after all
// objects are durable, its DoneMarker (DoneKey). The intent holds everything needed to rebuild
// the objects byte for byte from Kafka (range, layout, compression and event-time settings) and
// what the rebuild must produce (object keys with record counts), so a redo can check itself.
// JSON, one object per file; Parse accepts what ToJson writes (unknown keys are ignored so newer
// versions can add fields). Plain value types; thread-safe as values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/archive_codec.h"
#include "core/event_time.h"
#include "core/status.h"

namespace pinpipe::archive {

enum class Layout : uint8_t {
  kHourly,    // <topic>/dt=/hr=/<partition>-<first>.jsonl.zst, one object per event hour
  kOriginal,  // one object per record, named after its id (the original project's layout)
};
std::string_view LayoutName(Layout layout);  // "hourly", "original"
std::optional<Layout> ParseLayout(std::string_view name);

struct ManifestObject {
  std::string key;
  int64_t records = 0;
  int64_t raw_bytes = 0;  // uncompressed JSONL bytes
  friend bool operator==(const ManifestObject&, const ManifestObject&) = default;
};

struct SegmentManifest {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  std::string kind;  // "pin", "geo", "user"
  int64_t first = 0;
  int64_t end = 0;      // exclusive; the offset after the segment's last record
  int64_t records = 0;  // records in [first, end) (fewer than end-first if offsets skip)
  Layout layout = Layout::kHourly;
  int zstd_level = 3;                        // the level of `codec`
  ArchiveCodec codec = ArchiveCodec::kZstd;  // "codec" in the JSON, absent for zstd
  int64_t frame_bytes = 0;
  core::EventTimePolicy event_time;
  std::optional<int64_t> min_event_ms;
  std::optional<int64_t> max_event_ms;
  // Hourly layout: every object, in key order. Original layout: empty (one object per record
  // would make the intent as large as the data); object_count and keys_digest describe them.
  std::vector<ManifestObject> objects;
  int64_t object_count = 0;
  std::string keys_digest;  // FNV-1a 64 of the keys, '\n'-joined in key order, 16 hex digits

  std::string ToJson() const;
  // Errors: InvalidArgument naming the first missing or mistyped field.
  static StatusOr<SegmentManifest> Parse(std::string_view json);

  friend bool operator==(const SegmentManifest&, const SegmentManifest&) = default;
};

struct DoneObject {
  std::string key;
  uint64_t size = 0;  // stored (compressed) bytes
};

struct DoneMarker {
  int64_t first = 0;
  int64_t end = 0;
  int64_t records = 0;
  int64_t objects_written = 0;      // created by the attempt that finished the segment
  int64_t objects_existing = 0;     // already there from an earlier attempt (verified identical)
  std::string completed_at;         // ISO time, informational
  std::vector<DoneObject> objects;  // hourly layout: stored size of each object

  std::string ToJson() const;
  static StatusOr<DoneMarker> Parse(std::string_view json);
};

// FNV-1a 64 of `keys` joined by '\n', as 16 lowercase hex digits.
std::string KeysDigest(const std::vector<std::string>& keys);

}  // namespace pinpipe::archive

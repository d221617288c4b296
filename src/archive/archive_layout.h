// The archive's object names: where the archiver puts records, manifests and day markers in the
// lake. Every name is a pure function of the data (topic, partition, offsets, event time, record
// ids), so a re-run after a crash computes exactly the same names. docs/design.md ("Archiver")
// shows the whole layout; in short:
//
//   <topic>/dt=YYYY-MM-DD/hr=HH/<partition>-<first offset, 20 digits>.jsonl.zst   records
//                                  (.jsonl.gz with `pinpipe archive --codec gzip`)
//   <topic>/dt=YYYY-MM-DD/_SUCCESS                                                   day sealed
//                                  (its content: SuccessMarker)
//   _archiver/<group>/<topic>/<partition>/<first offset, 20 digits>.json             intent
//   _archiver/<group>/<topic>/<partition>/<first offset, 20 digits>.json.done        done
//   _archiver/<group>/<topic>/_open_days/YYYY-MM-DD                                  day to seal
//
// This header is the one place these names (and the _SUCCESS marker's content) are spelled: the
// batch job, the scheduler's wait_sealed and the dashboard read the lake through it.
// Times are UTC; hours and days as in core/civil_day.h. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "archive/archive_codec.h"
#include "core/civil_day.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "kafka/topic_partition.h"

namespace pinpipe::archive {

// The day math the names are made of (core/civil_day.h), under the names the archive code uses.
using core::DateOfDay;
using core::DayOf;
using core::DayOfHour;
using core::HourOf;
using core::IsoTime;
using core::kMillisPerDay;
using core::kMillisPerHour;
using core::ParseDate;

// An offset as exactly 20 decimal digits (int64 fits), so that names sort like the offsets.
std::string OffsetDigits(int64_t offset);

// <topic>/dt=YYYY-MM-DD/hr=HH/<partition>-<first:20>.jsonl.zst (.jsonl.gz with kGzip)
std::string SegmentObjectKey(std::string_view topic, int64_t hour, kafka::Partition partition,
                             kafka::Offset first, ArchiveCodec codec = ArchiveCodec::kZstd);
// <topic>/dt=YYYY-MM-DD/ and its _SUCCESS marker.
std::string DayPrefix(std::string_view topic, int64_t day);
std::string SuccessKey(std::string_view topic, int64_t day);

// The content of a day's _SUCCESS marker (SuccessKey): what the archiver knew when it sealed the
// day, as one JSON object on one line, e.g.
//   {"topic":"pinterest","date":"2024-01-31","records":1200,"objects":24,"bytes":91234,
//    "watermark":"2024-02-01T01:00:03.000Z","lateness_ms":3600000,
//    "sealed_at":"2024-02-01T01:00:05.123Z","group":"pinpipe-archiver"}
// `records` is what the batch job checks its own count against (docs/design.md, "Sealing days").
struct SuccessMarker {
  std::string topic;
  int64_t day = 0;          // "date": YYYY-MM-DD
  int64_t records = 0;      // records in the day's objects
  int64_t objects = 0;      // record objects under DayPrefix
  int64_t bytes = 0;        // their compressed size
  std::string watermark;    // IsoTime of the event-time watermark that let the day be sealed
  int64_t lateness_ms = 0;  // the allowed lateness the archiver sealed with
  std::string sealed_at;    // IsoTime of the wall clock at sealing
  std::string group;        // the archiver's consumer group
  friend bool operator==(const SuccessMarker&, const SuccessMarker&) = default;
};
// The marker's bytes: the object above and a newline.
std::string FormatSuccessMarker(const SuccessMarker& marker);
// The inverse of FormatSuccessMarker. Fields it does not know are ignored (a later archiver may
// add some). InvalidArgument for anything else: not JSON, not an object, a missing field or one
// of the wrong type, a date that is not a valid YYYY-MM-DD, a negative count; so also for an
// empty marker (as another tool, or a test, may write), which carries no count.
StatusOr<SuccessMarker> ParseSuccessMarker(std::string_view content);

// The parts of a SegmentObjectKey; nullopt for any other name (e.g. _SUCCESS).
struct SegmentObjectName {
  std::string topic;
  int64_t hour = 0;
  int32_t partition = 0;
  int64_t first = 0;
  ArchiveCodec codec = ArchiveCodec::kZstd;  // by the extension
  friend bool operator==(const SegmentObjectName&, const SegmentObjectName&) = default;
};
std::optional<SegmentObjectName> ParseSegmentObjectKey(std::string_view key);

// Manifests of one partition: _archiver/<group>/<topic>/<partition>/ and the two objects of a
// segment in it.
std::string ManifestPrefix(std::string_view group, std::string_view topic, int32_t partition);
std::string IntentKey(std::string_view group, std::string_view topic, kafka::Partition partition,
                      kafka::Offset first);
std::string DoneKey(std::string_view group, std::string_view topic, kafka::Partition partition,
                    kafka::Offset first);

// One entry of a ManifestPrefix listing: "<first:20>.json" (intent) or ".json.done" (done).
struct ManifestName {
  int64_t first = 0;
  bool done = false;
};
std::optional<ManifestName> ParseManifestName(std::string_view name_after_prefix);

// Days with archived records that are not sealed yet: _archiver/<group>/<topic>/_open_days/<date>.
std::string OpenDayPrefix(std::string_view group, std::string_view topic);
std::string OpenDayKey(std::string_view group, std::string_view topic, int64_t day);

// The original project's layout (--layout original): one object per record, named after the
// record's id, e.g. "pinterest_data_<unique_id>.json" at the root as the seed's batch consumer
// wrote it. Geo and user records (the seed archived pins only) go to the folders
// "geolocation_data/geolocation_data_<ind>.json" and "user_data/user_data_<ind>.json", so that
// the seed's Spark job, which reads "<bucket>/*.json", still sees only pins. A record whose id is
// missing or not a plain id (raw records are archived unvalidated) is named after its position:
// "<prefix>invalid_<partition>-<offset:20>.json". `id` is the record's unique_id (pin) or ind
// (geo, user) as RecordFieldReader read it, or nullopt.
std::string OriginalObjectKey(core::RecordKind kind, const std::optional<std::string>& id,
                              kafka::Partition partition, kafka::Offset offset);

// True for an id that may appear in an object name as it is: 1 to 64 of [0-9A-Za-z_-].
bool IsPlainId(std::string_view id);

}  // namespace pinpipe::archive

// EventTimeExtractor: the event time of a raw record. The archiver files a record under it (its
// dt=/hr= folder and the day-sealing watermark) and the speed layer stores its UTC day as the
// row's `dt`, so both layers put a record on the same day (docs/design.md "Serving layer").
//
// Rule (docs/design.md "Archiver / event time"): the record's own timestamp field when it is
// present and valid, else the Kafka timestamp (the producer's CreateTime, i.e. ingestion time).
//   - the record's field is its schema's `event_time_field` (core/record_schema.h): geo
//     `timestamp`, user `date_joined`; pin records carry none: always the Kafka timestamp;
//   - "valid" = a JSON string in one of the record timestamp forms (core/timestamp_parser.h,
//     offsets converted to UTC, truncated to milliseconds) that lies within the policy's window
//     around the Kafka timestamp: not more than max_lag before it and not more than max_lead
//     after it (0 = no bound on that side). Outside the window the record's field is not taken
//     as the time of the event (the emulator replays source rows whose geo timestamps are years
//     old and whose date_joined is when the user joined, not when the post was made) and the
//     Kafka timestamp is used;
//   - no usable time at all (Kafka timestamp absent, -1): epoch 0 (1970-01-01, hr=00).
// The record is not validated (the batch job does that); only the one field is read.
// Not thread-safe (owns a RecordFieldReader).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/civil_day.h"
#include "core/record_fields.h"
#include "core/record_schema.h"

namespace pinpipe::core {

struct EventTimePolicy {
  int64_t max_lag_ms = 7 * 24 * 3600 * 1000LL;  // record time at most this far before Kafka's
  int64_t max_lead_ms = 3600 * 1000LL;          // ... and at most this far after it
  friend bool operator==(const EventTimePolicy&, const EventTimePolicy&) = default;
};

enum class EventTimeSource : uint8_t { kRecord, kKafka, kNone };

struct EventTime {
  int64_t epoch_ms = 0;
  EventTimeSource source = EventTimeSource::kNone;
  friend bool operator==(const EventTime&, const EventTime&) = default;
};

// A record timestamp ("2020-08-28 03:52:47", ISO 8601 with T, fraction, Z or offset) as UTC
// epoch milliseconds (fraction truncated); nullopt when it does not parse.
std::optional<int64_t> RecordTimestampToEpochMs(std::string_view text);

class EventTimeExtractor {
 public:
  explicit EventTimeExtractor(EventTimePolicy policy) : policy_(policy) {}

  EventTime Extract(RecordKind kind, std::string_view value, int64_t kafka_timestamp_ms);

  const EventTimePolicy& policy() const { return policy_; }

  // The UTC day (days since 1970-01-01) of Extract()'s event time: the archive's dt= folder and
  // the speed layer's dt column.
  int64_t Day(RecordKind kind, std::string_view value, int64_t kafka_timestamp_ms) {
    return DayOf(Extract(kind, value, kafka_timestamp_ms).epoch_ms);
  }

 private:
  EventTimePolicy policy_;
  RecordFieldReader reader_;
};

}  // namespace pinpipe::core

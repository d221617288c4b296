// RotationPolicy: when the archiver closes a partition's open segment (and so its objects).
//
// A segment is cut when it reaches max_records or max_bytes (raw record bytes), when its
// partition has delivered nothing for `idle` (a quiet topic's records become durable), when it is
// older than max_age (a trickle that never goes idle is still written regularly), or - hourly
// layout - before a record would open a bucket beyond max_hours (records spread over many event
// hours would otherwise make one segment write thousands of small objects). Pure logic with the
// time passed in, so tests need no sleeping. Thread-safe (const after construction).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pinpipe::archive {

struct RotationLimits {
  int64_t max_records = 100000;
  int64_t max_bytes = 64LL << 20;
  std::chrono::milliseconds idle{30000};
  std::chrono::milliseconds max_age{300000};
  size_t max_hours = 24;
};

enum class RotateReason : uint8_t { kNone, kRecords, kBytes, kIdle, kAge, kHours };
std::string_view RotateReasonName(RotateReason reason);

class RotationPolicy {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit RotationPolicy(RotationLimits limits) : limits_(limits) {}

  // After a record was added: kRecords / kBytes when the segment is full, else kNone.
  RotateReason AfterAdd(int64_t records, int64_t bytes) const;
  // Before adding a record of an hour the segment has no bucket for, with `hours` buckets open.
  bool HoursFull(size_t hours) const { return hours >= limits_.max_hours; }
  // Time-based cut of a non-empty segment whose first record came at `first` and last at `last`.
  RotateReason Due(TimePoint first, TimePoint last, TimePoint now) const;
  // The earliest time at which Due() turns true for that segment.
  TimePoint Deadline(TimePoint first, TimePoint last) const;

  const RotationLimits& limits() const { return limits_; }

 private:
  RotationLimits limits_;
};

}  // namespace pinpipe::archive

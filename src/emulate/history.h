// History: `pinpipe emulate --history 3d` fills Kafka with a short past, so that on a fresh state
// the batch layer has whole, sealed days to load at once (docs/design.md, "History").
//
// The period (HistoryPeriodOf): a span that is a whole number of days covers that many whole UTC
// days before today plus today until `now` ([today - N days, now)); any other span is the last
// span up to now ([now - span, now)). So `3d` gives three complete days for the batch layer and a
// timeline without a gap up to the live emulator's first post.
//
// The schedule (HistorySchedule): each UTC hour slot of the period (clipped at both ends) gets
//   posts = rate * (1 + swing * sin(2 pi (h + 0.5 - 14) / 24)) * (slot length / 1 h)
// posts, h its UTC hour: a daily cycle around `posts_per_hour` with its peak at 20:00 UTC and its
// low at 08:00 (swing 0: flat); fractions are carried to the next slot, so a whole day gets
// 24 x rate posts (give or take the one carried). Within a slot the times are uniform random
// milliseconds, sorted. Post n (0-based, in time order) is source post PickPost(seed, n, count)
// (emulator.h, as the live emulator picks) sent as a NEW post with index/ind first_index + n and
// a unique_id derived from it (distinct_ids.h): history posts never collide with the source
// posts the live emulator replays (which would make them duplicates downstream, and the speed
// layer's live rows would all be de-duplicated away), nor with each other; running the same
// history again gives the same ids, so the layers de-duplicate it. Everything is a pure function
// of (options, source count): the same seed gives the same posts and times.
//
// The loader (LoadHistory) validates each record with core::RecordValidator (the API's rules)
// and produces the valid ones with the record's Kafka key and the exact record bytes through
// kafka::Producer::ProduceAt, the post's time as the Kafka timestamp of its pin, geo and user
// records (their own geo `timestamp` and user `date_joined` stay as in the source rows; the
// archiver and the speed layer file them by the Kafka time, since those are years away from it,
// outside the event-time window). Records that fail validation are counted, not produced.
//
// Thread-safety: HistorySchedule is a value (one thread); LoadHistory uses the producer from
// the calling thread and its delivery thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "core/record_schema.h"
#include "core/status.h"
#include "emulate/prng.h"
#include "emulate/source_posts.h"
#include "kafka/producer.h"

namespace pinpipe::emulate {

// History post n gets index kHistoryFirstIndex + n: far above the source tables' indexes
// (1..rows), and 1.1 billion posts below kMaxDistinctIndex.
inline constexpr int64_t kHistoryFirstIndex = 1'000'000'000;

struct HistoryPeriod {
  int64_t start_ms = 0;  // inclusive
  int64_t end_ms = 0;    // exclusive (= now)
};

// See the header comment. InvalidArgument when span <= 0 or now is not after the period start.
StatusOr<HistoryPeriod> HistoryPeriodOf(int64_t now_ms, std::chrono::seconds span);

struct HistoryOptions {
  HistoryPeriod period;
  double posts_per_hour = 400;  // the mean rate
  double daily_swing = 0.5;     // 0..1: the daily cycle's amplitude, relative to the mean
  uint64_t seed = 42;
  int64_t first_index = kHistoryFirstIndex;
};

struct HistoryPost {
  int64_t n = 0;             // 0-based, in time order
  int64_t timestamp_ms = 0;  // the Kafka timestamp of its three records
  size_t source = 0;         // index into the source posts
  int64_t index = 0;         // its index/ind (first_index + n)
};

class HistorySchedule {
 public:
  // InvalidArgument for a rate < 0, a swing outside [0, 1], an empty period, or more posts than
  // the index range holds (first_index + total - 1 > kMaxDistinctIndex).
  static StatusOr<HistorySchedule> Create(const HistoryOptions& options, size_t source_count);

  // The next post in time order; false when the period is done.
  bool Next(HistoryPost* post);

  int64_t total_posts() const { return total_; }
  // Posts per UTC day ("YYYY-MM-DD" -> posts) of the whole schedule.
  const std::map<std::string, int64_t>& posts_per_day() const { return per_day_; }

  // The posts the slot [slot_start, slot_end) gets given the carried fraction (updated): the
  // rule above, exposed for tests.
  static int64_t SlotPosts(const HistoryOptions& options, int64_t slot_start_ms,
                           int64_t slot_end_ms, double* carry);

 private:
  HistorySchedule(const HistoryOptions& options, size_t source_count)
      : options_(options), source_count_(source_count) {}
  void FillSlot();

  HistoryOptions options_;
  size_t source_count_ = 0;
  int64_t total_ = 0;
  std::map<std::string, int64_t> per_day_;
  // Iteration state.
  int64_t slot_start_ = 0;  // the next slot to fill
  double carry_ = 0;
  int64_t next_n_ = 0;
  std::vector<int64_t> slot_times_;  // the current slot's times, sorted
  size_t slot_pos_ = 0;
};

struct HistoryTopics {
  std::string pin = core::DefaultTopic(core::RecordKind::kPin);
  std::string geo = core::DefaultTopic(core::RecordKind::kGeo);
  std::string user = core::DefaultTopic(core::RecordKind::kUser);
};

struct HistoryStats {
  int64_t posts = 0;
  std::array<int64_t, 3> produced{};  // per kind (pin, geo, user): acknowledged by Kafka
  std::array<int64_t, 3> rejected{};  // failed validation: not produced
  std::array<int64_t, 3> failed{};    // produced, but the delivery failed
  std::string first_rejection;        // "pin index 1000000017: field: msg (type)"
  std::string first_failure;
  double seconds = 0;
  int64_t records_produced() const { return produced[0] + produced[1] + produced[2]; }
  int64_t records_rejected() const { return rejected[0] + rejected[1] + rejected[2]; }
  int64_t records_failed() const { return failed[0] + failed[1] + failed[2]; }
};

// Produces the whole schedule (see the header comment), waits for every delivery (Flush up to
// `flush_timeout`), and returns the counts. Stops early when stop is requested on `stop` (what was
// produced is flushed). A full producer queue is waited out. Errors: a Produce that fails for
// another reason than a full queue (the producer closed or fatal), or a Flush that times out;
// failed deliveries are counted, not errors. `progress` (may be null) gets a line every ~10% of
// the posts.
StatusOr<HistoryStats> LoadHistory(const std::vector<SourcePost>& posts, HistorySchedule& schedule,
                                   const HistoryTopics& topics, kafka::Producer& producer,
                                   std::stop_token stop, std::chrono::milliseconds flush_timeout,
                                   std::ostream* progress);

// The summary lines printed by `pinpipe emulate --history`.
std::string FormatHistorySummary(const HistoryOptions& options, const HistorySchedule& schedule,
                                 const HistoryStats& stats);

}  // namespace pinpipe::emulate

#include "emulate/history.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <ostream>
#include <thread>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "core/mutex.h"
#include "core/record_validator.h"
#include "emulate/distinct_ids.h"
#include "emulate/emulator.h"

namespace pinpipe::emulate {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kPeakHour = 20;  // the daily cycle's peak (UTC); its low is 12 hours away

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The slot [start, end) of the hour that holds `t`, clipped to the period.
int64_t SlotEnd(const HistoryPeriod& period, int64_t slot_start) {
  const int64_t hour_end = (FloorDiv(slot_start, core::kMillisPerHour) + 1) * core::kMillisPerHour;
  return std::min(hour_end, period.end_ms);
}

uint64_t SlotSeed(uint64_t seed, int64_t slot_start) {
  uint64_t state = seed ^ 0x486973746f7279ULL;  // "History"
  state += static_cast<uint64_t>(slot_start) * 0x9e3779b97f4a7c15ULL;
  return SplitMix64(state);
}

}  // namespace

StatusOr<HistoryPeriod> HistoryPeriodOf(int64_t now_ms, std::chrono::seconds span) {
  if (span.count() <= 0) return InvalidArgument("--history: the span must be positive");
  const int64_t span_ms = span.count() * 1000;
  HistoryPeriod period;
  period.end_ms = now_ms;
  if (span_ms % core::kMillisPerDay == 0) {
    const int64_t today = FloorDiv(now_ms, core::kMillisPerDay);
    period.start_ms = (today - span_ms / core::kMillisPerDay) * core::kMillisPerDay;
  } else {
    period.start_ms = now_ms - span_ms;
  }
  if (period.start_ms >= period.end_ms) {
    return InvalidArgument("--history: the period is empty");
  }
  return period;
}

int64_t HistorySchedule::SlotPosts(const HistoryOptions& options, int64_t slot_start_ms,
                                   int64_t slot_end_ms, double* carry) {
  const int64_t hour_of_day = FloorDiv(slot_start_ms, core::kMillisPerHour) % 24;
  const double factor =
      1.0 + options.daily_swing *
                std::sin(2 * kPi * (static_cast<double>(hour_of_day) + 0.5 - (kPeakHour - 6)) / 24);
  const double fraction =
      static_cast<double>(slot_end_ms - slot_start_ms) / static_cast<double>(core::kMillisPerHour);
  // A tiny epsilon: 24 slots of a whole day add up to exactly 24 x rate despite rounding.
  const double expected = options.posts_per_hour * factor * fraction + *carry;
  const auto posts = static_cast<int64_t>(std::floor(expected + 1e-9));
  *carry = std::max(0.0, expected - static_cast<double>(posts));
  return posts;
}

StatusOr<HistorySchedule> HistorySchedule::Create(const HistoryOptions& options,
                                                  size_t source_count) {
  if (!(options.posts_per_hour >= 0) || !std::isfinite(options.posts_per_hour)) {
    return InvalidArgument("--history-posts-per-hour must be a number >= 0");
  }
  if (!(options.daily_swing >= 0 && options.daily_swing <= 1)) {
    return InvalidArgument("--history-daily-swing must be within [0, 1]");
  }
  if (options.period.start_ms >= options.period.end_ms) {
    return InvalidArgument("history: the period is empty");
  }
  if (source_count == 0) return InvalidArgument("history: no source posts");
  if (options.first_index < 0) return InvalidArgument("history: negative first index");
  HistorySchedule schedule(options, source_count);
  double carry = 0;
  for (int64_t start = options.period.start_ms; start < options.period.end_ms;) {
    const int64_t end = SlotEnd(options.period, start);
    const int64_t posts = SlotPosts(options, start, end, &carry);
    schedule.total_ += posts;
    if (posts > 0) schedule.per_day_[core::DateOfDay(core::DayOf(start))] += posts;
    start = end;
  }
  if (schedule.total_ > 0 && options.first_index + schedule.total_ - 1 > kMaxDistinctIndex) {
    return InvalidArgument(fmt::format(
        "history: {} posts do not fit the index range from {} (ind is an integer column, at "
        "most {}): lower --history-posts-per-hour or the span",
        schedule.total_, options.first_index, kMaxDistinctIndex));
  }
  schedule.slot_start_ = options.period.start_ms;
  return schedule;
}

void HistorySchedule::FillSlot() {
  const int64_t end = SlotEnd(options_.period, slot_start_);
  const int64_t posts = SlotPosts(options_, slot_start_, end, &carry_);
  slot_times_.clear();
  slot_pos_ = 0;
  Prng prng(SlotSeed(options_.seed, slot_start_));
  for (int64_t i = 0; i < posts; ++i) {
    slot_times_.push_back(prng.Uniform(slot_start_, end - 1));
  }
  std::sort(slot_times_.begin(), slot_times_.end());
  slot_start_ = end;
}

bool HistorySchedule::Next(HistoryPost* post) {
  while (slot_pos_ >= slot_times_.size()) {
    if (slot_start_ >= options_.period.end_ms) return false;
    FillSlot();
  }
  post->n = next_n_++;
  post->timestamp_ms = slot_times_[slot_pos_++];
  post->source = PickPost(options_.seed, static_cast<uint64_t>(post->n), source_count_);
  post->index = options_.first_index + post->n;
  return true;
}

StatusOr<HistoryStats> LoadHistory(const std::vector<SourcePost>& posts, HistorySchedule& schedule,
                                   const HistoryTopics& topics, kafka::Producer& producer,
                                   std::stop_token stop, std::chrono::milliseconds flush_timeout,
                                   std::ostream* progress) {
  const auto started = std::chrono::steady_clock::now();
  HistoryStats stats;
  // Delivery counts come from the producer's delivery thread.
  struct Shared {
    core::Mutex mu;
    std::array<int64_t, 3> produced GUARDED_BY(mu){};
    std::array<int64_t, 3> failed GUARDED_BY(mu){};
    std::string first_failure GUARDED_BY(mu);
  };
  auto shared = std::make_shared<Shared>();
  const std::array<const std::string*, 3> topic_of = {&topics.pin, &topics.geo, &topics.user};
  core::RecordValidator validator;
  core::ValidatedRecord validated;
  std::vector<core::FieldError> errors;
  std::string record;
  const int64_t total = schedule.total_posts();
  int64_t next_report = total / 10;
  HistoryPost post;
  while (!stop.stop_requested() && schedule.Next(&post)) {
    ++stats.posts;
    const SourcePost& source = posts[post.source];
    for (size_t k = 0; k < 3; ++k) {
      const std::string& json = k == 0   ? source.pin_json
                                : k == 1 ? source.geo_json
                                         : source.user_json;
      record.clear();
      const auto kind = static_cast<core::RecordKind>(k);
      errors.clear();
      bool valid = AppendWithDistinctIds(json, post.index, &record);
      if (!valid) {
        errors.push_back({"", "not a record as the source tables encode it", "json_invalid"});
      } else {
        valid = validator.Validate(kind, record, &validated, &errors);
      }
      if (!valid) {
        ++stats.rejected[k];
        if (stats.first_rejection.empty()) {
          stats.first_rejection =
              fmt::format("{} ind {}: {}", core::RecordKindName(kind), post.index,
                          core::FieldErrorsText(errors, "invalid record"));
        }
        continue;
      }
      auto done = [shared, k](const kafka::DeliveryResult& result) {
        core::MutexLock lock(shared->mu);
        if (result.status.ok()) {
          ++shared->produced[k];
        } else {
          ++shared->failed[k];
          if (shared->first_failure.empty()) shared->first_failure = result.status.ToString();
        }
      };
      while (true) {
        Status s = producer.ProduceAt(*topic_of[k], validated.key, record, post.timestamp_ms, done);
        if (s.ok()) break;
        if (s.code() != StatusCode::kResourceExhausted) {
          return s.WithContext(
              fmt::format("history: producing {} ind {}", core::RecordKindName(kind), post.index));
        }
        // The local queue is full: let the delivery thread catch up.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (stop.stop_requested()) break;
      }
    }
    if (progress != nullptr && total >= 10 && stats.posts >= next_report) {
      *progress << fmt::format("history: {} of {} posts ({}%), up to {}\n", stats.posts, total,
                               stats.posts * 100 / total, core::IsoTime(post.timestamp_ms));
      next_report += total / 10;
    }
  }
  RETURN_IF_ERROR(producer.Flush(flush_timeout).WithContext("history: waiting for Kafka"));
  {
    core::MutexLock lock(shared->mu);
    stats.produced = shared->produced;
    stats.failed = shared->failed;
    stats.first_failure = shared->first_failure;
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

std::string FormatHistorySummary(const HistoryOptions& options, const HistorySchedule& schedule,
                                 const HistoryStats& stats) {
  std::string out = fmt::format(
      "history {} .. {}: {} posts, {} records produced (pin {}, geo {}, user {}), {} rejected "
      "by validation, {} failed; {:.1f} s",
      core::IsoTime(options.period.start_ms), core::IsoTime(options.period.end_ms), stats.posts,
      stats.records_produced(), stats.produced[0], stats.produced[1], stats.produced[2],
      stats.records_rejected(), stats.records_failed(), stats.seconds);
  if (stats.seconds > 0) {
    out += fmt::format(" ({:.0f} records/s)",
                       static_cast<double>(stats.records_produced()) / stats.seconds);
  }
  out += "\nposts per day:";
  for (const auto& [day, posts] : schedule.posts_per_day()) {
    out += fmt::format(" {} {}", day, posts);
  }
  if (!stats.first_rejection.empty()) out += "\nfirst rejected: " + stats.first_rejection;
  if (!stats.first_failure.empty()) out += "\nfirst failed delivery: " + stats.first_failure;
  return out;
}

}  // namespace pinpipe::emulate

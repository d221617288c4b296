// CronSchedule: a 5-field cron expression (minute hour day-of-month month day-of-week) and the
// instants it fires at in a time zone.
//
// Syntax (Vixie cron): each field is a comma list of `*`, `N`, `N-M`, `*/S`, `N-M/S` or `N/S`
// (N to the field's maximum, step S); months JAN-DEC and weekdays SUN-SAT by name (any case);
// day-of-week 0-7 with both 0 and 7 meaning Sunday. Presets: @yearly (@annually), @monthly,
// @weekly, @daily (@midnight), @hourly. Day matching follows Vixie: when both day-of-month and
// day-of-week are restricted (neither field starts with `*`), a day matches if EITHER matches
// ("0 0 13 * FRI": every 13th and every Friday); when one starts with `*` (also `*/2`), both
// must match. An expression that can never fire ("0 0 30 2 *") is refused.
//
// Time zones and daylight saving (TimeZone::Resolve): the expression is matched against the
// zone's wall clock; a matching wall time that does not exist (spring-forward gap) fires at the
// end of the gap (the first valid instant after it: "30 2 * * *" in Berlin fires at 03:00 CEST
// that day), several matches inside one gap fire once; a wall time that occurs twice
// (fall-back) fires once, at its first occurrence. So a daily schedule fires exactly once on
// every local day, and an hourly one skips nothing but fires once in the repeated hour.
//
// Thread-safety: an immutable value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "scheduler/time_zone.h"

namespace pinpipe::scheduler {

class CronSchedule {
 public:
  // "0 0 * * *" (@daily).
  CronSchedule();

  // Parses an expression or a preset. InvalidArgument says which field, what is wrong and the
  // 1-based column: `cron "61 * * * *": minute field: 61 is out of range 0-59 (column 1)`.
  static StatusOr<CronSchedule> Parse(std::string_view expression);

  // The canonical 5-field form ("0 0 * * *" for "@daily"); Parse(ToString()) == *this.
  std::string ToString() const;
  // The text it was parsed from.
  const std::string& source() const { return source_; }

  // The first instant > `after` at which the schedule fires in `zone`. Fire times come from wall
  // times in the years 1-9999 (searches also stop 400 years out); nullopt past them.
  std::optional<Instant> Next(Instant after, const TimeZone& zone) const;
  // The last instant < `before` at which the schedule fires in `zone`; nullopt if none (same
  // range). For a fire time x: Prev(x + 1s) == x and Next(Prev(x)) == x.
  std::optional<Instant> Prev(Instant before, const TimeZone& zone) const;

  // Whether a wall clock minute matches (seconds ignored).
  bool Matches(LocalTime local) const;

  // Same fields and the same `*` flags (the source text is not compared).
  friend bool operator==(const CronSchedule& a, const CronSchedule& b) {
    return a.bits_ == b.bits_ && a.dom_star_ == b.dom_star_ && a.dow_star_ == b.dow_star_;
  }

 private:
  enum Field : uint8_t { kMinute, kHour, kDayOfMonth, kMonth, kDayOfWeek, kFieldCount };

  bool DayMatches(const std::chrono::year_month_day& ymd) const;
  bool Has(Field f, unsigned v) const { return (bits_[f] >> v) & 1u; }
  // The first matching minute >= from / the last <= from (both minute-aligned), bounded search.
  std::optional<LocalTime> NextMatch(LocalTime from) const;
  std::optional<LocalTime> PrevMatch(LocalTime from) const;

  std::array<uint64_t, kFieldCount> bits_{};  // bit v set: value v allowed (day-of-week 0-6)
  bool dom_star_ = false;                     // the day-of-month field starts with '*'
  bool dow_star_ = false;                     // the day-of-week field starts with '*'
  std::string source_;
};

}  // namespace pinpipe::scheduler

// Days and hours counted from the Unix epoch (UTC) and their text forms: the archive's dt=/hr=
// folders, the batch tables' and the speed-layer rows' `dt`, --date arguments. Hours and days are
// floor divisions of epoch milliseconds, so times before 1970 work too. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pinpipe::core {

inline constexpr int64_t kMillisPerHour = 3600LL * 1000;
inline constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;

// Hours / days since 1970-01-01T00:00Z of an epoch time in milliseconds.
int64_t HourOf(int64_t epoch_ms);
int64_t DayOfHour(int64_t hour);
inline int64_t DayOf(int64_t epoch_ms) { return DayOfHour(HourOf(epoch_ms)); }

// "2024-01-31" for a day number; "2024-01-31T05:00:00.000Z" for an epoch time.
std::string DateOfDay(int64_t day);
std::string IsoTime(int64_t epoch_ms);
// Day number of "YYYY-MM-DD", or nullopt when malformed or not a real date.
std::optional<int64_t> ParseDate(std::string_view date);

// A proleptic Gregorian date (std::chrono's calendar: years -32767..32767).
struct CivilDate {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};
// Days since 1970-01-01 of a date with month 1..12 and day 1..31; a day past the end of its
// month counts on into the next (as std::chrono's sys_days of such a year_month_day).
int64_t DaysFromCivil(const CivilDate& date);
// The date of a day number.
CivilDate CivilOfDay(int64_t day);

}  // namespace pinpipe::core

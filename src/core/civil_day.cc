#include "core/civil_day.h"

#include <chrono>

#include <fmt/format.h>

namespace pinpipe::core {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The value of a fixed-width field of decimal digits, or nullopt.
std::optional<int> FixedDigits(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

int64_t HourOf(int64_t epoch_ms) { return FloorDiv(epoch_ms, kMillisPerHour); }
int64_t DayOfHour(int64_t hour) { return FloorDiv(hour, 24); }

int64_t DaysFromCivil(const CivilDate& date) {
  const std::chrono::year_month_day ymd(std::chrono::year(date.year),
                                        std::chrono::month(date.month), std::chrono::day(date.day));
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

CivilDate CivilOfDay(int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(day))};
  return CivilDate{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                   static_cast<unsigned>(ymd.day())};
}

std::string DateOfDay(int64_t day) {
  const CivilDate d = CivilOfDay(day);
  return fmt::format("{:04d}-{:02d}-{:02d}", d.year, d.month, d.day);
}

std::string IsoTime(int64_t epoch_ms) {
  const int64_t day = DayOf(epoch_ms);
  const int64_t ms_of_day = epoch_ms - day * kMillisPerDay;
  const int64_t s = ms_of_day / 1000;
  return fmt::format("{}T{:02d}:{:02d}:{:02d}.{:03d}Z", DateOfDay(day), s / 3600, s / 60 % 60,
                     s % 60, ms_of_day % 1000);
}

std::optional<int64_t> ParseDate(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  auto y = FixedDigits(date.substr(0, 4));
  auto m = FixedDigits(date.substr(5, 2));
  auto d = FixedDigits(date.substr(8, 2));
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day ymd(std::chrono::year(*y),
                                        std::chrono::month(static_cast<unsigned>(*m)),
                                        std::chrono::day(static_cast<unsigned>(*d)));
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

}  // namespace pinpipe::core

// Strict parser for the timestamp forms records carry (docs/design.md "Record kinds and schemas"):
//   YYYY-MM-DD HH:MM:SS  or  YYYY-MM-DDTHH:MM:SS, then optionally .F (1 to 9 digits), then
//   optionally Z or +HH:MM / -HH:MM.
// The date must exist in the proleptic Gregorian calendar (2021-02-30 and 2021-02-29 do not) and
// the year must be 0001..9999 (PostgreSQL has no year 0). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace pinpipe::core {

struct CivilTimestamp {
  int year = 0;
  int month = 0;   // 1..12
  int day = 0;     // 1..days in month
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59 (no leap seconds)
  int32_t nanos = 0;
  bool has_offset = false;  // Z or +-HH:MM was present
  int offset_minutes = 0;   // east of UTC; 0 for Z

  friend bool operator==(const CivilTimestamp&, const CivilTimestamp&) = default;
};

// Parses `s`. On success returns true and fills `*out`. On failure returns false and sets
// `*reason` to a short static explanation ("day value is outside expected range"), worded like
// pydantic's datetime_parsing errors.
bool ParseTimestamp(std::string_view s, CivilTimestamp* out, std::string_view* reason);

bool IsLeapYear(int year);
int DaysInMonth(int year, int month);  // month 1..12

}  // namespace pinpipe::core

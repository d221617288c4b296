#include "core/timestamp_parser.h"

#include <chrono>

#include "core/ascii.h"

namespace pinpipe::core {
namespace {

// Reads exactly `n` digits at `s[*pos]`; the fixed widths are what make the format strict.
bool ReadDigits(std::string_view s, size_t* pos, size_t n, int* value) {
  if (s.size() - *pos < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (!IsAsciiDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *value = v;
  *pos += n;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

bool IsLeapYear(int year) { return std::chrono::year(year).is_leap(); }

int DaysInMonth(int year, int month) {
  using namespace std::chrono;
  const year_month_day_last last(std::chrono::year(year),
                                 month_day_last(std::chrono::month(static_cast<unsigned>(month))));
  return static_cast<int>(static_cast<unsigned>(last.day()));
}

bool ParseTimestamp(std::string_view s, CivilTimestamp* out, std::string_view* reason) {
  // The shortest accepted form is "YYYY-MM-DD HH:MM:SS".
  if (s.size() < 19) {
    *reason = "input is too short";
    return false;
  }
  CivilTimestamp t;
  size_t pos = 0;
  if (!ReadDigits(s, &pos, 4, &t.year)) {
    *reason = "invalid character in year";
    return false;
  }
  if (!Expect(s, &pos, '-')) {
    *reason = "invalid date separator, expected `-`";
    return false;
  }
  if (!ReadDigits(s, &pos, 2, &t.month)) {
    *reason = "invalid character in month";
    return false;
  }
  if (!Expect(s, &pos, '-')) {
    *reason = "invalid date separator, expected `-`";
    return false;
  }
  if (!ReadDigits(s, &pos, 2, &t.day)) {
    *reason = "invalid character in day";
    return false;
  }
  if (t.year < 1) {
    *reason = "year value is outside expected range";
    return false;
  }
  if (t.month < 1 || t.month > 12) {
    *reason = "month value is outside expected range";
    return false;
  }
  if (t.day < 1 || t.day > DaysInMonth(t.year, t.month)) {
    *reason = "day value is outside expected range";
    return false;
  }
  // Only the two forms the source data uses; pydantic's `t` and `_` variants are not accepted.
  if (s[pos] != ' ' && s[pos] != 'T') {
    *reason = "invalid datetime separator, expected `T` or space";
    return false;
  }
  ++pos;
  if (!ReadDigits(s, &pos, 2, &t.hour)) {
    *reason = "invalid character in hour";
    return false;
  }
  if (!Expect(s, &pos, ':')) {
    *reason = "invalid time separator, expected `:`";
    return false;
  }
  if (!ReadDigits(s, &pos, 2, &t.minute)) {
    *reason = "invalid character in minute";
    return false;
  }
  if (!Expect(s, &pos, ':')) {
    *reason = "invalid time separator, expected `:`";
    return false;
  }
  if (!ReadDigits(s, &pos, 2, &t.second)) {
    *reason = "invalid character in second";
    return false;
  }
  if (t.hour > 23) {
    *reason = "hour value is outside expected range";
    return false;
  }
  if (t.minute > 59) {
    *reason = "minute value is outside expected range";
    return false;
  }
  if (t.second > 59) {
    *reason = "second value is outside expected range";
    return false;
  }
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int32_t nanos = 0;
    while (pos < s.size() && IsAsciiDigit(s[pos])) {
      if (++digits > 9) {
        *reason = "second fraction value is more than 9 digits long";
        return false;
      }
      nanos = nanos * 10 + (s[pos] - '0');
      ++pos;
    }
    if (digits == 0) {
      *reason = "invalid character in second fraction";
      return false;
    }
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
    t.nanos = nanos;
  }
  if (pos < s.size()) {
    const char c = s[pos];
    if (c == 'Z') {
      ++pos;
      t.has_offset = true;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh = 0;
      int om = 0;
      if (!ReadDigits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') || !ReadDigits(s, &pos, 2, &om)) {
        *reason = "invalid timezone offset, expected `+HH:MM` or `-HH:MM`";
        return false;
      }
      if (oh > 23 || om > 59) {
        *reason = "timezone offset must be less than 24 hours";
        return false;
      }
      t.has_offset = true;
      t.offset_minutes = (c == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
      *reason = "invalid timezone sign or unexpected character after the time";
      return false;
    }
  }
  if (pos != s.size()) {
    *reason = "unexpected extra characters at the end of the input";
    return false;
  }
  *out = t;
  return true;
}

}  // namespace pinpipe::core

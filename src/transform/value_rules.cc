#include "transform/value_rules.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "core/check.h"
#include "core/civil_day.h"

namespace pinpipe::transform {
namespace {

bool IsAsciiSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Byte length of the multi-byte space character whose encoding is `b0 b1 [b2]`, or 0.
size_t MultiByteSpace(unsigned char b0, unsigned char b1, unsigned char b2, size_t avail) {
  if (avail >= 2 && b0 == 0xC2 && (b1 == 0x85 || b1 == 0xA0)) return 2;  // U+0085, U+00A0
  if (avail < 3) return 0;
  switch (b0) {
    case 0xE1: return b1 == 0x9A && b2 == 0x80 ? 3 : 0;  // U+1680
    case 0xE2:
      if (b1 == 0x80) {
        // U+2000..U+200B, U+2028, U+2029, U+202F (U+2026 `…` is not a space)
        return (b2 >= 0x80 && b2 <= 0x8B) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF ? 3 : 0;
      }
      return b1 == 0x81 && b2 == 0x9F ? 3 : 0;           // U+205F
    case 0xE3: return b1 == 0x80 && b2 == 0x80 ? 3 : 0;  // U+3000
    case 0xEF: return b1 == 0xBB && b2 == 0xBF ? 3 : 0;  // U+FEFF
    default: return 0;
  }
}

unsigned char At(std::string_view s, size_t i) {
  return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
}

size_t SpaceAtStart(std::string_view s) {
  const unsigned char c = At(s, 0);
  if (IsAsciiSpace(c)) return 1;
  if (c < 0xC2) return 0;
  return MultiByteSpace(c, At(s, 1), At(s, 2), s.size());
}

size_t SpaceAtEnd(std::string_view s) {
  const size_t n = s.size();
  if (n == 0) return 0;
  const auto last = static_cast<unsigned char>(s[n - 1]);
  if (IsAsciiSpace(last)) return 1;
  if (last < 0x80) return 0;
  if (n >= 2 && MultiByteSpace(At(s, n - 2), last, 0, 2) == 2) return 2;
  if (n >= 3 && MultiByteSpace(At(s, n - 3), At(s, n - 2), last, 3) == 3) return 3;
  return 0;
}

constexpr int64_t kPow10[] = {1,
                              10,
                              100,
                              1000,
                              10000,
                              100000,
                              1000000,
                              10000000,
                              100000000,
                              1000000000,
                              10000000000,
                              100000000000,
                              1000000000000,
                              10000000000000,
                              100000000000000,
                              1000000000000000,
                              10000000000000000,
                              100000000000000000,
                              1000000000000000000};

void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

}  // namespace

std::string_view TrimSpace(std::string_view s) {
  // Most values start and end with a printable ASCII byte (0x21-0x7E): neither an ASCII space
  // nor the first or last byte of a multi-byte space. Nothing to trim then.
  if (!s.empty()) {
    const auto first = static_cast<unsigned char>(s.front());
    const auto last = static_cast<unsigned char>(s.back());
    if (first > 0x20 && first < 0x7F && last > 0x20 && last < 0x7F) return s;
  }
  for (size_t n = SpaceAtStart(s); n != 0; n = SpaceAtStart(s)) s.remove_prefix(n);
  for (size_t n = SpaceAtEnd(s); n != 0; n = SpaceAtEnd(s)) s.remove_suffix(n);
  return s;
}

CountParse ParseCountSuffix(std::string_view s, int64_t* out) {
  size_t i = 0;
  int digits = 0;
  int fraction_digits = 0;
  int64_t mantissa = 0;  // all digits, the decimal point ignored
  auto take_digits = [&](int* counter) {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (++digits > kMaxCountDigits) return false;
      mantissa = mantissa * 10 + (s[i] - '0');
      ++*counter;
      ++i;
    }
    return true;
  };
  int integer_digits = 0;
  if (!take_digits(&integer_digits) || integer_digits == 0) return CountParse::kInvalid;
  bool expanded = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!take_digits(&fraction_digits) || fraction_digits == 0) return CountParse::kInvalid;
    expanded = true;
  }
  int64_t multiplier = 1;
  if (i < s.size()) {
    multiplier = 0;
    for (const CountSuffix& suffix : kCountSuffixes) {
      if (s[i] == suffix.letter) multiplier = suffix.multiplier;
    }
    if (multiplier == 0) return CountParse::kInvalid;
    ++i;
    expanded = true;
  }
  if (i != s.size()) return CountParse::kInvalid;
  // mantissa < 1e18 and multiplier <= 1e9: the product fits in 128 bits.
  const auto product = static_cast<unsigned __int128>(mantissa) *
                       static_cast<unsigned __int128>(multiplier) /
                       static_cast<unsigned __int128>(kPow10[fraction_digits]);
  if (product > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) {
    return CountParse::kInvalid;
  }
  *out = static_cast<int64_t>(product);
  return expanded ? CountParse::kExpanded : CountParse::kPlain;
}

bool ParseInt64Text(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool ParseDoubleText(std::string_view s, double* out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

bool ParseBoolText(std::string_view s, bool* out) {
  auto equals = [s](std::string_view word) {
    if (s.size() != word.size()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
      if (c != word[i]) return false;
    }
    return true;
  };
  if (equals("1") || equals("t") || equals("true")) {
    *out = true;
    return true;
  }
  if (equals("0") || equals("f") || equals("false")) {
    *out = false;
    return true;
  }
  return false;
}

int64_t TimestampMicros(const core::CivilTimestamp& ts) {
  const int64_t days = core::DaysFromCivil(
      core::CivilDate{ts.year, static_cast<unsigned>(ts.month), static_cast<unsigned>(ts.day)});
  const int64_t seconds = days * 86400 + ts.hour * 3600 + ts.minute * 60 + ts.second -
                          (ts.has_offset ? int64_t{ts.offset_minutes} * 60 : 0);
  return seconds * 1000000 + (int64_t{ts.nanos} + 500) / 1000;
}

void AppendTimestamp(int64_t micros, std::string* out) {
  int64_t seconds = micros / 1000000;
  int64_t fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  int64_t days = seconds / 86400;
  int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  const core::CivilDate date = core::CivilOfDay(days);
  const int64_t year = date.year, month = date.month, day = date.day;
  // Record timestamps are years 0001..9999; after a UTC offset at most one day either side, so
  // year 0 (1 BC, which PostgreSQL writes with a BC suffix) and 10000 can occur.
  PINPIPE_CHECK(year >= 0 && year <= 10000) << "timestamp year out of range: " << year;
  AppendPadded(year > 0 ? year : 1 - year, 4, out);
  out->push_back('-');
  AppendPadded(month, 2, out);
  out->push_back('-');
  AppendPadded(day, 2, out);
  out->push_back(' ');
  AppendPadded(second_of_day / 3600, 2, out);
  out->push_back(':');
  AppendPadded(second_of_day / 60 % 60, 2, out);
  out->push_back(':');
  AppendPadded(second_of_day % 60, 2, out);
  if (fraction != 0) {
    out->push_back('.');
    AppendPadded(fraction, 6, out);
  }
  if (year <= 0) out->append(" BC");
}

void AppendDouble(double v, std::string* out) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  PINPIPE_CHECK(ec == std::errc()) << "to_chars(double) failed";
  out->append(buf, end);
}

void AppendInt64(int64_t v, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  PINPIPE_CHECK(ec == std::errc()) << "to_chars(int) failed";
  out->append(buf, end);
}

}  // namespace pinpipe::transform

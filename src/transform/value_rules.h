// Value rules: the pure functions behind the transform file's rules and casts (trim, the
// follower-count parser, text casts) and the timestamp arithmetic the row writers share.
// Allocation-free and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/timestamp_parser.h"

namespace pinpipe::transform {

// The code points TrimSpace() removes, for code that states the rule in another language
// (src/spark/spark_export.h); a unit test checks TrimSpace() against this list code point by
// code point.
inline constexpr char32_t kTrimSpaceCodePoints[] = {
    0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,   0xA0,   0x1680,
    0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
    0x2009, 0x200A, 0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF};

// `s` without leading and trailing white space: ASCII space and \t \n \v \f \r, the Unicode
// White_Space characters (U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000) and the invisible U+200B and U+FEFF. Expects valid UTF-8 (records are validated).
std::string_view TrimSpace(std::string_view s);

enum class CountParse : uint8_t {
  kPlain,     // plain digits: "999"
  kExpanded,  // a suffix or a decimal was applied: "12k", "1.2k", "3M"
  kInvalid,   // not a count: "", "12kk", "k", "-5", "1,000", overflow
};

// Parses a follower count: digits, optionally '.' and more digits, optionally one suffix
// k/K (x1e3), m/M (x1e6), b/B (x1e9). Exact decimal arithmetic ("1.2k" = 1200); a fraction below
// one is truncated ("1.2345k" = 1234). At most 18 digits in all; results above INT64_MAX are
// kInvalid. Sets `*out` unless kInvalid.
// The suffixes ParseCountSuffix() accepts and their multipliers, and its digit limit.
struct CountSuffix {
  char letter;
  int64_t multiplier;
};
inline constexpr CountSuffix kCountSuffixes[] = {
    {'k', 1000}, {'K', 1000}, {'m', 1000000}, {'M', 1000000}, {'b', 1000000000}, {'B', 1000000000}};
inline constexpr int kMaxCountDigits = 18;
CountParse ParseCountSuffix(std::string_view s, int64_t* out);

// Whole-string casts; false when `s` is not exactly one value of the type.
bool ParseInt64Text(std::string_view s, int64_t* out);  // [-]digits
bool ParseDoubleText(std::string_view s, double* out);  // finite decimal/exponent numbers
bool ParseBoolText(std::string_view s, bool* out);      // 0 1 t f true false, any case

// Microseconds since the Unix epoch (UTC) of a parsed record timestamp: the offset, if any, is
// subtracted and nanoseconds are rounded to the nearest microsecond (half up).
int64_t TimestampMicros(const core::CivilTimestamp& ts);

// Appends "YYYY-MM-DD HH:MM:SS" plus ".ffffff" when the fraction is non-zero (PostgreSQL's own
// output form for timestamp; COPY, CSV and JSON all use it). Year 0 is written "0001-... BC".
void AppendTimestamp(int64_t micros, std::string* out);

// Appends the shortest text that parses back to the same double (std::to_chars).
void AppendDouble(double v, std::string* out);
void AppendInt64(int64_t v, std::string* out);

}  // namespace pinpipe::transform

// ASCII-only character tests and comparisons for protocol and format text (HTTP header names
// and tokens, cron month and weekday names, timestamps): independent of the locale, and the same
// in every file that needs them (a unity build compiles several files as one, where a helper of
// the same name in two anonymous namespaces would clash). Pure; thread-safe; constexpr.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pinpipe::core {

// '0'..'9' only.
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// 'A'..'Z' to 'a'..'z'; every other byte unchanged.
constexpr char AsciiToLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// A copy with 'A'..'Z' lowered (header names, config keys, log text to search).
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiToLower(c);
  return out;
}

// Equal when ASCII letters are compared without case (other bytes compare exactly).
constexpr bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiToLower(a[i]) != AsciiToLower(b[i])) return false;
  }
  return true;
}

}  // namespace pinpipe::core

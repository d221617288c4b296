#include "core/duration.h"

#include <fmt/format.h>

namespace pinpipe::core {
namespace {

// Ten years: longer is surely a mistake, and sums stay far from overflowing.
constexpr int64_t kMaxSeconds = int64_t{10} * 366 * 86400;

}  // namespace

StatusOr<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [&](std::string_view what) {
    return InvalidArgument(fmt::format(
        "bad duration \"{}\": {} (use d, h, m, s as in \"5m\", \"1h30m\", \"90s\")", text, what));
  };
  if (text.empty()) return bad("empty");
  constexpr std::string_view kUnits = "dhms";
  constexpr int64_t kUnitSeconds[] = {86400, 3600, 60, 1};
  int64_t total = 0;
  size_t next_unit = 0;  // units must come in the order of kUnits
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    int64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      value = value * 10 + (text[pos] - '0');
      if (value > kMaxSeconds) return bad("too long (at most 10 years)");
      ++pos;
    }
    if (pos == start) return bad(fmt::format("expected a number at character {}", pos + 1));
    if (pos == text.size()) return bad(fmt::format("missing unit after {}", text.substr(start)));
    const size_t unit = kUnits.find(text[pos]);
    if (unit == std::string_view::npos) return bad(fmt::format("unknown unit '{}'", text[pos]));
    if (unit < next_unit) {
      return bad(fmt::format("unit '{}' repeated or out of order (write d, h, m, s in that order)",
                             text[pos]));
    }
    next_unit = unit + 1;
    total += value * kUnitSeconds[unit];
    if (total > kMaxSeconds) return bad("too long (at most 10 years)");
    ++pos;
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out += '-';
    s = -s;
  }
  constexpr std::pair<int64_t, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& [size, unit] : kUnits) {
    if (s >= size) {
      out += fmt::format("{}{}", s / size, unit);
      s %= size;
    }
  }
  return out;
}

}  // namespace pinpipe::core

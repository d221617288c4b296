#include "scheduler/cron.h"

#include <bit>
#include <vector>

#include <fmt/format.h>

#include "core/ascii.h"

namespace pinpipe::scheduler {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::year_month_day;

struct FieldInfo {
  std::string_view name;
  unsigned lo, hi;
  const std::string_view* names;  // nullptr, or the names of lo..lo+N-1
  size_t name_count;
};

constexpr std::string_view kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::string_view kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr FieldInfo kFields[] = {
    {"minute", 0, 59, nullptr, 0},       {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0}, {"month", 1, 12, kMonthNames, 12},
    {"day-of-week", 0, 7, kDayNames, 7},
};

struct Preset {
  std::string_view name;
  std::string_view expression;
};
constexpr Preset kPresets[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

// Searches give up after this many years past their start (a validated expression fires at
// least once in any 28 consecutive years; Feb 29 on a given weekday needs at most 40).
constexpr int kSearchYears = 400;
constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;
// Fire times come from wall times in the years 1-9999. Arguments are first clamped to a wider
// range, which only keeps calendar arithmetic far from overflowing.
const LocalTime kFirstLocal(std::chrono::local_days(std::chrono::year(kMinYear) / 1 / 1));
const LocalTime kLastLocal(std::chrono::local_days(std::chrono::year(kMaxYear) / 12 / 31) +
                           std::chrono::hours(23) + std::chrono::minutes(59));
const Instant kFarPast(std::chrono::sys_days(std::chrono::year(-1000) / 1 / 1));
const Instant kFarFuture(std::chrono::sys_days(std::chrono::year(11000) / 1 / 1));

unsigned DaysIn(unsigned month) {
  constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};  // Feb: leap
  return kDays[month - 1];
}

class FieldParser {
 public:
  FieldParser(std::string_view expression, const FieldInfo& info, std::string_view text,
              size_t column)
      : expression_(expression), info_(info), text_(text), column_(column) {}

  Status Parse(uint64_t* bits, bool* star) {
    *bits = 0;
    *star = !text_.empty() && text_[0] == '*';
    size_t start = 0;
    while (true) {
      const size_t comma = text_.find(',', start);
      const size_t end = comma == std::string_view::npos ? text_.size() : comma;
      RETURN_IF_ERROR(Element(start, end, bits));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return Status::Ok();
  }

 private:
  Status Error(size_t offset, std::string_view what) const {
    return InvalidArgument(fmt::format("cron \"{}\": {} field: {} (column {})", expression_,
                                       info_.name, what, column_ + offset));
  }

  // A number or a name at [pos, end): the value and the token's end.
  Status Value(size_t pos, size_t end, unsigned* value, size_t* token_end) const {
    size_t i = pos;
    if (i < end && text_[i] >= '0' && text_[i] <= '9') {
      uint64_t v = 0;
      while (i < end && text_[i] >= '0' && text_[i] <= '9') {
        v = v * 10 + static_cast<unsigned>(text_[i] - '0');
        if (v > 100000) v = 100000;  // keeps the message readable for absurd numbers
        ++i;
      }
      if (v < info_.lo || v > info_.hi) {
        return Error(pos, fmt::format("{} is out of range {}-{}", text_.substr(pos, i - pos),
                                      info_.lo, info_.hi));
      }
      *value = static_cast<unsigned>(v);
      *token_end = i;
      return Status::Ok();
    }
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    while (i < end && letter(text_[i])) ++i;
    const std::string_view word = text_.substr(pos, i - pos);
    if (word.empty()) {
      if (pos >= end) return Error(pos, "missing value");
      return Error(pos, fmt::format("unexpected '{}'", text_[pos]));
    }
    for (size_t n = 0; n < info_.name_count; ++n) {
      if (core::EqualsIgnoreAsciiCase(word, info_.names[n])) {
        *value = info_.lo + static_cast<unsigned>(n);
        *token_end = i;
        return Status::Ok();
      }
    }
    if (info_.names == nullptr) {
      return Error(pos, fmt::format("\"{}\" is not a number", word));
    }
    return Error(pos,
                 fmt::format("unknown name \"{}\" (expected {}-{} or {}-{})", word, info_.names[0],
                             info_.names[info_.name_count - 1], info_.lo, info_.hi));
  }

  Status Element(size_t start, size_t end, uint64_t* bits) const {
    if (start == end) return Error(start, "empty list element");
    unsigned lo = info_.lo, hi = info_.hi, step = 1;
    size_t pos = start;
    bool range_given = false;
    if (text_[pos] == '*') {
      ++pos;
    } else {
      RETURN_IF_ERROR(Value(pos, end, &lo, &pos));
      hi = lo;
      if (pos < end && text_[pos] == '-') {
        ++pos;
        RETURN_IF_ERROR(Value(pos, end, &hi, &pos));
        if (hi < lo) {
          return Error(start,
                       fmt::format("range {} is backwards", text_.substr(start, pos - start)));
        }
        range_given = true;
      }
    }
    if (pos < end && text_[pos] == '/') {
      const size_t step_pos = ++pos;
      uint64_t s = 0;
      while (pos < end && text_[pos] >= '0' && text_[pos] <= '9') {
        s = std::min<uint64_t>(s * 10 + static_cast<unsigned>(text_[pos] - '0'), 100000);
        ++pos;
      }
      if (pos == step_pos) return Error(step_pos, "missing step after '/'");
      if (s < 1 || s > info_.hi) {
        return Error(step_pos, fmt::format("step {} is out of range 1-{}",
                                           text_.substr(step_pos, pos - step_pos), info_.hi));
      }
      step = static_cast<unsigned>(s);
      // "N/S" means N to the maximum, every S (as cronie and croniter).
      if (text_[start] != '*' && !range_given) hi = info_.hi;
    }
    if (pos != end) return Error(pos, fmt::format("unexpected '{}'", text_[pos]));
    for (unsigned v = lo; v <= hi; v += step) {
      *bits |= uint64_t{1} << (info_.names == kDayNames && v == 7 ? 0 : v);
    }
    return Status::Ok();
  }

  std::string_view expression_;
  const FieldInfo& info_;
  std::string_view text_;
  size_t column_;  // 1-based column of the field's first character
};

// The values of a field's bits, in order (day-of-week 0-6).
std::vector<unsigned> Values(const FieldInfo& info, uint64_t bits) {
  std::vector<unsigned> values;
  const unsigned top = info.names == kDayNames ? 6 : info.hi;
  for (unsigned v = info.lo; v <= top; ++v) {
    if ((bits >> v) & 1u) values.push_back(v);
  }
  return values;
}

// "1-5,7,9-11".
std::string ListToString(const std::vector<unsigned>& values) {
  std::string out;
  for (size_t i = 0; i < values.size();) {
    size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", values[i]) : fmt::format("{}-{}", values[i], values[j]);
    i = j + 1;
  }
  return out;
}

// The bits of "*/step" in a field.
uint64_t StarBits(const FieldInfo& info, unsigned step) {
  uint64_t bits = 0;
  for (unsigned v = info.lo; v <= info.hi; v += step) {
    bits |= uint64_t{1} << (info.names == kDayNames && v == 7 ? 0 : v);
  }
  return bits;
}

// Canonical text of one field. A field that must keep its leading '*' (the day fields, whose
// '*' changes how days match) is written as "*", "*/S" or "*/S,<list>" with the smallest S whose
// values all belong to the field; any other field as a plain list.
std::string FieldToString(const FieldInfo& info, uint64_t bits, bool star) {
  if (star) {
    for (unsigned step = 1; step <= info.hi; ++step) {
      const uint64_t base = StarBits(info, step);
      if ((base & ~bits) != 0) continue;
      std::string out = step == 1 ? "*" : fmt::format("*/{}", step);
      const std::vector<unsigned> rest = Values(info, bits & ~base);
      if (!rest.empty()) out += "," + ListToString(rest);
      return out;
    }
  }
  return ListToString(Values(info, bits));
}

// The lowest set bit >= from (or 64).
unsigned NextBit(uint64_t bits, unsigned from) {
  if (from >= 64) return 64;
  const uint64_t masked = bits & (~uint64_t{0} << from);
  return masked == 0 ? 64 : static_cast<unsigned>(std::countr_zero(masked));
}

// The highest set bit <= from (or -1).
int PrevBit(uint64_t bits, unsigned from) {
  const uint64_t masked = from >= 63 ? bits : bits & ((uint64_t{1} << (from + 1)) - 1);
  return masked == 0 ? -1 : 63 - std::countl_zero(masked);
}

struct Parts {
  year_month_day ymd;
  unsigned hour, minute;
};

Parts Split(LocalTime t) {
  const auto day = std::chrono::floor<days>(t);
  const auto since = std::chrono::floor<minutes>(t - day);
  return {year_month_day(day), static_cast<unsigned>(since.count() / 60),
          static_cast<unsigned>(since.count() % 60)};
}

LocalTime Join(const year_month_day& ymd, unsigned hour, unsigned minute) {
  return LocalTime(std::chrono::local_days(ymd).time_since_epoch()) + hours(hour) + minutes(minute);
}

year_month_day AddDays(const year_month_day& ymd, int n) {
  return year_month_day(std::chrono::sys_days(ymd) + days(n));
}

}  // namespace

CronSchedule::CronSchedule() {
  bits_[kMinute] = 1;
  bits_[kHour] = 1;
  bits_[kDayOfMonth] = StarBits(kFields[kDayOfMonth], 1);
  bits_[kMonth] = StarBits(kFields[kMonth], 1);
  bits_[kDayOfWeek] = StarBits(kFields[kDayOfWeek], 1);
  dom_star_ = dow_star_ = true;
  source_ = "0 0 * * *";
}

StatusOr<CronSchedule> CronSchedule::Parse(std::string_view expression) {
  CronSchedule cron;
  cron.source_ = std::string(expression);
  std::string_view text = expression;
  // Fields and their 1-based columns.
  std::vector<std::pair<std::string_view, size_t>> fields;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    fields.emplace_back(text.substr(start, i - start), start + 1);
  }
  if (fields.size() == 1 && fields[0].first[0] == '@') {
    for (const Preset& preset : kPresets) {
      if (core::EqualsIgnoreAsciiCase(fields[0].first, preset.name)) {
        StatusOr<CronSchedule> expanded = Parse(preset.expression);
        PINPIPE_CHECK(expanded.ok()) << expanded.status().ToString();
        expanded->source_ = cron.source_;
        return expanded;
      }
    }
    return InvalidArgument(fmt::format(
        "cron \"{}\": unknown preset \"{}\" (known: @yearly, @annually, @monthly, @weekly, "
        "@daily, @midnight, @hourly) (column {})",
        expression, fields[0].first, fields[0].second));
  }
  if (fields.size() != kFieldCount) {
    return InvalidArgument(fmt::format(
        "cron \"{}\": expected 5 fields (minute hour day-of-month month day-of-week) or a preset "
        "such as @daily, got {} field{}",
        expression, fields.size(), fields.size() == 1 ? "" : "s"));
  }
  for (size_t f = 0; f < kFieldCount; ++f) {
    bool star = false;
    RETURN_IF_ERROR(FieldParser(expression, kFields[f], fields[f].first, fields[f].second)
                        .Parse(&cron.bits_[f], &star));
    if (f == kDayOfMonth) cron.dom_star_ = star;
    if (f == kDayOfWeek) cron.dow_star_ = star;
  }
  // With both day fields required to match (one starts with '*'), some month must have one of
  // the days; weekdays rotate through every date over the years.
  if (cron.dom_star_ || cron.dow_star_) {
    bool possible = false;
    for (unsigned m = 1; m <= 12 && !possible; ++m) {
      if (!cron.Has(kMonth, m)) continue;
      possible = NextBit(cron.bits_[kDayOfMonth], 1) <= DaysIn(m);
    }
    if (!possible) {
      return InvalidArgument(
          fmt::format("cron \"{}\": never fires: no month in the month field has any day of the "
                      "day-of-month field",
                      expression));
    }
  }
  return cron;
}

std::string CronSchedule::ToString() const {
  std::string out;
  for (size_t f = 0; f < kFieldCount; ++f) {
    if (f > 0) out += ' ';
    bool star = false;
    if (f == kDayOfMonth || f == kDayOfWeek) {
      star = f == kDayOfMonth ? dom_star_ : dow_star_;
    } else if (std::popcount(bits_[f]) >= 2) {
      // Elsewhere '*' is only shorthand: "*/15" for 0,15,30,45, but "1" rather than "*/12".
      for (unsigned step = 1; step <= kFields[f].hi && !star; ++step) {
        star = bits_[f] == StarBits(kFields[f], step);
      }
    }
    out += FieldToString(kFields[f], bits_[f], star);
  }
  return out;
}

bool CronSchedule::DayMatches(const year_month_day& ymd) const {
  const bool dom = Has(kDayOfMonth, static_cast<unsigned>(ymd.day()));
  const bool dow = Has(kDayOfWeek, std::chrono::weekday(std::chrono::sys_days(ymd)).c_encoding());
  return (dom_star_ || dow_star_) ? (dom && dow) : (dom || dow);
}

bool CronSchedule::Matches(LocalTime local) const {
  const Parts p = Split(local);
  return Has(kMonth, static_cast<unsigned>(p.ymd.month())) && DayMatches(p.ymd) &&
         Has(kHour, p.hour) && Has(kMinute, p.minute);
}

std::optional<LocalTime> CronSchedule::NextMatch(LocalTime from) const {
  Parts p = Split(from);
  const int limit = std::min(static_cast<int>(p.ymd.year()) + kSearchYears, kMaxYear);
  while (static_cast<int>(p.ymd.year()) <= limit) {
    const unsigned month = static_cast<unsigned>(p.ymd.month());
    if (!Has(kMonth, month)) {
      const std::chrono::year_month next =
          std::chrono::year_month(p.ymd.year(), p.ymd.month()) + std::chrono::months(1);
      p = {next / 1, 0, 0};
      continue;
    }
    if (!DayMatches(p.ymd)) {
      p = {AddDays(p.ymd, 1), 0, 0};
      continue;
    }
    const unsigned hour = NextBit(bits_[kHour], p.hour);
    if (hour > 23) {
      p = {AddDays(p.ymd, 1), 0, 0};
      continue;
    }
    if (hour != p.hour) p = {p.ymd, hour, 0};
    const unsigned minute = NextBit(bits_[kMinute], p.minute);
    if (minute > 59) {
      if (p.hour == 23) {
        p = {AddDays(p.ymd, 1), 0, 0};
      } else {
        p = {p.ymd, p.hour + 1, 0};
      }
      continue;
    }
    return Join(p.ymd, p.hour, minute);
  }
  return std::nullopt;
}

std::optional<LocalTime> CronSchedule::PrevMatch(LocalTime from) const {
  Parts p = Split(from);
  const int limit = std::max(static_cast<int>(p.ymd.year()) - kSearchYears, kMinYear);
  while (static_cast<int>(p.ymd.year()) >= limit) {
    const unsigned month = static_cast<unsigned>(p.ymd.month());
    if (!Has(kMonth, month)) {
      const std::chrono::year_month prev =
          std::chrono::year_month(p.ymd.year(), p.ymd.month()) - std::chrono::months(1);
      p = {year_month_day(prev / std::chrono::last), 23, 59};
      continue;
    }
    if (!DayMatches(p.ymd)) {
      p = {AddDays(p.ymd, -1), 23, 59};
      continue;
    }
    const int hour = PrevBit(bits_[kHour], p.hour);
    if (hour < 0) {
      p = {AddDays(p.ymd, -1), 23, 59};
      continue;
    }
    if (static_cast<unsigned>(hour) != p.hour) p = {p.ymd, static_cast<unsigned>(hour), 59};
    const int minute = PrevBit(bits_[kMinute], p.minute);
    if (minute < 0) {
      if (p.hour == 0) {
        p = {AddDays(p.ymd, -1), 23, 59};
      } else {
        p = {p.ymd, p.hour - 1, 59};
      }
      continue;
    }
    return Join(p.ymd, p.hour, static_cast<unsigned>(minute));
  }
  return std::nullopt;
}

std::optional<Instant> CronSchedule::Next(Instant after, const TimeZone& zone) const {
  // Fire instants are Resolve(L) for matching wall times L. Resolve is monotonic and
  // Resolve(L) > after exactly when L is later than every wall time shown up to `after`.
  if (after >= kFarFuture) return std::nullopt;
  const LocalTime shown = zone.MaxLocalUpTo(std::max(after, kFarPast));
  const std::optional<LocalTime> local =
      NextMatch(std::max<LocalTime>(std::chrono::floor<minutes>(shown) + minutes(1), kFirstLocal));
  if (!local) return std::nullopt;
  return zone.Resolve(*local);
}

std::optional<Instant> CronSchedule::Prev(Instant before, const TimeZone& zone) const {
  // Resolve(L) < before exactly when L is at most the latest wall time shown before `before`.
  if (before <= kFarPast) return std::nullopt;
  const LocalTime shown = zone.MaxLocalUpTo(std::min(before, kFarFuture) - std::chrono::seconds(1));
  if (shown < kFirstLocal) return std::nullopt;
  const std::optional<LocalTime> local =
      PrevMatch(std::min<LocalTime>(std::chrono::floor<minutes>(shown), kLastLocal));
  if (!local) return std::nullopt;
  return zone.Resolve(*local);
}

}  // namespace pinpipe::scheduler

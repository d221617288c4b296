#include "scheduler/time_zone.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

namespace pinpipe::scheduler {
namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_days;

// Inputs are clamped to about +-28,000 years so that calendar conversions stay in the range of
// std::chrono::year (+-32767) whatever a caller (or a fuzzer) passes.
constexpr int64_t kClampSeconds = 900'000'000'000;
// RFC 8536 bounds a UTC offset to -25:59:59 .. +25:59:59 (utoff -89999 .. 93599).
constexpr int64_t kMinUtoff = -89999;
constexpr int64_t kMaxUtoff = 93599;
// Offsets differ by less than 26 h, so every instant whose wall clock can be near a local time L
// lies within this window around L (read as UTC).
constexpr seconds kWindow = std::chrono::hours(27);

Instant Clamp(Instant t) {
  const int64_t s = t.time_since_epoch().count();
  return Instant(seconds(std::clamp<int64_t>(s, -kClampSeconds, kClampSeconds)));
}

int YearOf(Instant t) {
  return static_cast<int>(std::chrono::year_month_day(std::chrono::floor<days>(Clamp(t))).year());
}

struct LocalType {
  int32_t utoff = 0;
  bool isdst = false;
  std::string abbr;
};

// A date rule of a POSIX TZ string.
struct PosixDate {
  enum class Kind : uint8_t { kJulian1, kJulian0, kMonthWeekDay };  // Jn, n, Mm.w.d
  Kind kind = Kind::kMonthWeekDay;
  int a = 0, b = 0, c = 0;  // n, or m, w, d
};

struct PosixRule {
  std::string std_abbr;
  int32_t std_utoff = 0;
  bool has_dst = false;
  std::string dst_abbr;
  int32_t dst_utoff = 0;
  PosixDate start, end;
  int32_t start_time = 7200, end_time = 7200;  // local seconds after midnight, may be negative
};

// "From `instant` on, the offset is utoff".
struct Event {
  int64_t instant;
  int32_t utoff;
  bool isdst;
};

sys_days RuleDay(const PosixDate& date, int year) {
  using std::chrono::month;
  using std::chrono::year_month_day;
  const std::chrono::year y(year);
  const sys_days jan1 = sys_days(y / std::chrono::January / 1);
  switch (date.kind) {
    case PosixDate::Kind::kJulian1: {  // 1..365, February 29 never counted
      const int leap_shift = (y.is_leap() && date.a >= 60) ? 1 : 0;
      return jan1 + days(date.a - 1 + leap_shift);
    }
    case PosixDate::Kind::kJulian0:  // 0..365, February 29 counted
      return jan1 + days(date.a);
    case PosixDate::Kind::kMonthWeekDay: {
      const std::chrono::year_month ym = y / month(static_cast<unsigned>(date.a));
      const sys_days first = sys_days(ym / 1);
      const unsigned first_wd = std::chrono::weekday(first).c_encoding();
      int day = 1 + (date.c - static_cast<int>(first_wd) + 7) % 7 + (date.b - 1) * 7;
      const int last = static_cast<int>(static_cast<unsigned>((ym / std::chrono::last).day()));
      while (day > last) day -= 7;  // week 5 means "the last"
      return first + days(day - 1);
    }
  }
  return jan1;
}

// The DST start and end events of `year`, sorted; events at the same instant are collapsed into
// the last one (a rule with DST all year, "EST5EDT,0/0,J365/25", has end_y == start_y+1).
void AppendRuleEvents(const PosixRule& rule, int year, std::vector<Event>* out) {
  const int64_t start = sys_days(RuleDay(rule.start, year)).time_since_epoch().count() * 86400 +
                        rule.start_time - rule.std_utoff;
  const int64_t end = sys_days(RuleDay(rule.end, year)).time_since_epoch().count() * 86400 +
                      rule.end_time - rule.dst_utoff;
  out->push_back({start, rule.dst_utoff, true});
  out->push_back({end, rule.std_utoff, false});
}

std::vector<Event> RuleEvents(const PosixRule& rule, int first_year, int last_year) {
  std::vector<Event> events;
  for (int y = first_year; y <= last_year; ++y) AppendRuleEvents(rule, y, &events);
  // Ends before starts at one instant, then the later of the two wins below.
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.instant != b.instant) return a.instant < b.instant;
    return !a.isdst && b.isdst;
  });
  std::vector<Event> collapsed;
  for (const Event& e : events) {
    if (!collapsed.empty() && collapsed.back().instant == e.instant) {
      collapsed.back() = e;
    } else {
      collapsed.push_back(e);
    }
  }
  return collapsed;
}

// The event of the rule in effect at t: {utoff, isdst}.
Event RuleStateAt(const PosixRule& rule, int64_t t) {
  if (!rule.has_dst) return {t, rule.std_utoff, false};
  const int year = YearOf(Instant(seconds(t)));
  const std::vector<Event> events = RuleEvents(rule, year - 2, year + 1);
  Event state{t, rule.std_utoff, false};
  for (const Event& e : events) {
    if (e.instant > t) break;
    state = e;
  }
  return state;
}

// Parser of POSIX TZ strings with the RFC 8536 extensions (rule times -167..167 hours).
class PosixParser {
 public:
  explicit PosixParser(std::string_view text) : text_(text) {}

  StatusOr<PosixRule> Parse() {
    PosixRule rule;
    RETURN_IF_ERROR(Abbr(&rule.std_abbr));
    int32_t offset = 0;
    RETURN_IF_ERROR(Time(24, &offset, "an offset"));
    rule.std_utoff = -offset;
    if (AtEnd()) return rule;
    rule.has_dst = true;
    RETURN_IF_ERROR(Abbr(&rule.dst_abbr));
    rule.dst_utoff = rule.std_utoff + 3600;
    if (!AtEnd() && Peek() != ',') {
      RETURN_IF_ERROR(Time(24, &offset, "a DST offset"));
      rule.dst_utoff = -offset;
    }
    if (AtEnd()) {
      // No rule: POSIX leaves it to the implementation; tzcode uses the US rules.
      rule.start = {PosixDate::Kind::kMonthWeekDay, 3, 2, 0};
      rule.end = {PosixDate::Kind::kMonthWeekDay, 11, 1, 0};
      return rule;
    }
    RETURN_IF_ERROR(Expect(','));
    RETURN_IF_ERROR(Date(&rule.start));
    if (!AtEnd() && Peek() == '/') {
      ++pos_;
      RETURN_IF_ERROR(Time(167, &rule.start_time, "a time"));
    }
    RETURN_IF_ERROR(Expect(','));
    RETURN_IF_ERROR(Date(&rule.end));
    if (!AtEnd() && Peek() == '/') {
      ++pos_;
      RETURN_IF_ERROR(Time(167, &rule.end_time, "a time"));
    }
    if (!AtEnd()) return Error("unexpected characters after the rule");
    return rule;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  Status Error(std::string_view what) const { return ErrorAt(pos_, what); }
  Status ErrorAt(size_t pos, std::string_view what) const {
    return InvalidArgument(
        fmt::format("POSIX TZ rule \"{}\": {} (at character {})", text_, what, pos + 1));
  }
  Status Expect(char c) {
    if (AtEnd() || Peek() != c) return Error(fmt::format("expected '{}'", c));
    ++pos_;
    return Status::Ok();
  }

  Status Abbr(std::string* out) {
    const size_t begin = pos_;
    if (!AtEnd() && Peek() == '<') {
      ++pos_;
      while (!AtEnd() && Peek() != '>') {
        const char c = Peek();
        if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-') {
          return Error("bad character in a quoted abbreviation");
        }
        ++pos_;
      }
      if (AtEnd()) return Error("unterminated '<' abbreviation");
      *out = std::string(text_.substr(begin + 1, pos_ - begin - 1));
      ++pos_;
    } else {
      while (!AtEnd() && IsAlpha(Peek())) ++pos_;
      *out = std::string(text_.substr(begin, pos_ - begin));
    }
    if (out->size() < 3) {
      pos_ = begin;
      return Error("expected a time zone abbreviation of at least 3 characters");
    }
    return Status::Ok();
  }

  // A number in 0..max; number_start_ is where it began (for messages about its value).
  Status Number(int max, int* out) {
    if (AtEnd() || !IsDigit(Peek())) return Error("expected a number");
    number_start_ = pos_;
    int value = 0;
    while (!AtEnd() && IsDigit(Peek())) {
      value = value * 10 + (Peek() - '0');
      ++pos_;
      if (value > max) return ErrorAt(number_start_, fmt::format("number above {}", max));
    }
    *out = value;
    return Status::Ok();
  }

  // [+-]hh[:mm[:ss]] in seconds.
  Status Time(int max_hours, int32_t* out, std::string_view what) {
    int sign = 1;
    if (!AtEnd() && (Peek() == '+' || Peek() == '-')) {
      sign = Peek() == '-' ? -1 : 1;
      ++pos_;
    }
    if (AtEnd() || !IsDigit(Peek())) return Error(fmt::format("expected {}", what));
    int h = 0, m = 0, s = 0;
    RETURN_IF_ERROR(Number(max_hours, &h));
    if (!AtEnd() && Peek() == ':') {
      ++pos_;
      RETURN_IF_ERROR(Number(59, &m));
      if (!AtEnd() && Peek() == ':') {
        ++pos_;
        RETURN_IF_ERROR(Number(59, &s));
      }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return Status::Ok();
  }

  Status Date(PosixDate* out) {
    if (!AtEnd() && Peek() == 'J') {
      ++pos_;
      out->kind = PosixDate::Kind::kJulian1;
      RETURN_IF_ERROR(Number(365, &out->a));
      if (out->a < 1) return ErrorAt(number_start_, "Julian day must be 1-365");
      return Status::Ok();
    }
    if (!AtEnd() && Peek() == 'M') {
      ++pos_;
      out->kind = PosixDate::Kind::kMonthWeekDay;
      RETURN_IF_ERROR(Number(12, &out->a));
      if (out->a < 1) return ErrorAt(number_start_, "month must be 1-12");
      RETURN_IF_ERROR(Expect('.'));
      RETURN_IF_ERROR(Number(5, &out->b));
      if (out->b < 1) return ErrorAt(number_start_, "week must be 1-5");
      RETURN_IF_ERROR(Expect('.'));
      return Number(6, &out->c);
    }
    out->kind = PosixDate::Kind::kJulian0;
    return Number(365, &out->a);
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t number_start_ = 0;
};

// Reads big-endian integers from a TZif file, failing softly at the end of the data.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(size_t n) const { return bytes_.size() - pos_ >= n; }
  size_t pos() const { return pos_; }
  void Skip(size_t n) { pos_ += n; }
  std::string_view Take(size_t n) {
    const std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint8_t U8() { return static_cast<uint8_t>(bytes_[pos_++]); }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | U8();
    return v;
  }
  int64_t I64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return static_cast<int64_t>(v);
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

struct Counts {
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

bool ValidZoneName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  size_t segment_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      const std::string_view segment = name.substr(segment_start, i - segment_start);
      if (segment.empty() || segment == "." || segment == "..") return false;
      segment_start = i + 1;
      continue;
    }
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '+' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct TimeZone::Data {
  std::string name;
  std::vector<int64_t> times;     // transition instants, strictly ascending
  std::vector<uint8_t> type_of;   // local type index per transition
  std::vector<LocalType> types;   // at least one; types[0] applies before the first transition
  std::optional<PosixRule> rule;  // applies from the last transition on

  // Whether the footer rule governs t: from the last transition on. (For a consistent file the
  // rule agrees with the last transition's type; for one that is not, the last transition leads
  // into the rule's state, so offsets never change without a transition.)
  bool RuleGoverns(int64_t t) const { return rule && (times.empty() || t >= times.back()); }

  // The event in effect at t (clamped).
  Event StateAt(int64_t t) const {
    if (RuleGoverns(t)) return RuleStateAt(*rule, t);
    const LocalType& type = TableType(t);
    return {t, type.utoff, type.isdst};
  }

  // The table's type at t (types[0] before the first transition).
  const LocalType& TableType(int64_t t) const {
    const auto it = std::upper_bound(times.begin(), times.end(), t);
    if (it == times.begin()) return types[0];
    return types[type_of[static_cast<size_t>(it - times.begin()) - 1]];
  }
};

TimeZone::TimeZone() {
  static const std::shared_ptr<const Data> utc = [] {
    auto data = std::make_shared<Data>();
    data->name = "UTC";
    data->types.push_back({0, false, "UTC"});
    return data;
  }();
  data_ = utc;
}

const std::string& TimeZone::name() const { return data_->name; }

std::chrono::seconds TimeZone::OffsetAt(Instant t) const {
  return seconds(data_->StateAt(Clamp(t).time_since_epoch().count()).utoff);
}

std::string TimeZone::AbbreviationAt(Instant t) const {
  const int64_t s = Clamp(t).time_since_epoch().count();
  const Data& d = *data_;
  if (d.RuleGoverns(s)) {
    return RuleStateAt(*d.rule, s).isdst ? d.rule->dst_abbr : d.rule->std_abbr;
  }
  return d.TableType(s).abbr;
}

std::vector<ZoneTransition> TimeZone::TransitionsBetween(Instant from_t, Instant to_t) const {
  std::vector<ZoneTransition> out;
  const int64_t from = Clamp(from_t).time_since_epoch().count();
  const int64_t to = Clamp(to_t).time_since_epoch().count();
  if (to <= from) return out;
  const Data& d = *data_;
  auto emit = [&](int64_t instant, int32_t before, int32_t after) {
    if (before != after && out.size() < kMaxTransitionsPerQuery) {
      out.push_back({Instant(seconds(instant)), seconds(before), seconds(after)});
    }
  };
  // The table.
  auto it = std::upper_bound(d.times.begin(), d.times.end(), from);
  for (; it != d.times.end() && *it <= to; ++it) {
    const size_t i = static_cast<size_t>(it - d.times.begin());
    const int32_t before = i == 0 ? d.types[0].utoff : d.types[d.type_of[i - 1]].utoff;
    emit(*it, before, d.StateAt(*it).utoff);
  }
  // The rule, after the table.
  if (!d.rule || !d.rule->has_dst) return out;
  const int64_t start = d.times.empty() ? from : std::max(from, d.times.back());
  if (to <= start) return out;
  int32_t current = d.StateAt(start).utoff;
  // All years at once, so that events of adjacent years at one instant collapse (a rule with
  // DST all year ends one year exactly when it starts the next). Real rules give two events a
  // year, so the cap on years is far beyond kMaxTransitionsPerQuery.
  const int first_year = YearOf(Instant(seconds(start))) - 1;
  const int last_year = std::min(YearOf(Instant(seconds(to))) + 1, first_year + 6000);
  for (const Event& e : RuleEvents(*d.rule, first_year, last_year)) {
    if (e.instant <= start || e.instant > to) continue;
    emit(e.instant, current, e.utoff);
    current = e.utoff;
  }
  return out;
}

TimeZone::LocalInfo TimeZone::Lookup(LocalTime local) const {
  const Instant l(local.time_since_epoch());
  const Instant lo = l - kWindow;
  const Instant hi = l + kWindow;
  const std::vector<ZoneTransition> transitions = TransitionsBetween(lo, hi);
  // Segments of constant offset covering [lo, hi]; each yields at most one instant showing `l`.
  std::vector<Instant> valid;
  std::optional<Instant> gap_end;
  Instant segment_start = lo;
  seconds offset = OffsetAt(lo);
  for (size_t i = 0; i <= transitions.size(); ++i) {
    const Instant segment_end = i < transitions.size() ? transitions[i].instant : hi + seconds(1);
    const Instant t = l - offset;
    if (t >= segment_start && t < segment_end) valid.push_back(t);
    if (i < transitions.size()) {
      const ZoneTransition& tr = transitions[i];
      // A forward jump over l: the clock never shows l here, and first shows a later time at
      // the transition.
      const Instant wall_before = tr.instant + tr.offset_before;
      const Instant wall_after = tr.instant + tr.offset_after;
      if (wall_before <= l && l < wall_after && !gap_end) gap_end = tr.instant;
      offset = tr.offset_after;
      segment_start = tr.instant;
    }
  }
  std::sort(valid.begin(), valid.end());
  LocalInfo info;
  if (valid.empty()) {
    info.kind = LocalKind::kNonexistent;
    info.first = info.second = gap_end.value_or(l - offset);
    return info;
  }
  info.first = valid.front();
  info.second = valid.back();
  info.kind = valid.size() > 1 ? LocalKind::kAmbiguous : LocalKind::kUnique;
  // A gap that ends before the first showing of l (a jump over l followed by a fall-back that
  // shows it again) makes the end of the gap the first instant at or past l.
  if (gap_end && *gap_end < info.first) info.first = *gap_end;
  return info;
}

Instant TimeZone::Resolve(LocalTime local) const { return Lookup(local).first; }

LocalTime TimeZone::MaxLocalUpTo(Instant t) const {
  LocalTime best = ToLocal(t);
  // Offsets differ by < 26 h: any instant more than two windows back shows an earlier time.
  for (const ZoneTransition& tr : TransitionsBetween(t - 2 * kWindow, t)) {
    if (tr.offset_after < tr.offset_before) {
      const LocalTime last_before((tr.instant - seconds(1) + tr.offset_before).time_since_epoch());
      best = std::max(best, last_before);
    }
  }
  return best;
}

StatusOr<TimeZone> TimeZone::FromPosixRule(std::string_view text) {
  ASSIGN_OR_RETURN(PosixRule rule, PosixParser(text).Parse());
  if (rule.std_utoff < kMinUtoff || rule.std_utoff > kMaxUtoff || rule.dst_utoff < kMinUtoff ||
      rule.dst_utoff > kMaxUtoff) {
    return InvalidArgument(fmt::format("POSIX TZ rule \"{}\": offset out of range", text));
  }
  auto data = std::make_shared<Data>();
  data->name = std::string(text);
  data->types.push_back({rule.std_utoff, false, rule.std_abbr});
  data->rule = std::move(rule);
  return TimeZone(std::move(data));
}

StatusOr<TimeZone> TimeZone::FromTzif(std::string_view bytes, std::string name) {
  const std::string zone_name = name;  // `name` moves into the zone below
  auto bad = [&](std::string_view what) {
    return InvalidArgument(
        fmt::format("time zone \"{}\": not a valid TZif file: {}", zone_name, what));
  };
  Reader r(bytes);
  auto header = [&](Counts* c) -> Status {
    if (!r.Has(44)) return bad("truncated header");
    if (r.Take(4) != "TZif") return bad("no \"TZif\" magic");
    const uint8_t version = r.U8();
    if (version != '2' && version != '3' && version != '4') {
      return bad(version == 0 ? "version 1 files are not supported (need version 2 or later)"
                              : "unknown version");
    }
    r.Skip(15);
    c->isutcnt = r.U32();
    c->isstdcnt = r.U32();
    c->leapcnt = r.U32();
    c->timecnt = r.U32();
    c->typecnt = r.U32();
    c->charcnt = r.U32();
    return Status::Ok();
  };
  Counts v1{};
  RETURN_IF_ERROR(header(&v1));
  const uint64_t v1_size = uint64_t{v1.timecnt} * 5 + uint64_t{v1.typecnt} * 6 + v1.charcnt +
                           uint64_t{v1.leapcnt} * 8 + v1.isstdcnt + v1.isutcnt;
  if (!r.Has(v1_size)) return bad("truncated version 1 data");
  r.Skip(v1_size);
  Counts c{};
  RETURN_IF_ERROR(header(&c));
  if (c.typecnt == 0 || c.typecnt > 256) return bad("type count must be 1-256");
  if (c.charcnt == 0) return bad("no abbreviation characters");
  if (c.leapcnt != 0) return bad("leap-second zones (\"right/...\") are not supported");
  if ((c.isstdcnt != 0 && c.isstdcnt != c.typecnt) || (c.isutcnt != 0 && c.isutcnt != c.typecnt)) {
    return bad("bad standard/UT indicator count");
  }
  const uint64_t size =
      uint64_t{c.timecnt} * 9 + uint64_t{c.typecnt} * 6 + c.charcnt + c.isstdcnt + c.isutcnt;
  if (!r.Has(size)) return bad("truncated data");

  auto data = std::make_shared<Data>();
  data->name = std::move(name);
  data->times.reserve(c.timecnt);
  for (uint32_t i = 0; i < c.timecnt; ++i) {
    const int64_t t = r.I64();
    if (!data->times.empty() && t <= data->times.back()) {
      return bad("transition times not ascending");
    }
    data->times.push_back(t);
  }
  for (uint32_t i = 0; i < c.timecnt; ++i) {
    const uint8_t type = r.U8();
    if (type >= c.typecnt) return bad("transition type index out of range");
    data->type_of.push_back(type);
  }
  std::vector<uint8_t> abbr_index;
  for (uint32_t i = 0; i < c.typecnt; ++i) {
    const auto utoff = static_cast<int32_t>(r.U32());
    const uint8_t isdst = r.U8();
    const uint8_t idx = r.U8();
    if (utoff < kMinUtoff || utoff > kMaxUtoff) return bad("UTC offset out of range");
    if (isdst > 1) return bad("bad DST flag");
    if (idx >= c.charcnt) return bad("abbreviation index out of range");
    data->types.push_back({utoff, isdst == 1, {}});
    abbr_index.push_back(idx);
  }
  const std::string_view chars = r.Take(c.charcnt);
  for (size_t i = 0; i < data->types.size(); ++i) {
    const std::string_view rest = chars.substr(abbr_index[i]);
    data->types[i].abbr = std::string(rest.substr(0, rest.find('\0')));
  }
  r.Skip(c.isstdcnt + c.isutcnt);
  // Footer: "\n<POSIX TZ string>\n" (may be empty).
  if (!r.Has(1) || r.U8() != '\n') return bad("missing footer");
  const size_t footer_start = r.pos();
  std::string_view rest = bytes.substr(footer_start);
  const size_t newline = rest.find('\n');
  if (newline == std::string_view::npos) return bad("unterminated footer");
  const std::string_view footer = rest.substr(0, newline);
  if (!footer.empty()) {
    StatusOr<TimeZone> rule_zone = FromPosixRule(footer);
    if (!rule_zone.ok()) return bad(rule_zone.status().message());
    data->rule = rule_zone->data_->rule;
  }
  return TimeZone(std::move(data));
}

StatusOr<TimeZone> TimeZone::Load(std::string_view name, std::string_view zoneinfo_dir) {
  if (name == "UTC") return TimeZone::Utc();
  if (!ValidZoneName(name)) {
    return InvalidArgument(fmt::format(
        "\"{}\" is not a time zone name (expected an IANA name such as \"Europe/Berlin\" or "
        "\"UTC\")",
        name));
  }
  std::string dir(zoneinfo_dir);
  if (dir.empty()) {
    const char* env = std::getenv("TZDIR");
    dir = (env != nullptr && *env != '\0') ? env : "/usr/share/zoneinfo";
  }
  const std::string path = dir + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("unknown time zone \"{}\" (no file {})", name, path));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return NotFound(fmt::format("time zone \"{}\": cannot read {}", name, path));
  return FromTzif(contents.str(), std::string(name));
}

namespace {

struct Civil {
  int year;
  unsigned month, day;
  int64_t seconds_of_day;
};

Civil ToCivil(LocalTime local) {
  const auto day = std::chrono::floor<days>(local);
  const std::chrono::year_month_day ymd(day);
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()), (local - day).count()};
}

}  // namespace

std::string FormatDate(Instant t, const TimeZone& zone) {
  const Civil c = ToCivil(zone.ToLocal(Clamp(t)));
  return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string FormatIso8601(Instant t, const TimeZone& zone) {
  t = Clamp(t);
  const Civil c = ToCivil(zone.ToLocal(t));
  const int64_t off = zone.OffsetAt(t).count();
  const int64_t abs_off = off < 0 ? -off : off;
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", c.year, c.month, c.day,
                  c.seconds_of_day / 3600, c.seconds_of_day / 60 % 60, c.seconds_of_day % 60,
                  off < 0 ? '-' : '+', abs_off / 3600, abs_off / 60 % 60);
  if (abs_off % 60 != 0) out += fmt::format(":{:02}", abs_off % 60);
  return out;
}

std::string FormatUtc(Instant t) {
  const Civil c = ToCivil(LocalTime(Clamp(t).time_since_epoch()));
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day,
                     c.seconds_of_day / 3600, c.seconds_of_day / 60 % 60, c.seconds_of_day % 60);
}

StatusOr<Instant> ParseInstant(std::string_view text, const TimeZone& zone) {
  size_t pos = 0;
  auto bad = [&](std::string_view what) {
    return InvalidArgument(fmt::format(
        "bad date/time \"{}\": {} (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or either with Z "
        "or +HH:MM)",
        text, what));
  };
  auto digits = [&](size_t n, int* out) {
    if (text.size() - pos < n) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      const char ch = text[pos + i];
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + (ch - '0');
    }
    *out = v;
    pos += n;
    return true;
  };
  auto literal = [&](char ch) {
    if (pos < text.size() && text[pos] == ch) {
      ++pos;
      return true;
    }
    return false;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(4, &y) || !literal('-') || !digits(2, &mo) || !literal('-') || !digits(2, &d)) {
    return bad("no date");
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || y < 1) return bad("not a calendar date");
  if (pos < text.size()) {
    if (!literal('T') && !literal(' ')) return bad("expected 'T' after the date");
    if (!digits(2, &h) || !literal(':') || !digits(2, &mi)) return bad("bad time of day");
    if (literal(':') && !digits(2, &s)) return bad("bad seconds");
    if (h > 23 || mi > 59 || s > 59) return bad("time of day out of range");
  }
  const LocalTime local = LocalTime(std::chrono::local_days(ymd).time_since_epoch()) +
                          std::chrono::hours(h) + std::chrono::minutes(mi) + seconds(s);
  if (pos == text.size()) return zone.Resolve(local);
  if (literal('Z')) {
    if (pos != text.size()) return bad("characters after 'Z'");
    return Instant(local.time_since_epoch());
  }
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(2, &oh) || !literal(':') || !digits(2, &om) || pos != text.size() || oh > 23 ||
        om > 59) {
      return bad("bad UTC offset");
    }
    const seconds offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    return Instant(local.time_since_epoch()) - sign * offset;
  }
  return bad("unexpected characters after the time");
}

}  // namespace pinpipe::scheduler

// Tests for TimeZone: offsets and transitions from the system's TZif files (and past their
// tables, from the POSIX rule in the footer, checked against the table where both exist), local
// time lookup across DST, the TZif and POSIX TZ parsers' errors, and date formatting/parsing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "scheduler/time_zone.h"
#include "testing/status_matchers.h"

namespace pinpipe::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TimeZone Zone(const std::string& name) {
  StatusOr<TimeZone> zone = TimeZone::Load(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return zone.ok() ? *zone : TimeZone::Utc();
}

Instant At(const std::string& text) {
  StatusOr<Instant> t = ParseInstant(text, TimeZone::Utc());
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : Instant{};
}

LocalTime Local(const std::string& text) { return LocalTime(At(text + "Z").time_since_epoch()); }

TEST(TimeZoneTest, UtcNeedsNoFile) {
  const TimeZone utc = TimeZone::Utc();
  EXPECT_EQ(utc.name(), "UTC");
  EXPECT_EQ(utc.OffsetAt(At("2024-07-01T00:00:00Z")), seconds(0));
  EXPECT_TRUE(
      utc.TransitionsBetween(At("1900-01-01T00:00:00Z"), At("2100-01-01T00:00:00Z")).empty());
  EXPECT_EQ(TimeZone::Load("UTC", "/nonexistent")->name(), "UTC");
  EXPECT_EQ(utc.AbbreviationAt(At("2024-07-01T00:00:00Z")), "UTC");
}

TEST(TimeZoneTest, BerlinOffsets) {
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.name(), "Europe/Berlin");
  EXPECT_EQ(berlin.OffsetAt(At("2024-01-15T12:00:00Z")), hours(1));
  EXPECT_EQ(berlin.OffsetAt(At("2024-07-15T12:00:00Z")), hours(2));
  EXPECT_EQ(berlin.AbbreviationAt(At("2024-07-15T12:00:00Z")), "CEST");
  EXPECT_EQ(berlin.AbbreviationAt(At("2024-01-15T12:00:00Z")), "CET");
  // Local mean time before 1893: +0:53:28.
  EXPECT_EQ(berlin.OffsetAt(At("1890-01-01T00:00:00Z")), seconds(53 * 60 + 28));
  // Past the table (2037): the footer rule.
  EXPECT_EQ(berlin.OffsetAt(At("2040-07-01T00:00:00Z")), hours(2));
  EXPECT_EQ(berlin.OffsetAt(At("2040-12-01T00:00:00Z")), hours(1));
  EXPECT_EQ(berlin.AbbreviationAt(At("2099-07-01T00:00:00Z")), "CEST");
  // The exact switch instants.
  EXPECT_EQ(berlin.OffsetAt(At("2024-03-31T00:59:59Z")), hours(1));
  EXPECT_EQ(berlin.OffsetAt(At("2024-03-31T01:00:00Z")), hours(2));
  EXPECT_EQ(berlin.OffsetAt(At("2024-10-27T00:59:59Z")), hours(2));
  EXPECT_EQ(berlin.OffsetAt(At("2024-10-27T01:00:00Z")), hours(1));
}

TEST(TimeZoneTest, TransitionsFromTableAndRule) {
  const TimeZone berlin = Zone("Europe/Berlin");
  const std::vector<ZoneTransition> y2024 =
      berlin.TransitionsBetween(At("2024-01-01T00:00:00Z"), At("2025-01-01T00:00:00Z"));
  ASSERT_EQ(y2024.size(), 2u);
  EXPECT_EQ(y2024[0], (ZoneTransition{At("2024-03-31T01:00:00Z"), hours(1), hours(2)}));
  EXPECT_EQ(y2024[1], (ZoneTransition{At("2024-10-27T01:00:00Z"), hours(2), hours(1)}));
  const std::vector<ZoneTransition> y2040 =
      berlin.TransitionsBetween(At("2040-01-01T00:00:00Z"), At("2041-01-01T00:00:00Z"));
  ASSERT_EQ(y2040.size(), 2u);
  EXPECT_EQ(y2040[0], (ZoneTransition{At("2040-03-25T01:00:00Z"), hours(1), hours(2)}));
  EXPECT_EQ(y2040[1], (ZoneTransition{At("2040-10-28T01:00:00Z"), hours(2), hours(1)}));
  // Across the end of the table: no duplicate, no gap.
  const std::vector<ZoneTransition> across =
      berlin.TransitionsBetween(At("2036-01-01T00:00:00Z"), At("2040-01-01T00:00:00Z"));
  EXPECT_EQ(across.size(), 8u);
  for (size_t i = 1; i < across.size(); ++i) {
    EXPECT_LT(across[i - 1].instant, across[i].instant);
    EXPECT_EQ(across[i - 1].offset_after, across[i].offset_before);
  }
  // Half-open: (from, to].
  EXPECT_EQ(
      berlin.TransitionsBetween(At("2024-03-31T01:00:00Z"), At("2024-10-27T01:00:00Z")).size(), 1u);
}

std::string Footer(const std::string& name) {
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string bytes = text.str();
  bytes.pop_back();  // the final newline
  return bytes.substr(bytes.rfind('\n') + 1);
}

// The POSIX rule code and the zone file's table are independent descriptions of the same
// transitions for years the rule has held.
TEST(TimeZoneTest, FooterRuleReproducesTheTable) {
  const std::pair<const char*, int> zones[] = {
      {"Europe/Berlin", 1997},       {"America/New_York", 2008}, {"Australia/Sydney", 2009},
      {"Australia/Lord_Howe", 2009}, {"America/Santiago", 2024}, {"Asia/Kolkata", 1950}};
  for (const auto& [name, first_year] : zones) {
    SCOPED_TRACE(name);
    const TimeZone zone = Zone(name);
    const std::string footer = Footer(name);
    StatusOr<TimeZone> rule = TimeZone::FromPosixRule(footer);
    ASSERT_TRUE(rule.ok()) << rule.status().ToString();
    const Instant from = At(std::to_string(first_year) + "-01-01T00:00:00Z");
    const Instant to = At("2037-01-01T00:00:00Z");
    EXPECT_EQ(zone.TransitionsBetween(from, to), rule->TransitionsBetween(from, to)) << footer;
    for (Instant t = from; t < to; t += hours(24 * 7 + 5)) {
      ASSERT_EQ(zone.OffsetAt(t), rule->OffsetAt(t)) << FormatUtc(t);
    }
  }
}

TEST(TimeZoneTest, LookupClassifiesLocalTimes) {
  const TimeZone berlin = Zone("Europe/Berlin");
  TimeZone::LocalInfo gap = berlin.Lookup(Local("2024-03-31T02:30:00"));
  EXPECT_EQ(gap.kind, TimeZone::LocalKind::kNonexistent);
  EXPECT_EQ(gap.first, At("2024-03-31T01:00:00Z"));
  TimeZone::LocalInfo twice = berlin.Lookup(Local("2024-10-27T02:30:00"));
  EXPECT_EQ(twice.kind, TimeZone::LocalKind::kAmbiguous);
  EXPECT_EQ(twice.first, At("2024-10-27T00:30:00Z"));
  EXPECT_EQ(twice.second, At("2024-10-27T01:30:00Z"));
  TimeZone::LocalInfo once = berlin.Lookup(Local("2024-10-27T03:00:00"));
  EXPECT_EQ(once.kind, TimeZone::LocalKind::kUnique);
  EXPECT_EQ(once.first, At("2024-10-27T02:00:00Z"));
  // Edges: 02:00 is in the gap, 03:00 is not; 02:00 repeats, 01:59:59 does not.
  EXPECT_EQ(berlin.Lookup(Local("2024-03-31T02:00:00")).kind, TimeZone::LocalKind::kNonexistent);
  EXPECT_EQ(berlin.Lookup(Local("2024-03-31T03:00:00")).kind, TimeZone::LocalKind::kUnique);
  EXPECT_EQ(berlin.Lookup(Local("2024-10-27T02:00:00")).kind, TimeZone::LocalKind::kAmbiguous);
  EXPECT_EQ(berlin.Lookup(Local("2024-10-27T01:59:59")).kind, TimeZone::LocalKind::kUnique);
  EXPECT_EQ(berlin.Lookup(Local("2024-10-27T02:59:59")).kind, TimeZone::LocalKind::kAmbiguous);
  // Resolve: the first instant showing the time or later.
  EXPECT_EQ(berlin.Resolve(Local("2024-03-31T02:59:00")), At("2024-03-31T01:00:00Z"));
  EXPECT_EQ(berlin.Resolve(Local("2024-10-27T02:15:00")), At("2024-10-27T00:15:00Z"));
  const TimeZone new_york = Zone("America/New_York");
  EXPECT_EQ(new_york.Lookup(Local("2024-11-03T01:30:00")).kind, TimeZone::LocalKind::kAmbiguous);
  EXPECT_EQ(new_york.Resolve(Local("2024-11-03T01:30:00")), At("2024-11-03T05:30:00Z"));
  EXPECT_EQ(new_york.Resolve(Local("2024-03-10T02:30:00")), At("2024-03-10T07:00:00Z"));
}

TEST(TimeZoneTest, MaxLocalUpToRemembersTheRepeatedHour) {
  const TimeZone berlin = Zone("Europe/Berlin");
  // In the second 02:xx (CET), the clock already showed up to 02:59:59 once.
  EXPECT_EQ(berlin.MaxLocalUpTo(At("2024-10-27T01:10:00Z")), Local("2024-10-27T02:59:59"));
  EXPECT_EQ(berlin.MaxLocalUpTo(At("2024-10-27T00:10:00Z")), Local("2024-10-27T02:10:00"));
  EXPECT_EQ(berlin.MaxLocalUpTo(At("2024-10-27T02:00:00Z")), Local("2024-10-27T03:00:00"));
  EXPECT_EQ(berlin.MaxLocalUpTo(At("2024-07-01T00:00:00Z")), Local("2024-07-01T02:00:00"));
}

TEST(TimeZoneTest, PosixRules) {
  StatusOr<TimeZone> est = TimeZone::FromPosixRule("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(est.ok()) << est.status().ToString();
  EXPECT_EQ(est->OffsetAt(At("2024-07-01T00:00:00Z")), hours(-4));
  EXPECT_EQ(est->OffsetAt(At("2024-12-01T00:00:00Z")), hours(-5));
  EXPECT_EQ(est->AbbreviationAt(At("2024-07-01T00:00:00Z")), "EDT");
  StatusOr<TimeZone> iran = TimeZone::FromPosixRule("<+0330>-3:30");
  ASSERT_TRUE(iran.ok()) << iran.status().ToString();
  EXPECT_EQ(iran->OffsetAt(At("2024-07-01T00:00:00Z")), hours(3) + minutes(30));
  EXPECT_EQ(iran->AbbreviationAt(At("2024-07-01T00:00:00Z")), "+0330");
  // DST all year (RFC 8536 example): no transition ever.
  StatusOr<TimeZone> always = TimeZone::FromPosixRule("EST5EDT,0/0,J365/25");
  ASSERT_TRUE(always.ok()) << always.status().ToString();
  EXPECT_EQ(always->OffsetAt(At("2024-01-01T03:00:00Z")), hours(-4));
  EXPECT_EQ(always->OffsetAt(At("2024-12-31T23:00:00Z")), hours(-4));
  EXPECT_TRUE(
      always->TransitionsBetween(At("2024-01-01T10:00:00Z"), At("2026-01-01T00:00:00Z")).empty());
  // Julian days: J60 is March 1 also in leap years; 59 (zero-based) is Feb 29 in them.
  StatusOr<TimeZone> julian = TimeZone::FromPosixRule("AAA0BBB,J60/0,300/0");
  ASSERT_TRUE(julian.ok()) << julian.status().ToString();
  EXPECT_EQ(
      julian->TransitionsBetween(At("2024-01-01T00:00:00Z"), At("2025-01-01T00:00:00Z"))[0].instant,
      At("2024-03-01T00:00:00Z"));
  StatusOr<TimeZone> zero_based = TimeZone::FromPosixRule("AAA0BBB,59/0,300/0");
  ASSERT_TRUE(zero_based.ok());
  EXPECT_EQ(
      zero_based->TransitionsBetween(At("2024-01-01T00:00:00Z"), At("2025-01-01T00:00:00Z"))[0]
          .instant,
      At("2024-02-29T00:00:00Z"));
  // Southern hemisphere: DST spans the new year.
  StatusOr<TimeZone> sydney = TimeZone::FromPosixRule("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(sydney.ok());
  EXPECT_EQ(sydney->OffsetAt(At("2024-01-01T00:00:00Z")), hours(11));
  EXPECT_EQ(sydney->OffsetAt(At("2024-07-01T00:00:00Z")), hours(10));
}

TEST(TimeZoneTest, PosixRuleErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"",
       R"(POSIX TZ rule "": expected a time zone abbreviation of at least 3 characters (at character 1))"},
      {"EST", R"(POSIX TZ rule "EST": expected an offset (at character 4))"},
      {"E5",
       R"(POSIX TZ rule "E5": expected a time zone abbreviation of at least 3 characters (at character 1))"},
      {"EST25", R"(POSIX TZ rule "EST25": number above 24 (at character 4))"},
      {"EST5EDT,M13.1.0,M11.1.0",
       R"(POSIX TZ rule "EST5EDT,M13.1.0,M11.1.0": number above 12 (at character 10))"},
      {"EST5EDT,M3.0.0,M11.1.0",
       R"(POSIX TZ rule "EST5EDT,M3.0.0,M11.1.0": week must be 1-5 (at character 12))"},
      {"EST5EDT,M3.2.0", R"(POSIX TZ rule "EST5EDT,M3.2.0": expected ',' (at character 15))"},
      {"EST5EDT,J0,J365",
       R"(POSIX TZ rule "EST5EDT,J0,J365": Julian day must be 1-365 (at character 10))"},
      {"EST5EDT,M3.2.0/200,M11.1.0",
       R"(POSIX TZ rule "EST5EDT,M3.2.0/200,M11.1.0": number above 167 (at character 16))"},
      {"<+03", R"(POSIX TZ rule "<+03": unterminated '<' abbreviation (at character 5))"},
      {"EST5EDT,M3.2.0,M11.1.0x",
       R"(POSIX TZ rule "EST5EDT,M3.2.0,M11.1.0x": unexpected characters after the rule (at character 23))"},
  };
  for (const auto& [rule, message] : cases) {
    StatusOr<TimeZone> zone = TimeZone::FromPosixRule(rule);
    ASSERT_FALSE(zone.ok()) << rule;
    EXPECT_EQ(zone.status().message(), message);
  }
}

TEST(TimeZoneTest, LoadErrors) {
  StatusOr<TimeZone> missing = TimeZone::Load("Europe/Nowhere", "/usr/share/zoneinfo");
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(missing.status().message(),
            R"(unknown time zone "Europe/Nowhere" (no file /usr/share/zoneinfo/Europe/Nowhere))");
  for (const char* name : {"", "../etc/passwd", "/etc/passwd", "Europe//Berlin", "Europe/",
                           "Europe/Berlin; rm", "a/./b"}) {
    StatusOr<TimeZone> bad = TimeZone::Load(name);
    EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument)) << name;
    EXPECT_EQ(bad.status().message(),
              "\"" + std::string(name) +
                  "\" is not a time zone name (expected an IANA name such as \"Europe/Berlin\" or "
                  "\"UTC\")");
  }
  StatusOr<TimeZone> not_tzif = TimeZone::Load("zone1970.tab");
  EXPECT_EQ(not_tzif.status().message(),
            R"(time zone "zone1970.tab": not a valid TZif file: no "TZif" magic)");
}

// A TZif file: an empty version 1 block, then the version 2 block and the footer.
struct TzifType {
  int32_t utoff;
  uint8_t isdst;
  uint8_t abbr_index;
};
std::string Tzif(char version, const std::vector<int64_t>& times,
                 const std::vector<uint8_t>& type_of, const std::vector<TzifType>& types,
                 const std::string& chars, const std::string& footer, uint32_t leapcnt = 0) {
  auto u32 = [](std::string* out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out->push_back(static_cast<char>((v >> shift) & 0xff));
  };
  auto header = [&](std::string* out, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt,
                    uint32_t leaps) {
    *out += "TZif";
    out->push_back(version);
    out->append(15, '\0');
    u32(out, 0);  // isutcnt
    u32(out, 0);  // isstdcnt
    u32(out, leaps);
    u32(out, timecnt);
    u32(out, typecnt);
    u32(out, charcnt);
  };
  std::string out;
  header(&out, 0, 0, 0, 0);
  header(&out, static_cast<uint32_t>(times.size()), static_cast<uint32_t>(types.size()),
         static_cast<uint32_t>(chars.size()), leapcnt);
  for (int64_t t : times) {
    u32(&out, static_cast<uint32_t>(static_cast<uint64_t>(t) >> 32));
    u32(&out, static_cast<uint32_t>(t));
  }
  for (uint8_t i : type_of) out.push_back(static_cast<char>(i));
  for (const TzifType& type : types) {
    u32(&out, static_cast<uint32_t>(type.utoff));
    out.push_back(static_cast<char>(type.isdst));
    out.push_back(static_cast<char>(type.abbr_index));
  }
  out += chars;
  out.append(leapcnt * 12, '\0');
  out += "\n" + footer + "\n";
  return out;
}

TEST(TimeZoneTest, SyntheticTzif) {
  // "XST" (+1) until 2000-01-01, then "YST" (+2); after that the footer rule keeps +2.
  const int64_t y2000 = At("2000-01-01T00:00:00Z").time_since_epoch().count();
  const std::string chars("XST\0YST\0", 8);
  StatusOr<TimeZone> zone = TimeZone::FromTzif(
      Tzif('2', {y2000}, {1}, {{3600, 0, 0}, {7200, 0, 4}}, chars, "YST-2"), "Test/Zone");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  EXPECT_EQ(zone->name(), "Test/Zone");
  EXPECT_EQ(zone->OffsetAt(At("1999-12-31T23:59:59Z")), hours(1));
  EXPECT_EQ(zone->OffsetAt(At("2000-01-01T00:00:00Z")), hours(2));
  EXPECT_EQ(zone->OffsetAt(At("2200-01-01T00:00:00Z")), hours(2));
  EXPECT_EQ(zone->AbbreviationAt(At("1990-01-01T00:00:00Z")), "XST");
  // An empty footer: the last type forever.
  StatusOr<TimeZone> no_footer =
      TimeZone::FromTzif(Tzif('3', {y2000}, {1}, {{3600, 0, 0}, {7200, 0, 4}}, chars, ""), "T");
  ASSERT_TRUE(no_footer.ok()) << no_footer.status().ToString();
  EXPECT_EQ(no_footer->OffsetAt(At("2200-01-01T00:00:00Z")), hours(2));
}

// Regression (found by time_zone_fuzz): a footer that disagrees with the table's last type made
// the offset change one second after the last transition without any transition reported.
TEST(TimeZoneTest, FooterInconsistentWithTableGovernsFromTheLastTransition) {
  const int64_t y2000 = At("2000-01-01T00:00:00Z").time_since_epoch().count();
  const std::string chars("UTC\0XST\0", 8);
  StatusOr<TimeZone> zone =
      TimeZone::FromTzif(Tzif('2', {y2000}, {1}, {{0, 0, 0}, {3600, 0, 4}}, chars, "YST-2"), "T");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  EXPECT_EQ(zone->OffsetAt(At("1999-12-31T23:59:59Z")), hours(0));
  EXPECT_EQ(zone->OffsetAt(At("2000-01-01T00:00:00Z")), hours(2));
  EXPECT_EQ(zone->OffsetAt(At("2000-01-01T00:00:01Z")), hours(2));
  EXPECT_EQ(zone->TransitionsBetween(At("1999-01-01T00:00:00Z"), At("2001-01-01T00:00:00Z")),
            (std::vector<ZoneTransition>{{At("2000-01-01T00:00:00Z"), hours(0), hours(2)}}));
}

TEST(TimeZoneTest, TzifErrors) {
  const std::string chars("XST\0", 4);
  const std::string good = Tzif('2', {0}, {0}, {{3600, 0, 0}}, chars, "XST-1");
  ASSERT_TRUE(TimeZone::FromTzif(good, "T").ok());
  const std::pair<std::string, std::string> cases[] = {
      {"", "truncated header"},
      {"hello, this is not a time zone file at all, no", "no \"TZif\" magic"},
      {std::string("TZif\0", 5) + std::string(39, '\0'),
       "version 1 files are not supported (need version 2 or later)"},
      {good.substr(0, good.size() - 10), "truncated data"},
      {Tzif('2', {0}, {0}, {{3600, 0, 0}}, chars, "XST-1", /*leapcnt=*/1),
       "leap-second zones (\"right/...\") are not supported"},
      {Tzif('2', {0}, {1}, {{3600, 0, 0}}, chars, "XST-1"), "transition type index out of range"},
      {Tzif('2', {5, 5}, {0, 0}, {{3600, 0, 0}}, chars, "XST-1"), "transition times not ascending"},
      {Tzif('2', {}, {}, {{100000, 0, 0}}, chars, "XST-1"), "UTC offset out of range"},
      {Tzif('2', {}, {}, {{3600, 2, 0}}, chars, "XST-1"), "bad DST flag"},
      {Tzif('2', {}, {}, {{3600, 0, 9}}, chars, "XST-1"), "abbreviation index out of range"},
      {Tzif('2', {}, {}, {}, chars, "XST-1"), "type count must be 1-256"},
      {Tzif('2', {}, {}, {{3600, 0, 0}}, chars, "X"),
       "POSIX TZ rule \"X\": expected a time zone abbreviation of at least 3 characters (at "
       "character 1)"},
      {good.substr(0, good.size() - 1), "unterminated footer"},
      {Tzif('5', {}, {}, {{3600, 0, 0}}, chars, ""), "unknown version"},
  };
  for (const auto& [bytes, what] : cases) {
    StatusOr<TimeZone> zone = TimeZone::FromTzif(bytes, "T");
    ASSERT_FALSE(zone.ok()) << what;
    EXPECT_THAT(zone, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_EQ(zone.status().message(), "time zone \"T\": not a valid TZif file: " + what);
  }
}

TEST(TimeZoneTest, Formatting) {
  const TimeZone berlin = Zone("Europe/Berlin");
  const TimeZone kolkata = Zone("Asia/Kolkata");
  const Instant t = At("2024-07-01T22:30:00Z");
  EXPECT_EQ(FormatIso8601(t, berlin), "2024-07-02T00:30:00+02:00");
  EXPECT_EQ(FormatIso8601(t, kolkata), "2024-07-02T04:00:00+05:30");
  EXPECT_EQ(FormatIso8601(t, TimeZone::Utc()), "2024-07-01T22:30:00+00:00");
  EXPECT_EQ(FormatIso8601(At("1890-01-01T00:00:00Z"), berlin), "1890-01-01T00:53:28+00:53:28");
  EXPECT_EQ(FormatIso8601(At("2024-01-01T00:00:00Z"), Zone("America/New_York")),
            "2023-12-31T19:00:00-05:00");
  EXPECT_EQ(FormatUtc(t), "2024-07-01T22:30:00Z");
  EXPECT_EQ(FormatDate(t, berlin), "2024-07-02");
  EXPECT_EQ(FormatDate(t, TimeZone::Utc()), "2024-07-01");
}

TEST(TimeZoneTest, ParseInstant) {
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(*ParseInstant("2024-01-01", berlin), At("2023-12-31T23:00:00Z"));
  EXPECT_EQ(*ParseInstant("2024-07-01T06:00", berlin), At("2024-07-01T04:00:00Z"));
  EXPECT_EQ(*ParseInstant("2024-07-01 06:00:30", berlin), At("2024-07-01T04:00:30Z"));
  EXPECT_EQ(*ParseInstant("2024-07-01T06:00:00Z", berlin), At("2024-07-01T06:00:00Z"));
  EXPECT_EQ(*ParseInstant("2024-07-01T06:00:00-02:30", berlin), At("2024-07-01T08:30:00Z"));
  // Local times in a gap resolve to its end, repeated ones to the first.
  EXPECT_EQ(*ParseInstant("2024-03-31T02:30", berlin), At("2024-03-31T01:00:00Z"));
  EXPECT_EQ(*ParseInstant("2024-10-27T02:30", berlin), At("2024-10-27T00:30:00Z"));
  const std::pair<const char*, const char*> errors[] = {
      {"", "no date"},
      {"2024-1-01", "no date"},
      {"2024-02-30", "not a calendar date"},
      {"0000-01-01", "not a calendar date"},
      {"2024-01-01X", "expected 'T' after the date"},
      {"2024-01-01T6:00", "bad time of day"},
      {"2024-01-01T24:00", "time of day out of range"},
      {"2024-01-01T06:00:", "bad seconds"},
      {"2024-01-01T06:00Zx", "characters after 'Z'"},
      {"2024-01-01T06:00+0200", "bad UTC offset"},
      {"2024-01-01T06:00 CET", "unexpected characters after the time"},
  };
  for (const auto& [text, what] : errors) {
    StatusOr<Instant> t = ParseInstant(text, berlin);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().message(),
              "bad date/time \"" + std::string(text) + "\": " + what +
                  " (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or either with Z or +HH:MM)");
  }
}

}  // namespace
}  // namespace pinpipe::scheduler

// Tests for CronSchedule: a table of expression + zone + instant -> next fire time (month ends,
// leap years, the day-of-month/day-of-week OR rule, DST gaps and repeats in Berlin, New York,
// Sydney and Lord Howe, instants past the zone files' tables), Prev, the exact parse errors and
// the canonical form.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "scheduler/cron.h"
#include "scheduler/time_zone.h"
#include "testing/status_matchers.h"

namespace pinpipe::scheduler {
namespace {

struct Row {
  std::string expression, zone, from, expected;
  int line;
};

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// "expression | zone | instant | expected" per line; '#' starts a comment line.
std::vector<Row> Rows(std::string_view table) {
  std::vector<Row> rows;
  std::istringstream in{std::string(table)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (Trim(line).empty() || Trim(line)[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream cells_in(line);
    std::string cell;
    while (std::getline(cells_in, cell, '|')) cells.push_back(Trim(cell));
    EXPECT_EQ(cells.size(), 4u) << "table line " << number << ": " << line;
    if (cells.size() == 4) rows.push_back({cells[0], cells[1], cells[2], cells[3], number});
  }
  return rows;
}

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

// Expected values were checked against an independent brute force (Python zoneinfo, walking
// UTC minute by minute and firing when the wall clock first reaches a matching minute).
constexpr std::string_view kNextTable = R"(
# expression          | zone             | after                     | next
*/15 * * * *          | UTC              | 2024-01-01T00:00:00Z      | 2024-01-01T00:15:00Z
*/15 * * * *          | UTC              | 2024-01-01T00:07:30Z      | 2024-01-01T00:15:00Z
*/15 * * * *          | UTC              | 2024-01-01T23:59:00Z      | 2024-01-02T00:00:00Z
0 0 * * *             | UTC              | 2024-01-01T00:00:00Z      | 2024-01-02T00:00:00Z
@daily                | UTC              | 2023-12-31T23:59:59Z      | 2024-01-01T00:00:00Z
@midnight             | UTC              | 2024-02-28T00:00:00Z      | 2024-02-29T00:00:00Z
@hourly               | UTC              | 2024-01-01T10:30:00Z      | 2024-01-01T11:00:00Z
@weekly               | UTC              | 2024-01-01T00:00:00Z      | 2024-01-07T00:00:00Z
@monthly              | UTC              | 2024-01-31T12:00:00Z      | 2024-02-01T00:00:00Z
@yearly               | UTC              | 2024-06-01T00:00:00Z      | 2025-01-01T00:00:00Z
@annually             | UTC              | 2024-12-31T23:59:59Z      | 2025-01-01T00:00:00Z
1-10/2 * * * *        | UTC              | 2024-01-01T00:09:00Z      | 2024-01-01T01:01:00Z
5/20 * * * *          | UTC              | 2024-01-01T00:45:00Z      | 2024-01-01T01:05:00Z
0 */6 * * *           | UTC              | 2024-01-01T18:00:00Z      | 2024-01-02T00:00:00Z
0 9,17 * * *          | UTC              | 2024-01-01T09:00:00Z      | 2024-01-01T17:00:00Z
0 0 1 */3 *           | UTC              | 2024-01-01T00:00:00Z      | 2024-04-01T00:00:00Z
0 0 1 JUL *           | UTC              | 2024-08-01T00:00:00Z      | 2025-07-01T00:00:00Z
0 0 1 jan-mar *       | UTC              | 2024-03-01T00:00:00Z      | 2025-01-01T00:00:00Z
# month ends and leap years
0 0 31 * *            | UTC              | 2024-04-01T00:00:00Z      | 2024-05-31T00:00:00Z
0 0 31 * *            | UTC              | 2024-01-31T00:00:00Z      | 2024-03-31T00:00:00Z
0 0 30 * *            | UTC              | 2024-01-30T00:00:00Z      | 2024-03-30T00:00:00Z
0 0 29 * *            | UTC              | 2023-01-29T00:00:00Z      | 2023-03-29T00:00:00Z
0 0 29 * *            | UTC              | 2024-01-29T00:00:00Z      | 2024-02-29T00:00:00Z
0 0 29 2 *            | UTC              | 2025-01-01T00:00:00Z      | 2028-02-29T00:00:00Z
0 0 29 2 *            | UTC              | 2024-01-01T00:00:00Z      | 2024-02-29T00:00:00Z
0 0 29 2 *            | UTC              | 2096-03-01T00:00:00Z      | 2104-02-29T00:00:00Z
0 0 28-31 2 *         | UTC              | 2023-02-28T00:00:00Z      | 2024-02-28T00:00:00Z
59 23 31 12 *         | UTC              | 2024-12-31T23:59:00Z      | 2025-12-31T23:59:00Z
# day-of-week, 7 = Sunday, names in any case
0 9 * * MON-FRI       | UTC              | 2024-01-05T09:00:00Z      | 2024-01-08T09:00:00Z
0 0 * * 7             | UTC              | 2024-01-01T00:00:00Z      | 2024-01-07T00:00:00Z
0 0 * * 0             | UTC              | 2024-01-01T00:00:00Z      | 2024-01-07T00:00:00Z
0 0 * * SUN,sat       | UTC              | 2024-01-01T00:00:00Z      | 2024-01-06T00:00:00Z
0 0 * * 5-7           | UTC              | 2024-01-01T00:00:00Z      | 2024-01-05T00:00:00Z
# both day fields restricted: either matches (Vixie OR rule)
0 0 13 * FRI          | UTC              | 2024-01-01T00:00:00Z      | 2024-01-05T00:00:00Z
0 0 13 * FRI          | UTC              | 2024-01-12T00:00:00Z      | 2024-01-13T00:00:00Z
0 0 13 * FRI          | UTC              | 2024-01-13T00:00:00Z      | 2024-01-19T00:00:00Z
0 0 1 * MON           | UTC              | 2024-01-01T00:00:00Z      | 2024-01-08T00:00:00Z
0 0 1-7 * MON         | UTC              | 2024-01-01T00:00:00Z      | 2024-01-02T00:00:00Z
# a day field starting with '*' (also */2): both must match
0 0 */2 * FRI         | UTC              | 2024-01-05T00:00:00Z      | 2024-01-19T00:00:00Z
0 0 */2 * FRI         | UTC              | 2024-01-19T00:00:00Z      | 2024-02-09T00:00:00Z
0 0 13 * *            | UTC              | 2024-01-01T00:00:00Z      | 2024-01-13T00:00:00Z
0 0 * * FRI           | UTC              | 2024-01-06T00:00:00Z      | 2024-01-12T00:00:00Z
# Berlin spring forward (2024-03-31 02:00 CET -> 03:00 CEST): the gap fires at its end, once
30 2 * * *            | Europe/Berlin    | 2024-03-30T02:30:00+01:00 | 2024-03-31T03:00:00+02:00
30 2 * * *            | Europe/Berlin    | 2024-03-31T03:00:00+02:00 | 2024-04-01T02:30:00+02:00
0 2 * * *             | Europe/Berlin    | 2024-03-30T12:00:00+01:00 | 2024-03-31T03:00:00+02:00
*/15 * * * *          | Europe/Berlin    | 2024-03-31T01:45:00+01:00 | 2024-03-31T03:00:00+02:00
*/15 * * * *          | Europe/Berlin    | 2024-03-31T03:00:00+02:00 | 2024-03-31T03:15:00+02:00
0 * * * *             | Europe/Berlin    | 2024-03-31T01:00:00+01:00 | 2024-03-31T03:00:00+02:00
0 0 * * *             | Europe/Berlin    | 2024-03-31T00:00:00+01:00 | 2024-04-01T00:00:00+02:00
# Berlin fall back (2024-10-27 03:00 CEST -> 02:00 CET): a repeated time fires once, the first
30 2 * * *            | Europe/Berlin    | 2024-10-26T02:30:00+02:00 | 2024-10-27T02:30:00+02:00
30 2 * * *            | Europe/Berlin    | 2024-10-27T02:30:00+02:00 | 2024-10-28T02:30:00+01:00
0 * * * *             | Europe/Berlin    | 2024-10-27T02:00:00+02:00 | 2024-10-27T03:00:00+01:00
*/30 * * * *          | Europe/Berlin    | 2024-10-27T02:30:00+02:00 | 2024-10-27T03:00:00+01:00
*/30 * * * *          | Europe/Berlin    | 2024-10-27T02:10:00+01:00 | 2024-10-27T03:00:00+01:00
0 3 * * *             | Europe/Berlin    | 2024-10-27T00:00:00Z      | 2024-10-27T03:00:00+01:00
0 0 * * *             | Europe/Berlin    | 2024-10-27T00:00:00+02:00 | 2024-10-28T00:00:00+01:00
# past the end of the zone file's table: the POSIX rule of its footer
30 2 * * *            | Europe/Berlin    | 2040-03-24T02:30:00+01:00 | 2040-03-25T03:00:00+02:00
30 2 * * *            | Europe/Berlin    | 2040-10-27T02:30:00+02:00 | 2040-10-28T02:30:00+02:00
0 12 * * *            | Europe/Berlin    | 2099-07-01T00:00:00Z      | 2099-07-01T12:00:00+02:00
# New York spring forward (2024-03-10 02:00 EST -> 03:00 EDT) and fall back (11-03 02:00 EDT -> 01:00 EST)
30 2 * * *            | America/New_York | 2024-03-09T02:30:00-05:00 | 2024-03-10T03:00:00-04:00
0 0 * * *             | America/New_York | 2024-03-10T00:00:00-05:00 | 2024-03-11T00:00:00-04:00
30 1 * * *            | America/New_York | 2024-11-02T01:30:00-04:00 | 2024-11-03T01:30:00-04:00
30 1 * * *            | America/New_York | 2024-11-03T01:30:00-04:00 | 2024-11-04T01:30:00-05:00
15 1 * * *            | America/New_York | 2024-11-03T01:20:00-05:00 | 2024-11-04T01:15:00-05:00
0 0 * * *             | America/New_York | 2024-11-03T00:00:00-04:00 | 2024-11-04T00:00:00-05:00
0 * * * *             | America/New_York | 2024-11-03T01:00:00-04:00 | 2024-11-03T02:00:00-05:00
30 2 * * *            | America/New_York | 2050-03-12T12:00:00-05:00 | 2050-03-13T03:00:00-04:00
# southern hemisphere, half-hour offsets, half-hour DST
30 2 * * *            | Australia/Sydney | 2024-04-06T02:30:00+11:00 | 2024-04-07T02:30:00+11:00
30 2 * * *            | Australia/Sydney | 2024-10-05T02:30:00+10:00 | 2024-10-06T03:00:00+11:00
0 0 * * *             | Asia/Kolkata     | 2024-01-01T00:00:00+05:30 | 2024-01-02T00:00:00+05:30
15 2 * * *            | Australia/Lord_Howe | 2024-10-05T02:15:00+10:30 | 2024-10-06T02:30:00+11:00
)";

TEST(CronScheduleTest, NextTable) {
  for (const Row& row : Rows(kNextTable)) {
    SCOPED_TRACE("table line " + std::to_string(row.line) + ": " + row.expression + " | " +
                 row.zone + " | " + row.from);
    StatusOr<CronSchedule> cron = CronSchedule::Parse(row.expression);
    ASSERT_TRUE(cron.ok()) << cron.status().ToString();
    const TimeZone zone = Zone(row.zone);
    const std::optional<Instant> next = cron->Next(At(row.from), zone);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(FormatIso8601(*next, zone), FormatIso8601(At(row.expected), zone));
    // Every fire time is its own Prev's Next and its Next's Prev.
    EXPECT_EQ(cron->Prev(*next + std::chrono::seconds(1), zone), next);
    const std::optional<Instant> prev = cron->Prev(*next, zone);
    ASSERT_TRUE(prev.has_value());
    EXPECT_EQ(cron->Next(*prev, zone), next);
  }
}

constexpr std::string_view kPrevTable = R"(
# expression          | zone             | before                    | prev
0 0 * * *             | UTC              | 2024-01-02T00:00:00Z      | 2024-01-01T00:00:00Z
0 0 * * *             | UTC              | 2024-01-02T00:00:01Z      | 2024-01-02T00:00:00Z
0 0 29 2 *            | UTC              | 2028-01-01T00:00:00Z      | 2024-02-29T00:00:00Z
0 0 31 * *            | UTC              | 2024-05-01T00:00:00Z      | 2024-03-31T00:00:00Z
30 2 * * *            | Europe/Berlin    | 2024-04-01T00:00:00Z      | 2024-03-31T03:00:00+02:00
30 2 * * *            | Europe/Berlin    | 2024-10-28T00:00:00Z      | 2024-10-27T02:30:00+02:00
0 * * * *             | Europe/Berlin    | 2024-10-27T03:00:00+01:00 | 2024-10-27T02:00:00+02:00
0 * * * *             | Europe/Berlin    | 2024-10-27T02:00:00+01:00 | 2024-10-27T02:00:00+02:00
30 1 * * *            | America/New_York | 2024-11-04T00:00:00-05:00 | 2024-11-03T01:30:00-04:00
)";

TEST(CronScheduleTest, PrevTable) {
  for (const Row& row : Rows(kPrevTable)) {
    SCOPED_TRACE("table line " + std::to_string(row.line) + ": " + row.expression + " | " +
                 row.zone + " | " + row.from);
    StatusOr<CronSchedule> cron = CronSchedule::Parse(row.expression);
    ASSERT_TRUE(cron.ok()) << cron.status().ToString();
    const TimeZone zone = Zone(row.zone);
    const std::optional<Instant> prev = cron->Prev(At(row.from), zone);
    ASSERT_TRUE(prev.has_value());
    EXPECT_EQ(FormatIso8601(*prev, zone), FormatIso8601(At(row.expected), zone));
  }
}

TEST(CronScheduleTest, DailyFiresOncePerLocalDayAcrossAYearOfDst) {
  for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Sydney"}) {
    const TimeZone zone = Zone(name);
    for (const char* expression : {"0 0 * * *", "30 2 * * *", "30 1 * * *"}) {
      SCOPED_TRACE(std::string(name) + " " + expression);
      const CronSchedule cron = *CronSchedule::Parse(expression);
      Instant t = At("2024-01-01T12:00:00Z");
      std::string last_date;
      for (int i = 0; i < 365; ++i) {  // 2024-01-02 .. 2024-12-31
        const Instant next = *cron.Next(t, zone);
        ASSERT_GT(next, t);
        const std::string date = FormatDate(next, zone);
        EXPECT_NE(date, last_date) << "fired twice on " << date;
        last_date = date;
        t = next;
      }
      EXPECT_EQ(last_date, "2024-12-31");
    }
  }
}

TEST(CronScheduleTest, HourlyInBerlinHas23And25HourDays) {
  const TimeZone zone = Zone("Europe/Berlin");
  const CronSchedule cron = *CronSchedule::Parse("@hourly");
  auto count = [&](const char* from, const char* to) {
    int n = 0;
    for (Instant t = *cron.Next(At(from) - std::chrono::seconds(1), zone); t < At(to);
         t = *cron.Next(t, zone)) {
      ++n;
    }
    return n;
  };
  // Spring: 02:00 does not exist, 23 fire times. Fall: 02:00 repeats but fires once, 24 fire
  // times over 25 hours (the interval starting at 02:00 CEST lasts two hours).
  EXPECT_EQ(count("2024-03-31T00:00:00+01:00", "2024-04-01T00:00:00+02:00"), 23);
  EXPECT_EQ(count("2024-10-27T00:00:00+02:00", "2024-10-28T00:00:00+01:00"), 24);
  EXPECT_EQ(count("2024-07-01T00:00:00+02:00", "2024-07-02T00:00:00+02:00"), 24);
}

TEST(CronScheduleTest, NextIsStrictlyIncreasingAndPrevInvertsIt) {
  std::mt19937_64 random(42);
  const char* expressions[] = {"*/7 * * * *",   "0 0 29 2 *",      "0 0 13 * FRI",   "30 2 * * *",
                               "0 1-3 * * SUN", "*/20 2 * 3,10 *", "59 23 28-31 * *"};
  const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"};
  for (const char* expression : expressions) {
    StatusOr<CronSchedule> cron = CronSchedule::Parse(expression);
    ASSERT_TRUE(cron.ok()) << cron.status().ToString();
    for (const char* zone_name : zones) {
      const TimeZone zone = Zone(zone_name);
      for (int i = 0; i < 50; ++i) {
        const Instant start(std::chrono::seconds(static_cast<int64_t>(random() % 4'000'000'000)));
        const Instant next = *cron->Next(start, zone);
        ASSERT_GT(next, start) << expression << " " << zone_name;
        EXPECT_TRUE(cron->Matches(zone.ToLocal(next)) ||
                    zone.Lookup(zone.ToLocal(next)).kind == TimeZone::LocalKind::kUnique)
            << expression << " " << zone_name << " " << FormatIso8601(next, zone);
        const Instant after = *cron->Next(next, zone);
        ASSERT_GT(after, next);
        EXPECT_EQ(cron->Prev(after, zone), next);
        EXPECT_EQ(cron->Prev(next + std::chrono::seconds(1), zone), next);
        const std::optional<Instant> prev = cron->Prev(start + std::chrono::seconds(1), zone);
        ASSERT_TRUE(prev.has_value());
        EXPECT_LE(*prev, start);
        EXPECT_EQ(cron->Next(*prev, zone), next) << expression << " " << zone_name;
      }
    }
  }
}

// Regression (found by cron_fuzz): Next and Prev disagreed at the start of the supported range.
TEST(CronScheduleTest, NextAndPrevAgreeAtTheEdgesOfTheRange) {
  const TimeZone lord_howe = Zone("Australia/Lord_Howe");
  const CronSchedule weekdays = *CronSchedule::Parse("0 0 */2,4 * MON-FRI");
  const Instant first = *weekdays.Next(At("0001-01-01T00:00:00Z"), lord_howe);
  EXPECT_EQ(weekdays.Prev(first + std::chrono::seconds(1), lord_howe), first);
  if (const std::optional<Instant> before = weekdays.Prev(first, lord_howe)) {
    EXPECT_EQ(weekdays.Next(*before, lord_howe), first);
  }
  const CronSchedule daily = *CronSchedule::Parse("@daily");
  const TimeZone utc = TimeZone::Utc();
  EXPECT_EQ(daily.Prev(At("0001-01-01T00:00:00Z"), utc), std::nullopt);
  EXPECT_EQ(daily.Next(At("0001-01-01T00:00:00Z") - std::chrono::hours(24 * 365 * 3000), utc),
            At("0001-01-01T00:00:00Z"));
  EXPECT_EQ(daily.Next(At("9999-12-31T00:00:00Z"), utc), std::nullopt);
  EXPECT_EQ(daily.Prev(At("9999-12-31T12:00:00Z"), utc), At("9999-12-31T00:00:00Z"));
  EXPECT_EQ(daily.Prev(At("9999-12-31T12:00:00Z") + std::chrono::hours(24 * 365 * 3000), utc),
            At("9999-12-31T00:00:00Z"));
}

std::string ErrorOf(std::string_view expression) {
  StatusOr<CronSchedule> cron = CronSchedule::Parse(expression);
  if (cron.ok()) return "OK";
  EXPECT_THAT(cron, StatusIs(StatusCode::kInvalidArgument));
  return cron.status().message();
}

TEST(CronScheduleTest, ParseErrorsNameFieldValueAndColumn) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"61 * * * *", R"(cron "61 * * * *": minute field: 61 is out of range 0-59 (column 1))"},
      {"* 24 * * *", R"(cron "* 24 * * *": hour field: 24 is out of range 0-23 (column 3))"},
      {"* * 0 * *", R"(cron "* * 0 * *": day-of-month field: 0 is out of range 1-31 (column 5))"},
      {"* * 32 * *",
       R"(cron "* * 32 * *": day-of-month field: 32 is out of range 1-31 (column 5))"},
      {"* * * 13 *", R"(cron "* * * 13 *": month field: 13 is out of range 1-12 (column 7))"},
      {"* * * * 8", R"(cron "* * * * 8": day-of-week field: 8 is out of range 0-7 (column 9))"},
      {"0  0 1,99 * *",
       R"(cron "0  0 1,99 * *": day-of-month field: 99 is out of range 1-31 (column 8))"},
      {"* * * * MON-FOO",
       R"(cron "* * * * MON-FOO": day-of-week field: unknown name "FOO" (expected SUN-SAT or 0-7) (column 13))"},
      {"* * * JANUARY *",
       R"(cron "* * * JANUARY *": month field: unknown name "JANUARY" (expected JAN-DEC or 1-12) (column 7))"},
      {"MON * * * *", R"(cron "MON * * * *": minute field: "MON" is not a number (column 1))"},
      {"*/0 * * * *",
       R"(cron "*/0 * * * *": minute field: step 0 is out of range 1-59 (column 3))"},
      {"* * * * */8",
       R"(cron "* * * * */8": day-of-week field: step 8 is out of range 1-7 (column 11))"},
      {"*/ * * * *", R"(cron "*/ * * * *": minute field: missing step after '/' (column 3))"},
      {"5-1 * * * *", R"(cron "5-1 * * * *": minute field: range 5-1 is backwards (column 1))"},
      {"0 22-2 * * *", R"(cron "0 22-2 * * *": hour field: range 22-2 is backwards (column 3))"},
      {"0 0 * * FRI-MON",
       R"(cron "0 0 * * FRI-MON": day-of-week field: range FRI-MON is backwards (column 9))"},
      {"1,,2 * * * *", R"(cron "1,,2 * * * *": minute field: empty list element (column 3))"},
      {"1, * * * *", R"(cron "1, * * * *": minute field: empty list element (column 3))"},
      {"1-2-3 * * * *", R"(cron "1-2-3 * * * *": minute field: unexpected '-' (column 4))"},
      {"*5 * * * *", R"(cron "*5 * * * *": minute field: unexpected '5' (column 2))"},
      {"1.5 * * * *", R"(cron "1.5 * * * *": minute field: unexpected '.' (column 2))"},
      {"-1 * * * *", R"(cron "-1 * * * *": minute field: unexpected '-' (column 1))"},
      {"1- * * * *", R"(cron "1- * * * *": minute field: missing value (column 3))"},
      {"99999999999999999999 * * * *",
       R"(cron "99999999999999999999 * * * *": minute field: 99999999999999999999 is out of range 0-59 (column 1))"},
      {"* * * *",
       R"(cron "* * * *": expected 5 fields (minute hour day-of-month month day-of-week) or a preset such as @daily, got 4 fields)"},
      {"* * * * * *",
       R"(cron "* * * * * *": expected 5 fields (minute hour day-of-month month day-of-week) or a preset such as @daily, got 6 fields)"},
      {"",
       R"(cron "": expected 5 fields (minute hour day-of-month month day-of-week) or a preset such as @daily, got 0 fields)"},
      {"@fortnightly",
       R"(cron "@fortnightly": unknown preset "@fortnightly" (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly) (column 1))"},
      {"@reboot",
       R"(cron "@reboot": unknown preset "@reboot" (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly) (column 1))"},
      {"@daily 5",
       R"(cron "@daily 5": expected 5 fields (minute hour day-of-month month day-of-week) or a preset such as @daily, got 2 fields)"},
      {"0 0 30 2 *",
       R"(cron "0 0 30 2 *": never fires: no month in the month field has any day of the day-of-month field)"},
      {"0 0 31 4,6,9,11 *",
       R"(cron "0 0 31 4,6,9,11 *": never fires: no month in the month field has any day of the day-of-month field)"},
  };
  for (const auto& [expression, message] : cases) {
    EXPECT_EQ(ErrorOf(expression), message) << expression;
  }
}

TEST(CronScheduleTest, AcceptsWhatItShould) {
  for (const char* expression :
       {"0 0 * * *", " 0  0  *  *  * ", "0\t0\t*\t*\t*", "@DAILY", "0-59 0-23 1-31 1-12 0-7",
        "0 0 31 1,4 *", "0 0 30 2 MON", "0 0 29 2 *", "*/59 */23 */31 */12 */7", "1/1 * * * *"}) {
    EXPECT_EQ(ErrorOf(expression), "OK") << expression;
  }
}

TEST(CronScheduleTest, CanonicalFormRoundTrips) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"@daily", "0 0 * * *"},
      {"@weekly", "0 0 * * 0"},
      {"@hourly", "0 * * * *"},
      {"@monthly", "0 0 1 * *"},
      {"@yearly", "0 0 1 1 *"},
      {"*/15 * * * *", "*/15 * * * *"},
      {"0,15,30,45 * * * *", "*/15 * * * *"},
      {"0-59 0-23 1-31 1-12 0-6", "* * 1-31 * 0-6"},
      {"0 9 * * MON-FRI", "0 9 * * 1-5"},
      {"0 0 * * 7", "0 0 * * 0"},
      {"0 0 * * 5-7", "0 0 * * 0,5-6"},
      {"1-10/2 * * * *", "1,3,5,7,9 * * * *"},
      {"5/20 * * * *", "5,25,45 * * * *"},
      {"0 0 */2,4 * FRI", "0 0 */2,4 * 5"},
      {"0 0 */31 * *", "0 0 */31 * *"},
      {"0 0 * * */7", "0 0 * * */7"},
      {"0 0 13 * FRI", "0 0 13 * 5"},
      {"0 0 1 JAN-MAR,DEC *", "0 0 1 1-3,12 *"},
  };
  for (const auto& [expression, canonical] : cases) {
    StatusOr<CronSchedule> cron = CronSchedule::Parse(expression);
    ASSERT_TRUE(cron.ok()) << expression << ": " << cron.status().ToString();
    EXPECT_EQ(cron->ToString(), canonical) << expression;
    EXPECT_EQ(cron->source(), expression);
    StatusOr<CronSchedule> again = CronSchedule::Parse(cron->ToString());
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, *cron) << expression;
  }
  // '*' in a day field changes the day rule, so "*" and "1-31" differ.
  EXPECT_FALSE(*CronSchedule::Parse("0 0 * * MON") == *CronSchedule::Parse("0 0 1-31 * MON"));
  EXPECT_EQ(CronSchedule().ToString(), "0 0 * * *");
}

}  // namespace
}  // namespace pinpipe::scheduler

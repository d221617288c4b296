// core/civil_day.h: day numbers and dates (std::chrono's proleptic Gregorian calendar) at their
// edges, and the floor divisions that keep times before 1970 on the right day and hour.
#include "core/civil_day.h"

#include <gtest/gtest.h>

#include <string>

namespace pinpipe::core {
namespace {

TEST(CivilDayTest, DatesAndDayNumbers) {
  struct Case {
    std::string date;
    int64_t day;
  };
  const Case cases[] = {
      {"1970-01-01", 0},       {"1969-12-31", -1},    {"2000-02-29", 11016},
      {"1900-03-01", -25508},  {"2024-03-01", 19783}, {"0001-01-01", -719162},
      {"9999-12-31", 2932896},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseDate(c.date), c.day) << c.date;
    EXPECT_EQ(DateOfDay(c.day), c.date);
    const CivilDate d = CivilOfDay(c.day);
    EXPECT_EQ(DaysFromCivil(d), c.day) << c.date;
    EXPECT_EQ(d.year, std::stoi(c.date.substr(0, 4)));
    EXPECT_EQ(d.month, static_cast<unsigned>(std::stoi(c.date.substr(5, 2))));
    EXPECT_EQ(d.day, static_cast<unsigned>(std::stoi(c.date.substr(8, 2))));
  }
  for (int64_t day = -800000; day <= 3000000; day += 997) {
    EXPECT_EQ(DaysFromCivil(CivilOfDay(day)), day);
  }
}

TEST(CivilDayTest, ADayPastTheMonthsEndCountsIntoTheNext) {
  EXPECT_EQ(DaysFromCivil({2023, 2, 31}), *ParseDate("2023-03-03"));
  EXPECT_EQ(DaysFromCivil({2024, 2, 30}), *ParseDate("2024-03-01"));
  EXPECT_EQ(DaysFromCivil({2024, 12, 31}), *ParseDate("2024-12-31"));
}

TEST(CivilDayTest, MalformedOrUnrealDatesAreRefused) {
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-1-01", "2024/01/01",
                          "20240101", "2024-01-0x", "", "2024-01-01T"}) {
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
  }
}

TEST(CivilDayTest, HoursAndDaysFloorBefore1970) {
  EXPECT_EQ(HourOf(0), 0);
  EXPECT_EQ(HourOf(-1), -1);
  EXPECT_EQ(DayOf(-1), -1);
  EXPECT_EQ(DayOf(kMillisPerDay - 1), 0);
  EXPECT_EQ(DayOf(kMillisPerDay), 1);
  EXPECT_EQ(DayOfHour(-24), -1);
  EXPECT_EQ(DayOfHour(-25), -2);
  EXPECT_EQ(IsoTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(IsoTime(1700000000123), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace pinpipe::core

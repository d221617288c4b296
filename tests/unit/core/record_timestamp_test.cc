// Tests for the timestamp parser used by the record validator (core/timestamp_parser.h).
#include <gtest/gtest.h>

#include <string>

#include "core/timestamp_parser.h"

namespace pinpipe::core {
namespace {

struct GoodCase {
  std::string_view in;
  CivilTimestamp want;
};

TEST(TimestampParserTest, AcceptsBothFormsFractionsAndOffsets) {
  const GoodCase cases[] = {
      {"2020-08-28 03:52:47", {2020, 8, 28, 3, 52, 47, 0, false, 0}},
      {"2020-08-28T03:52:47", {2020, 8, 28, 3, 52, 47, 0, false, 0}},
      {"2020-08-28T03:52:47Z", {2020, 8, 28, 3, 52, 47, 0, true, 0}},
      {"2020-08-28 03:52:47.5", {2020, 8, 28, 3, 52, 47, 500000000, false, 0}},
      {"2020-08-28 03:52:47.123456789+05:30", {2020, 8, 28, 3, 52, 47, 123456789, true, 330}},
      {"2020-08-28T03:52:47.000001-08:00", {2020, 8, 28, 3, 52, 47, 1000, true, -480}},
      {"2020-02-29 00:00:00", {2020, 2, 29, 0, 0, 0, 0, false, 0}},
      {"2000-02-29 23:59:59", {2000, 2, 29, 23, 59, 59, 0, false, 0}},
      {"0001-01-01 00:00:00", {1, 1, 1, 0, 0, 0, 0, false, 0}},
      {"9999-12-31 23:59:59+23:59", {9999, 12, 31, 23, 59, 59, 0, true, 1439}},
  };
  for (const GoodCase& c : cases) {
    CivilTimestamp got;
    std::string_view reason;
    EXPECT_TRUE(ParseTimestamp(c.in, &got, &reason)) << c.in << ": " << reason;
    EXPECT_EQ(got, c.want) << c.in;
  }
}

struct BadCase {
  std::string_view in;
  std::string_view reason;
};

TEST(TimestampParserTest, RejectsWithReason) {
  const BadCase cases[] = {
      {"", "input is too short"},
      {"2021-01-01", "input is too short"},
      {"2021-02-29 00:00:00", "day value is outside expected range"},
      {"1900-02-29 00:00:00", "day value is outside expected range"},
      {"2021-02-30 00:00:00", "day value is outside expected range"},
      {"2021-06-31 00:00:00", "day value is outside expected range"},
      {"2021-01-00 00:00:00", "day value is outside expected range"},
      {"2021-00-01 00:00:00", "month value is outside expected range"},
      {"2021-13-01 00:00:00", "month value is outside expected range"},
      {"0000-01-01 00:00:00", "year value is outside expected range"},
      {"2021-01-01 24:00:00", "hour value is outside expected range"},
      {"2021-01-01 23:60:00", "minute value is outside expected range"},
      {"2021-01-01 23:59:60", "second value is outside expected range"},
      {"2021/01/01 00:00:00", "invalid date separator, expected `-`"},
      {"21-01-01 00:00:00xx", "invalid character in year"},
      {"2021-1-01 00:00:00x", "invalid character in month"},
      {"2021-01-01_00:00:00", "invalid datetime separator, expected `T` or space"},
      {"2021-01-01t00:00:00", "invalid datetime separator, expected `T` or space"},
      {"2021-01-01 00-00-00", "invalid time separator, expected `:`"},
      {"2021-01-01 00:00:00.", "invalid character in second fraction"},
      {"2021-01-01 00:00:00.1234567890", "second fraction value is more than 9 digits long"},
      {"2021-01-01 00:00:00+0100", "invalid timezone offset, expected `+HH:MM` or `-HH:MM`"},
      {"2021-01-01 00:00:00+24:00", "timezone offset must be less than 24 hours"},
      {"2021-01-01 00:00:00z", "invalid timezone sign or unexpected character after the time"},
      {"2021-01-01 00:00:00 ", "invalid timezone sign or unexpected character after the time"},
      {"2021-01-01 00:00:00Z ", "unexpected extra characters at the end of the input"},
      {"2021-01-01 00:00:00+01:00Z", "unexpected extra characters at the end of the input"},
  };
  for (const BadCase& c : cases) {
    CivilTimestamp got;
    std::string_view reason;
    EXPECT_FALSE(ParseTimestamp(c.in, &got, &reason)) << c.in;
    EXPECT_EQ(reason, c.reason) << c.in;
  }
}

TEST(TimestampParserTest, LeapYearsAndMonthLengths) {
  EXPECT_TRUE(IsLeapYear(2020));
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2021));
  EXPECT_EQ(DaysInMonth(2020, 2), 29);
  EXPECT_EQ(DaysInMonth(2021, 2), 28);
  EXPECT_EQ(DaysInMonth(2021, 4), 30);
  EXPECT_EQ(DaysInMonth(2021, 12), 31);
}

}  // namespace
}  // namespace pinpipe::core

#include "core/duration.h"

#include <gtest/gtest.h>

namespace pinpipe::core {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseDuration("5m"), minutes(5));
  EXPECT_EQ(*ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*ParseDuration("90s"), seconds(90));
  EXPECT_EQ(*ParseDuration("2d"), hours(48));
  EXPECT_EQ(*ParseDuration("1d2h3m4s"), seconds(86400 + 7200 + 180 + 4));
  EXPECT_EQ(*ParseDuration("0s"), seconds(0));
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
  EXPECT_EQ(FormatDuration(hours(49)), "2d1h");
  const std::pair<const char*, const char*> errors[] = {
      {"", "empty"},
      {"5", "missing unit after 5"},
      {"m", "expected a number at character 1"},
      {"5x", "unknown unit 'x'"},
      {"1m1h", "unit 'h' repeated or out of order (write d, h, m, s in that order)"},
      {"1m1m", "unit 'm' repeated or out of order (write d, h, m, s in that order)"},
      {"-5m", "expected a number at character 1"},
      {"99999999999s", "too long (at most 10 years)"},
      {"4000d", "too long (at most 10 years)"},
  };
  for (const auto& [text, what] : errors) {
    StatusOr<seconds> d = ParseDuration(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.status().message(), "bad duration \"" + std::string(text) + "\": " + what +
                                        " (use d, h, m, s as in \"5m\", \"1h30m\", \"90s\")");
  }
}

}  // namespace
}  // namespace pinpipe::core

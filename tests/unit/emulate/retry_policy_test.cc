// The emulator's retry policy: which answers are retried, how Retry-After is read, and that
// every bound (the cap on one delay, retries and summed delays per record) holds.
#include "emulate/retry_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace pinpipe::emulate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryPolicyTest, RetriesOnly503And429) {
  for (int status : {503, 429}) EXPECT_TRUE(IsRetriableStatus(status)) << status;
  for (int status : {200, 201, 400, 401, 404, 413, 422, 500, 502, 504}) {
    EXPECT_FALSE(IsRetriableStatus(status)) << status;
  }
}

TEST(RetryPolicyTest, ParsesRetryAfterDeltaSeconds) {
  struct Case {
    std::string text;
    std::optional<seconds> want;
  };
  const std::vector<Case> cases = {
      {"1", seconds(1)},
      {"0", seconds(0)},
      {" 17\t", seconds(17)},
      {"120", seconds(120)},
      {"99999999999999999999999", seconds(86400)},  // clamped to a day
      {"86401", seconds(86400)},
      {"", std::nullopt},
      {"-1", std::nullopt},
      {"1.5", std::nullopt},
      {"1s", std::nullopt},
      {"Wed, 21 Oct 2015 07:28:00 GMT", std::nullopt},  // an HTTP date: the default is used
  };
  for (const Case& c : cases) EXPECT_EQ(ParseRetryAfter(c.text), c.want) << '"' << c.text << '"';
}

// Delay = Retry-After + jitter in [0, d/4 + 100 ms]; no Retry-After means 1 s.
TEST(RetryPolicyTest, DelayIsRetryAfterPlusBoundedJitter) {
  RetryOptions options;
  options.max_retries = 1000000;
  options.max_wait = milliseconds(1LL << 40);
  RetryBudget budget(options, 7);
  milliseconds low = milliseconds::max(), high = milliseconds::min();
  for (int i = 0; i < 2000; ++i) {
    const std::optional<milliseconds> d =
        budget.Next(i % 2 == 0 ? std::optional(seconds(2)) : std::nullopt);
    ASSERT_TRUE(d.has_value());
    const milliseconds base = i % 2 == 0 ? milliseconds(2000) : milliseconds(1000);
    EXPECT_GE(*d, base);
    EXPECT_LE(*d, base + base / 4 + milliseconds(100));
    if (i % 2 == 0) {
      low = std::min(low, *d);
      high = std::max(high, *d);
    }
  }
  // The jitter really spreads: most of [2000, 2600] ms is used.
  EXPECT_LT(low, milliseconds(2050));
  EXPECT_GT(high, milliseconds(2550));
  EXPECT_EQ(budget.retries(), 2000);
}

TEST(RetryPolicyTest, NoDelayExceedsTheCap) {
  RetryOptions options;
  options.max_retries = 1000000;
  options.max_wait = milliseconds(1LL << 40);
  options.max_delay = milliseconds(3000);
  RetryBudget budget(options, 1);
  for (int i = 0; i < 1000; ++i) {
    const std::optional<milliseconds> d = budget.Next(seconds(i % 2 == 0 ? 3600 : 3));
    ASSERT_TRUE(d.has_value());
    EXPECT_LE(*d, milliseconds(3000));
    // Capped: uniform in [3/4 cap, cap].
    EXPECT_GE(*d, milliseconds(2250));
  }
}

TEST(RetryPolicyTest, GivesUpAfterMaxRetries) {
  RetryOptions options;
  options.max_retries = 3;
  RetryBudget budget(options, 1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(budget.Next(seconds(0)).has_value()) << i;
  EXPECT_FALSE(budget.Next(seconds(0)).has_value());
  EXPECT_EQ(budget.retries(), 3);
  budget.Reset();  // the next record has its own budget
  EXPECT_EQ(budget.retries(), 0);
  EXPECT_TRUE(budget.Next(seconds(0)).has_value());
}

TEST(RetryPolicyTest, GivesUpBeforeTheSummedDelaysPassMaxWait) {
  RetryOptions options;
  options.max_wait = milliseconds(4500);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    RetryBudget budget(options, seed);
    int granted = 0;
    while (budget.Next(seconds(1)).has_value()) ++granted;
    EXPECT_LE(budget.waited(), milliseconds(4500));
    // Each delay is 1000-1350 ms: three always fit, five never do.
    EXPECT_GE(granted, 3);
    EXPECT_LE(granted, 4);
  }
}

TEST(RetryPolicyTest, DisabledNeverRetries) {
  RetryOptions options;
  options.enabled = false;
  RetryBudget budget(options, 1);
  EXPECT_FALSE(budget.Next(seconds(1)).has_value());
  EXPECT_FALSE(budget.Next(std::nullopt).has_value());
  EXPECT_EQ(budget.retries(), 0);
}

}  // namespace
}  // namespace pinpipe::emulate

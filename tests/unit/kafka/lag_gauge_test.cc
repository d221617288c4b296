#include "kafka/lag_gauge.h"

#include <gtest/gtest.h>

#include "core/metrics.h"

namespace pinpipe::kafka {
namespace {

TEST(LagGaugeTest, LagIsHighWatermarkMinusNextOffsetAtLeastZero) {
  struct Case {
    int64_t high;
    std::optional<int64_t> next;
    int64_t lag;
  };
  for (const Case& c : std::vector<Case>{
           {100, 40, 60},             // behind
           {100, 100, 0},             // caught up
           {100, 120, 0},             // past the cached watermark (it is a fetch old): not < 0
           {100, std::nullopt, 100},  // nothing consumed yet: the whole partition
           {0, std::nullopt, 0},
           {-1, 5, -1},  // high watermark not seen yet: unknown
       }) {
    EXPECT_EQ(LagGauge::Lag(c.high, c.next), c.lag) << c.high << " " << c.next.value_or(-9);
  }
}

// Without a fetch no high watermark is known: the gauge shows its header and no partition.
TEST(LagGaugeTest, PartitionsWithoutAKnownHighWatermarkAreLeftOut) {
  core::Registry registry;
  LagGauge gauge(&registry, "x_lag", "Lag");
  ConsumerOptions o;
  o.brokers = "127.0.0.1:1";  // never contacted: no Subscribe, no Poll
  o.group_id = "lag-gauge-test";
  auto consumer = Consumer::Create(o);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  gauge.Update(**consumer, {{{"pins", 0}, 5}, {{"pins", 1}, std::nullopt}});
  gauge.Forget({{"pins", 0}});
  EXPECT_EQ(registry.Render(), "# HELP x_lag Lag\n# TYPE x_lag gauge\n");
}

}  // namespace
}  // namespace pinpipe::kafka

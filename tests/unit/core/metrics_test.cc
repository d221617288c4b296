#include "core/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace pinpipe::core {
namespace {

TEST(RegistryTest, CounterFunctionRendersAsACounterWithItsCurrentValue) {
  Registry registry;
  std::atomic<int> refusals{0};
  registry.AddCounterFunction("x_refusals_total", "Refusals", [&] { return refusals.load(); });
  registry.AddGauge("x_bytes", "Bytes", [] { return 42.0; });
  refusals = 3;
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE x_refusals_total counter\nx_refusals_total 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE x_bytes gauge\nx_bytes 42\n"), std::string::npos) << text;
}

// The per-partition lag gauges of the stream and the archiver render through this family: the
// text must be what they rendered by hand before (HELP, TYPE, one line per cell in the order
// given, integer values without a fraction), and a Replace drops the cells it does not name.
TEST(RegistryTest, GaugeFamilyRendersItsSamplesInOrderAndReplaceDropsTheRest) {
  Registry registry;
  registry.AddCounter("x_total", "Things")->With({})->Inc(2);
  GaugeFamily* lag =
      registry.AddGaugeFamily("x_lag", "Records behind (high - next)", {"topic", "partition"});
  registry.AddCounterFunction("x_requests_total", "Requests", [] { return 7.0; });
  const std::string header = "# HELP x_lag Records behind (high - next)\n# TYPE x_lag gauge\n";
  EXPECT_NE(registry.Render().find(header + "# HELP x_requests_total"), std::string::npos)
      << "an empty family renders its header only";
  lag->Replace({{{"pins", "2"}, 0}, {{"pins", "10"}, 1234567}, {{"geo", "0"}, 3}});
  EXPECT_EQ(registry.Render(),
            "# HELP x_total Things\n# TYPE x_total counter\nx_total 2\n" + header +
                "x_lag{topic=\"pins\",partition=\"2\"} 0\n"
                "x_lag{topic=\"pins\",partition=\"10\"} 1234567\n"
                "x_lag{topic=\"geo\",partition=\"0\"} 3\n"
                "# HELP x_requests_total Requests\n# TYPE x_requests_total counter\n"
                "x_requests_total 7\n");
  lag->Replace({{{"geo", "0"}, 1.5}});
  const std::string text = registry.Render();
  EXPECT_NE(text.find(header + "x_lag{topic=\"geo\",partition=\"0\"} 1.5\n# HELP"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("pins"), std::string::npos) << text;
}

}  // namespace
}  // namespace pinpipe::core

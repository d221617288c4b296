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

}  // namespace
}  // namespace pinpipe::core

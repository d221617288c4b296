#include "core/stop_sleep.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace pinpipe::core {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(StopSleepTest, SleepsTheWholeDurationWithoutAStop) {
  std::stop_source source;
  const auto t0 = Clock::now();
  EXPECT_TRUE(SleepUnlessStopped(source.get_token(), 30ms));
  EXPECT_GE(Clock::now() - t0, 30ms);
  EXPECT_TRUE(SleepUnlessStopped(source.get_token(), 0ms));
}

TEST(StopSleepTest, AlreadyStoppedReturnsFalseAtOnce) {
  std::stop_source source;
  source.request_stop();
  const auto t0 = Clock::now();
  EXPECT_FALSE(SleepUnlessStopped(source.get_token(), 10s));
  EXPECT_LT(Clock::now() - t0, 100ms);
}

// The promise: a stop request wakes the sleeper promptly (not after the duration, nor after a
// polling step).
TEST(StopSleepTest, StopDuringTheSleepWakesItWithin50Ms) {
  std::stop_source source;
  Clock::time_point requested;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(50ms);
    requested = Clock::now();
    source.request_stop();
  });
  EXPECT_FALSE(SleepUnlessStopped(source.get_token(), 10s));
  const auto woke = Clock::now();
  stopper.join();
  EXPECT_LT(woke - requested, 50ms);
}

}  // namespace
}  // namespace pinpipe::core

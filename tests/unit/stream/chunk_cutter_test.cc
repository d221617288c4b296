#include "stream/chunk_cutter.h"

#include <gtest/gtest.h>

namespace pinpipe::stream {
namespace {

using std::chrono::milliseconds;
using Clock = ChunkCutter::Clock;

TEST(ChunkCutterTest, EmptyChunkNeverCutsAndWaitsFullAge) {
  ChunkCutter c({.max_records = 3, .max_bytes = 1000, .max_age = milliseconds(100)});
  const auto t0 = Clock::now();
  EXPECT_FALSE(c.ShouldCut(t0 + std::chrono::hours(1)));
  EXPECT_EQ(c.TimeLeft(t0), milliseconds(100));
}

TEST(ChunkCutterTest, CutsBySize) {
  ChunkCutter c({.max_records = 3, .max_bytes = 1000, .max_age = milliseconds(100)});
  const auto t0 = Clock::now();
  c.Add(10, t0);
  c.Add(10, t0);
  EXPECT_FALSE(c.ShouldCut(t0));
  c.Add(10, t0);
  EXPECT_TRUE(c.ShouldCut(t0));
  EXPECT_EQ(c.records(), 3u);
}

TEST(ChunkCutterTest, CutsByBytes) {
  ChunkCutter c({.max_records = 100, .max_bytes = 25, .max_age = milliseconds(100)});
  const auto t0 = Clock::now();
  c.Add(20, t0);
  EXPECT_FALSE(c.ShouldCut(t0));
  c.Add(5, t0);
  EXPECT_TRUE(c.ShouldCut(t0));
}

TEST(ChunkCutterTest, AgeCountsFromTheFirstRecord) {
  ChunkCutter c({.max_records = 100, .max_bytes = 1000, .max_age = milliseconds(100)});
  const auto t0 = Clock::now();
  c.Add(1, t0);
  c.Add(1, t0 + milliseconds(60));  // a later record does not restart the clock
  EXPECT_EQ(c.TimeLeft(t0 + milliseconds(60)), milliseconds(40));
  EXPECT_FALSE(c.ShouldCut(t0 + milliseconds(99)));
  EXPECT_TRUE(c.ShouldCut(t0 + milliseconds(100)));
  EXPECT_EQ(c.TimeLeft(t0 + milliseconds(500)), milliseconds(0));
}

TEST(ChunkCutterTest, ResetStartsANewChunk) {
  ChunkCutter c({.max_records = 2, .max_bytes = 1000, .max_age = milliseconds(100)});
  const auto t0 = Clock::now();
  c.Add(1, t0);
  c.Add(1, t0);
  c.Reset();
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.bytes(), 0u);
  c.Add(1, t0 + milliseconds(1000));
  EXPECT_FALSE(c.ShouldCut(t0 + milliseconds(1050)));
}

}  // namespace
}  // namespace pinpipe::stream

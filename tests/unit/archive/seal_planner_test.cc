#include "archive/seal_planner.h"

#include <gtest/gtest.h>

#include "archive/archive_layout.h"
#include "core/event_time.h"

namespace pinpipe::archive {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = SealPlanner::TimePoint;

int64_t Ms(const char* text) { return *core::RecordTimestampToEpochMs(text); }
int64_t Day(const char* date) { return *ParseDate(date); }

// A fake clock: tests move `now` by hand.
struct Fixture {
  SealPlanner planner{std::chrono::hours(1), seconds(60)};
  TimePoint now = TimePoint{} + std::chrono::hours(1000);
  std::vector<PartitionProgress*> parts;

  explicit Fixture(int partitions) {
    planner.SetPartitionCount("geo", partitions);
    for (int p = 0; p < partitions; ++p) parts.push_back(planner.Assign("geo", p, now));
  }
};

TEST(SealPlannerTest, WatermarkIsTheMinimumOverActivePartitions) {
  Fixture f(3);
  EXPECT_EQ(f.planner.Watermark("geo", f.now), std::nullopt);  // nothing seen yet
  f.parts[0]->Observe(Ms("2024-01-02 03:00:00"), f.now);
  f.parts[1]->Observe(Ms("2024-01-02 01:00:00"), f.now);
  // Partition 2, assigned just now and silent, may hold old records: unknown.
  EXPECT_EQ(f.planner.Watermark("geo", f.now), std::nullopt);
  f.parts[2]->Observe(Ms("2024-01-02 02:00:00"), f.now);
  EXPECT_EQ(f.planner.Watermark("geo", f.now), Ms("2024-01-02 01:00:00"));
  // Event time going backwards does not move a partition's maximum back.
  f.parts[1]->Observe(Ms("2023-06-01 00:00:00"), f.now);
  EXPECT_EQ(f.planner.Watermark("geo", f.now), Ms("2024-01-02 01:00:00"));
}

TEST(SealPlannerTest, IdlePartitionsDoNotHoldTheWatermarkBack) {
  Fixture f(3);
  f.parts[0]->Observe(Ms("2024-01-02 03:00:00"), f.now);
  f.parts[1]->Observe(Ms("2024-01-01 10:00:00"), f.now);
  // Partition 2 never delivers anything.
  f.now += seconds(59);
  f.parts[0]->Observe(Ms("2024-01-02 03:00:01"), f.now);
  EXPECT_EQ(f.planner.Watermark("geo", f.now), std::nullopt);
  f.now += seconds(2);  // 61 s: partitions 1 and 2 idle, 0 active
  EXPECT_EQ(f.planner.Watermark("geo", f.now), Ms("2024-01-02 03:00:01"));
  // Everybody idle: the furthest any partition got.
  f.now += seconds(600);
  EXPECT_EQ(f.planner.Watermark("geo", f.now), Ms("2024-01-02 03:00:01"));
  // An idle partition that speaks again holds the watermark again.
  f.parts[1]->Observe(Ms("2024-01-01 11:00:00"), f.now);
  EXPECT_EQ(f.planner.Watermark("geo", f.now), Ms("2024-01-01 11:00:00"));
}

TEST(SealPlannerTest, DayIsDueAtItsEndPlusLateness) {
  Fixture f(1);
  f.planner.AddOpenDay("geo", Day("2024-01-01"));
  f.planner.AddOpenDay("geo", Day("2024-01-02"));
  f.parts[0]->Observe(Ms("2024-01-02 00:59:59.999"), f.now);
  EXPECT_TRUE(f.planner.DueDays("geo", f.now).empty());
  f.parts[0]->Observe(Ms("2024-01-02 01:00:00"), f.now);
  EXPECT_EQ(f.planner.DueDays("geo", f.now), std::vector<int64_t>{Day("2024-01-01")});
  // Handed out once, until sealed or failed.
  EXPECT_TRUE(f.planner.DueDays("geo", f.now).empty());
  f.planner.SealFailed("geo", Day("2024-01-01"));
  EXPECT_EQ(f.planner.DueDays("geo", f.now), std::vector<int64_t>{Day("2024-01-01")});
  f.planner.Sealed("geo", Day("2024-01-01"));
  f.parts[0]->Observe(Ms("2024-01-03 05:00:00"), f.now);
  EXPECT_EQ(f.planner.DueDays("geo", f.now), std::vector<int64_t>{Day("2024-01-02")});
  EXPECT_EQ(f.planner.open_days("geo"), 1u);
}

TEST(SealPlannerTest, PendingSegmentsHoldTheirDays) {
  Fixture f(1);
  f.planner.AddOpenDay("geo", Day("2024-01-01"));
  f.planner.AddPending("geo", Day("2024-01-01"));
  f.planner.AddPending("geo", Day("2024-01-01"));
  f.parts[0]->Observe(Ms("2024-01-05 00:00:00"), f.now);
  EXPECT_TRUE(f.planner.DueDays("geo", f.now).empty());
  f.planner.RemovePending("geo", Day("2024-01-01"));
  EXPECT_TRUE(f.planner.DueDays("geo", f.now).empty());
  f.planner.RemovePending("geo", Day("2024-01-01"));
  EXPECT_EQ(f.planner.DueDays("geo", f.now), std::vector<int64_t>{Day("2024-01-01")});
}

TEST(SealPlannerTest, OnlyAnInstanceHoldingEveryPartitionSeals) {
  SealPlanner planner(std::chrono::hours(1), seconds(60));
  const TimePoint now{};
  planner.AddOpenDay("geo", Day("2024-01-01"));
  planner.Assign("geo", 0, now)->Observe(Ms("2024-02-01 00:00:00"), now);
  EXPECT_FALSE(planner.HoldsAllPartitions("geo"));  // partition count unknown
  planner.SetPartitionCount("geo", 2);
  EXPECT_TRUE(planner.DueDays("geo", now).empty());
  planner.Assign("geo", 1, now)->Observe(Ms("2024-02-01 00:00:00"), now);
  EXPECT_TRUE(planner.HoldsAllPartitions("geo"));
  EXPECT_EQ(planner.DueDays("geo", now).size(), 1u);
  planner.Release("geo", 1);
  EXPECT_FALSE(planner.HoldsAllPartitions("geo"));
}

TEST(SealPlannerTest, WatermarkIsPerTopic) {
  SealPlanner planner(std::chrono::hours(1), seconds(60));
  const TimePoint now{};
  planner.Assign("geo", 0, now)->Observe(Ms("2024-02-01 00:00:00"), now);
  planner.Assign("user", 0, now)->Observe(Ms("2020-02-01 00:00:00"), now);
  EXPECT_EQ(planner.Watermark("geo", now), Ms("2024-02-01 00:00:00"));
  EXPECT_EQ(planner.Watermark("user", now), Ms("2020-02-01 00:00:00"));
  EXPECT_EQ(planner.Watermark("pin", now), std::nullopt);
}

}  // namespace
}  // namespace pinpipe::archive

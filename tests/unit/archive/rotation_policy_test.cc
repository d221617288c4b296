#include "archive/rotation_policy.h"

#include <gtest/gtest.h>

namespace pinpipe::archive {
namespace {

using std::chrono::milliseconds;
using TimePoint = RotationPolicy::TimePoint;

RotationPolicy Policy() {
  RotationLimits l;
  l.max_records = 3;
  l.max_bytes = 100;
  l.idle = milliseconds(500);
  l.max_age = milliseconds(2000);
  l.max_hours = 2;
  return RotationPolicy(l);
}

TEST(RotationPolicyTest, CutsOnRecordsAndBytes) {
  const RotationPolicy p = Policy();
  EXPECT_EQ(p.AfterAdd(2, 99), RotateReason::kNone);
  EXPECT_EQ(p.AfterAdd(3, 10), RotateReason::kRecords);
  EXPECT_EQ(p.AfterAdd(1, 100), RotateReason::kBytes);
  EXPECT_EQ(RotateReasonName(RotateReason::kBytes), "bytes");
}

TEST(RotationPolicyTest, CutsWhenIdleOrOld) {
  const RotationPolicy p = Policy();
  const TimePoint t0{};
  EXPECT_EQ(p.Due(t0, t0, t0 + milliseconds(499)), RotateReason::kNone);
  EXPECT_EQ(p.Due(t0, t0, t0 + milliseconds(500)), RotateReason::kIdle);
  // A steady trickle never goes idle, but the segment still closes at max_age.
  EXPECT_EQ(p.Due(t0, t0 + milliseconds(1900), t0 + milliseconds(1999)), RotateReason::kNone);
  EXPECT_EQ(p.Due(t0, t0 + milliseconds(1900), t0 + milliseconds(2000)), RotateReason::kAge);
  EXPECT_EQ(p.Deadline(t0, t0 + milliseconds(100)), t0 + milliseconds(600));
  EXPECT_EQ(p.Deadline(t0, t0 + milliseconds(1800)), t0 + milliseconds(2000));
}

TEST(RotationPolicyTest, LimitsEventHoursPerSegment) {
  const RotationPolicy p = Policy();
  EXPECT_FALSE(p.HoursFull(1));
  EXPECT_TRUE(p.HoursFull(2));
}

}  // namespace
}  // namespace pinpipe::archive

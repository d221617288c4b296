#include "core/backoff.h"

#include <gtest/gtest.h>

namespace pinpipe::core {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToTheCap) {
  Backoff b(milliseconds(100), milliseconds(5000));
  std::vector<int64_t> got;
  for (int i = 0; i < 9; ++i) got.push_back(b.Next().count());
  EXPECT_EQ(got, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
  EXPECT_EQ(b.attempts(), 9);
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff b(milliseconds(10), milliseconds(50));
  b.Next();
  b.Next();
  b.Reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_EQ(b.Next(), milliseconds(10));
}

TEST(BackoffTest, InitialAboveCapIsCapped) {
  Backoff b(milliseconds(800), milliseconds(500));
  EXPECT_EQ(b.Next(), milliseconds(500));
  EXPECT_EQ(b.Next(), milliseconds(500));
}

}  // namespace
}  // namespace pinpipe::core

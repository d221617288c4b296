#include "archive/frame_pool.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinpipe::archive {
namespace {

std::string Chunk(int i) {
  std::string s;
  for (int j = 0; j < 2000; ++j) s += "{\"ind\":" + std::to_string(i * 10000 + j) + "}\n";
  return s;
}

TEST(FramePoolTest, FramesEqualInlineCompressionWhateverTheWorkerCount) {
  auto inline_pool = FramePool::Create(3, 0);
  auto pool = FramePool::Create(3, 3, /*max_pending=*/2);
  ASSERT_TRUE(inline_pool.ok() && pool.ok());
  std::vector<std::future<StatusOr<std::string>>> a, b;
  for (int i = 0; i < 40; ++i) {
    a.push_back((*inline_pool)->Submit(Chunk(i)));
    b.push_back((*pool)->Submit(Chunk(i)));
  }
  for (int i = 0; i < 40; ++i) {
    StatusOr<std::string> x = a[i].get();
    StatusOr<std::string> y = b[i].get();
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(*x, *y) << i;
    EXPECT_EQ(*ZstdDecompress(*y), Chunk(i));
  }
}

TEST(FramePoolTest, DestructionFinishesQueuedFrames) {
  std::vector<std::future<StatusOr<std::string>>> results;
  {
    auto pool = FramePool::Create(1, 1, 64);
    ASSERT_TRUE(pool.ok());
    for (int i = 0; i < 20; ++i) results.push_back((*pool)->Submit(Chunk(i)));
  }
  for (auto& r : results) EXPECT_TRUE(r.get().ok());
}

TEST(FramePoolTest, BadLevelIsRefused) {
  EXPECT_THAT(FramePool::Create(0, 1), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace pinpipe::archive

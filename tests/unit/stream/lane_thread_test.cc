#include "stream/lane_thread.h"

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace pinpipe::stream {
namespace {

using namespace std::chrono_literals;

// Started once: every task of a lane runs on the same thread, not on the caller's.
TEST(LaneThreadTest, RunsEveryTaskOnItsOneThread) {
  LaneThread lane;
  std::vector<std::thread::id> ran;
  for (int i = 0; i < 5; ++i) {
    lane.Submit([&ran] { ran.push_back(std::this_thread::get_id()); });
    lane.Wait();
  }
  ASSERT_EQ(ran.size(), 5u);
  EXPECT_NE(ran[0], std::this_thread::get_id());
  for (const auto& id : ran) EXPECT_EQ(id, ran[0]);
}

TEST(LaneThreadTest, DoneOnlyAfterTheTaskFinishedAndUntilWait) {
  LaneThread lane;
  EXPECT_FALSE(lane.Done());  // idle
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  int result = 0;
  lane.Submit([go, &result] {
    go.wait();
    result = 42;
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(lane.Done());  // running
  release.set_value();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!lane.Done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(lane.Done());
  lane.Wait();
  EXPECT_EQ(result, 42);      // the task's writes are visible after Wait()
  EXPECT_FALSE(lane.Done());  // idle again
}

// Lanes run in parallel: two tasks that each wait for the other finish.
TEST(LaneThreadTest, LanesRunInParallel) {
  LaneThread a;
  LaneThread b;
  std::atomic<int> arrived{0};
  auto meet = [&arrived] {
    ++arrived;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
  };
  a.Submit(meet);
  b.Submit(meet);
  a.Wait();
  b.Wait();
  EXPECT_EQ(arrived.load(), 2);
}

// As std::future::get() did: the task's exception comes out of Wait(), and the lane goes on.
TEST(LaneThreadTest, WaitRethrowsTheTasksExceptionAndTheLaneGoesOn) {
  LaneThread lane;
  lane.Submit([] { throw std::runtime_error("boom"); });
  EXPECT_THROW(lane.Wait(), std::runtime_error);
  bool ran = false;
  lane.Submit([&ran] { ran = true; });
  EXPECT_NO_THROW(lane.Wait());
  EXPECT_TRUE(ran);
}

// The destructor joins after the task in progress: nothing it touches may go away before.
TEST(LaneThreadTest, DestructorFinishesTheTaskInProgress) {
  std::atomic<bool> finished{false};
  {
    LaneThread lane;
    lane.Submit([&finished] {
      std::this_thread::sleep_for(50ms);
      finished = true;
    });
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace pinpipe::stream

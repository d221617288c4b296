#include "ingest/deadline_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace pinpipe::ingest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Records when (and whether) it was expired; answered on request.
class Item : public Expirable {
 public:
  bool Answered() const override { return answered_.load(); }
  void Expire() override {
    std::lock_guard lock(mu_);
    ++expirations_;
    expired_at_ = Clock::now();
  }
  void Answer() { answered_.store(true); }
  int expirations() {
    std::lock_guard lock(mu_);
    return expirations_;
  }
  Clock::time_point expired_at() {
    std::lock_guard lock(mu_);
    return expired_at_;
  }

 private:
  std::atomic<bool> answered_{false};
  std::mutex mu_;
  int expirations_ = 0;
  Clock::time_point expired_at_;
};

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 2s) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return condition();
}

TEST(DeadlineQueueTest, ExpiresUnansweredItemsAtTheirDeadlineInOrder) {
  DeadlineQueue queue(150ms);
  std::vector<std::shared_ptr<Item>> items;
  std::vector<Clock::time_point> added;
  for (int i = 0; i < 3; ++i) {
    items.push_back(std::make_shared<Item>());
    added.push_back(Clock::now());
    queue.Add(items.back());
    std::this_thread::sleep_for(30ms);
  }
  ASSERT_TRUE(Eventually([&] { return items[2]->expirations() == 1; }));
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(items[i]->expirations(), 1);
    EXPECT_GE(items[i]->expired_at() - added[i], 150ms);
    EXPECT_LT(items[i]->expired_at() - added[i], 150ms + 100ms);
  }
  EXPECT_EQ(queue.size(), 0u);
}

TEST(DeadlineQueueTest, AnsweredItemsAreDroppedWithoutExpiring) {
  DeadlineQueue queue(100ms);
  auto answered = std::make_shared<Item>();
  auto waiting = std::make_shared<Item>();
  queue.Add(answered);
  queue.Add(waiting);
  answered->Answer();
  ASSERT_TRUE(Eventually([&] { return waiting->expirations() == 1; }));
  EXPECT_EQ(answered->expirations(), 0);
  EXPECT_TRUE(Eventually([&] { return queue.size() == 0; }));
}

// An answered entry is let go within the purge interval, not held until its deadline.
TEST(DeadlineQueueTest, AnsweredItemsAreReleasedLongBeforeTheirDeadline) {
  DeadlineQueue queue(10s);
  auto item = std::make_shared<Item>();
  std::weak_ptr<Item> watch = item;
  queue.Add(item);
  item->Answer();
  item.reset();
  EXPECT_TRUE(Eventually([&] { return watch.expired(); }, DeadlineQueue::kPurgeInterval + 200ms));
}

TEST(DeadlineQueueTest, DestructionDropsPendingItemsWithoutExpiring) {
  auto item = std::make_shared<Item>();
  {
    DeadlineQueue queue(10s);
    queue.Add(item);
  }
  EXPECT_EQ(item->expirations(), 0);
  EXPECT_EQ(item.use_count(), 1);
}

}  // namespace
}  // namespace pinpipe::ingest

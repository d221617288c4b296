// SealWaiter (wait_sealed) against the in-memory store: it waits for exactly the archive layout's
// _SUCCESS keys (archive/archive_layout.h) of every topic and day, and refuses a day that is not
// a date before looking.
#include "scheduler/seal_waiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "archive/archive_layout.h"
#include "core/civil_day.h"
#include "testing/fake_object_store.h"

namespace pinpipe::scheduler {
namespace {

SealWaitOptions Options() {
  SealWaitOptions o;
  o.topics = {"pin", "geo"};
  o.poke_interval = std::chrono::milliseconds(10);
  o.timeout = std::chrono::milliseconds(50);
  return o;
}

TEST(SealWaiterTest, WaitsForTheLayoutsSuccessMarkerOfEveryTopicAndDay) {
  testing::FakeObjectStore store;
  std::vector<std::string> log;
  SealWaiter waiter(&store, [&log](const std::string& line) { log.push_back(line); });
  const std::vector<std::string> days = {"2024-01-31", "2024-02-01"};
  // Three of the four markers: still waiting, and the missing one is named.
  for (const auto& [topic, day] : {std::pair{"pin", "2024-01-31"}, std::pair{"pin", "2024-02-01"},
                                   std::pair{"geo", "2024-01-31"}}) {
    ASSERT_TRUE(store.Put(archive::SuccessKey(topic, *core::ParseDate(day)), "").ok());
  }
  Status s = waiter.Wait(days, Options());
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_NE(s.message().find(archive::SuccessKey("geo", *core::ParseDate("2024-02-01"))),
            std::string::npos)
      << s.ToString();
  ASSERT_TRUE(store.Put(archive::SuccessKey("geo", *core::ParseDate("2024-02-01")), "").ok());
  s = waiter.Wait(days, Options());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(SealWaiterTest, RefusesADayThatIsNotADate) {
  testing::FakeObjectStore store;
  SealWaiter waiter(&store, [](const std::string&) {});
  for (const char* bad : {"2024-02-30", "2024-1-31", "", "yesterday"}) {
    EXPECT_EQ(waiter.Wait({bad}, Options()).code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace pinpipe::scheduler

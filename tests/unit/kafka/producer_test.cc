// Producer behaviour that needs no broker: a bootstrap address where nothing listens.
#include "kafka/producer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "kafka/producer_testing.h"
#include "testing/status_matchers.h"

namespace pinpipe::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr const char* kNoBroker = "127.0.0.1:1";

// Collects delivery results from the delivery thread.
class Results {
 public:
  DeliveryCallback Callback() {
    return [this](const DeliveryResult& r) {
      std::lock_guard lock(mu_);
      results_.push_back(r);
    };
  }
  std::vector<DeliveryResult> Get() {
    std::lock_guard lock(mu_);
    return results_;
  }

 private:
  std::mutex mu_;
  std::vector<DeliveryResult> results_;
};

ProducerOptions NoBrokerOptions(milliseconds timeout) {
  ProducerOptions options;
  options.brokers = kNoBroker;
  options.delivery_timeout = timeout;
  return options;
}

TEST(ProducerTest, RejectsBadConfiguration) {
  ProducerOptions options = NoBrokerOptions(milliseconds(1000));
  options.extra["no.such.property"] = "1";
  EXPECT_THAT(Producer::Create(options), StatusIs(StatusCode::kInvalidArgument));

  options = NoBrokerOptions(milliseconds(1000));
  options.compression = "bogus";
  EXPECT_THAT(Producer::Create(options), StatusIs(StatusCode::kInvalidArgument));

  options = NoBrokerOptions(milliseconds(0));
  EXPECT_THAT(Producer::Create(options), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ProducerTest, ExtraCannotWeakenSafetySettings) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"acks", "1"}, {"enable.idempotence", "false"}, {"message.timeout.ms", "0"}}) {
    ProducerOptions options = NoBrokerOptions(milliseconds(1000));
    options.extra[key] = value;
    Status s = Producer::Create(options).status();
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << key;
    EXPECT_NE(s.message().find(key), std::string::npos) << s.message();
  }
  ProducerOptions options = NoBrokerOptions(milliseconds(1000));
  options.extra["acks"] = "-1";  // same as all
  EXPECT_TRUE(Producer::Create(options).ok());
}

TEST(ProducerTest, UnreachableBrokerFailsWithinDeliveryTimeout) {
  Results results;
  auto producer = Producer::Create(NoBrokerOptions(milliseconds(1000)));
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  auto start = steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*producer)->Produce("pinterest", "1", "{}", results.Callback()).ok());
  }
  // librdkafka scans for timed-out messages once a second: the bound is delivery_timeout + 1 s
  // (plus scheduling slack on a loaded machine).
  EXPECT_THAT((*producer)->Flush(milliseconds(4000)), StatusIs(StatusCode::kOk));
  EXPECT_LE(steady_clock::now() - start, milliseconds(2500));
  auto got = results.Get();
  ASSERT_EQ(got.size(), 10u);
  for (const auto& r : got) {
    EXPECT_TRUE(r.status.code() == StatusCode::kDeadlineExceeded ||
                r.status.code() == StatusCode::kUnavailable)
        << r.status.ToString();
  }
  ProducerStats stats = (*producer)->Stats();
  EXPECT_EQ(stats.failed, 10);
  EXPECT_EQ(stats.delivered, 0);
  EXPECT_EQ(stats.in_flight, 0);
  EXPECT_FALSE(stats.brokers_up);
  EXPECT_THAT((*producer)->CheckReachable(milliseconds(300)), StatusIs(StatusCode::kUnavailable));
}

TEST(ProducerTest, FlushTimesOutWhileMessagesArePending) {
  Results results;  // outlives the producer, whose destructor reports the pending message
  auto producer = Producer::Create(NoBrokerOptions(milliseconds(5000)));
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Produce("pinterest", "1", "{}", results.Callback()).ok());
  EXPECT_THAT((*producer)->Flush(milliseconds(100)), StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_EQ((*producer)->Stats().in_flight, 1);
}

TEST(ProducerTest, CloseCancelsPendingAndRefusesNewMessages) {
  Results results;
  auto producer = Producer::Create(NoBrokerOptions(milliseconds(30000)));
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*producer)->Produce("pinterest", "1", "{}", results.Callback()).ok());
  }
  auto start = steady_clock::now();
  (*producer)->Close(milliseconds(100));
  EXPECT_LE(steady_clock::now() - start, milliseconds(3000));
  auto got = results.Get();
  ASSERT_EQ(got.size(), 5u);
  for (const auto& r : got) EXPECT_THAT(r.status, StatusIs(StatusCode::kCancelled));
  EXPECT_THAT((*producer)->Produce("pinterest", "1", "{}", results.Callback()),
              StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(results.Get().size(), 5u);    // no callback for the refused message
  (*producer)->Close(milliseconds(100));  // idempotent
}

TEST(ProducerTest, FullQueueFailsFastWithoutCallback) {
  ProducerOptions options = NoBrokerOptions(milliseconds(30000));
  options.queue_max_messages = 10;
  auto producer = Producer::Create(options);
  ASSERT_TRUE(producer.ok());
  std::atomic<int> calls{0};
  Status last;
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    last = (*producer)->Produce("pinterest", "1", "{}",
                                [&](const DeliveryResult&) { calls.fetch_add(1); });
    if (last.ok()) ++accepted;
  }
  EXPECT_EQ(accepted, 10);
  EXPECT_THAT(last, StatusIs(StatusCode::kResourceExhausted));
  (*producer)->Close(milliseconds(0));
  EXPECT_EQ(calls.load(), 10);
}

TEST(ProducerTest, InvalidTopicNameIsInvalidArgument) {
  auto producer = Producer::Create(NoBrokerOptions(milliseconds(1000)));
  ASSERT_TRUE(producer.ok());
  EXPECT_THAT((*producer)->Produce("", "1", "{}", nullptr), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT((*producer)->Produce(std::string(300, 'x'), "1", "{}", nullptr),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ProducerTest, FatalErrorFailsInFlightWithInternalAndRecovers) {
  Results results;
  auto producer = Producer::Create(NoBrokerOptions(milliseconds(30000)));
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*producer)->Produce("pinterest", "1", "{}", results.Callback()).ok());
  }
  ASSERT_TRUE(InjectFatalErrorForTesting(**producer, "injected by test").ok());
  ASSERT_TRUE((*producer)->Flush(milliseconds(5000)).ok());
  auto got = results.Get();
  ASSERT_EQ(got.size(), 3u);
  for (const auto& r : got) {
    EXPECT_THAT(r.status, StatusIs(StatusCode::kInternal)) << r.status.ToString();
    EXPECT_NE(r.status.message().find("injected by test"), std::string::npos) << r.status.message();
  }
  // The re-created handle accepts messages again (they then time out, as no broker listens).
  auto deadline = steady_clock::now() + milliseconds(5000);
  Status s;
  do {
    s = (*producer)->Produce("pinterest", "1", "{}", results.Callback());
  } while (!s.ok() && s.code() == StatusCode::kUnavailable && steady_clock::now() < deadline);
  EXPECT_TRUE(s.ok()) << s.ToString();
  (*producer)->Close(milliseconds(0));
  EXPECT_EQ(results.Get().size(), 4u);
  EXPECT_THAT(results.Get().back().status, StatusIs(StatusCode::kCancelled));
}

}  // namespace
}  // namespace pinpipe::kafka

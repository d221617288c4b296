// Stops and restarts the test broker (PINPIPE_TEST_KAFKA_CTL stop|start): its own test binary so
// that it runs apart from the other Kafka tests, which a stopped broker would disturb.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "kafka/admin.h"
#include "kafka/producer.h"
#include "testing/kafka_env.h"

namespace pinpipe::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST(KafkaBrokerRestartIT, ProducerFailsWhileDownAndRecoversByItself) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  const std::string ctl = testing::KafkaCtl();
  if (ctl.empty()) GTEST_SKIP() << "PINPIPE_TEST_KAFKA_CTL is not set (command taking stop|start)";

  const std::string topic = testing::UniqueName("pinpipe-test-restart");
  ASSERT_TRUE(EnsureTopics(brokers, {{topic, 3, 1, {}}}, milliseconds(30000)).ok());
  ProducerOptions options;
  options.brokers = brokers;
  options.delivery_timeout = milliseconds(2000);
  auto producer_or = Producer::Create(options);
  ASSERT_TRUE(producer_or.ok()) << producer_or.status().ToString();
  Producer& producer = **producer_or;

  std::mutex mu;
  std::set<std::string> delivered;  // values acknowledged by the broker
  std::vector<Status> failures;
  auto callback_for = [&](std::string value) {
    return [&, value](const DeliveryResult& r) {
      std::lock_guard lock(mu);
      if (r.status.ok()) {
        delivered.insert(value);
      } else {
        failures.push_back(r.status);
      }
    };
  };
  int next = 0;
  auto produce = [&] {
    std::string value = "m" + std::to_string(next++);
    return producer.Produce(topic, value, value, callback_for(value));
  };

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(produce().ok());
  ASSERT_TRUE(producer.Flush(milliseconds(10000)).ok());
  ASSERT_EQ(delivered.size(), 10u);

  testing::BrokerRestarter broker(ctl);
  ASSERT_TRUE(broker.Stop());
  Status reachable = producer.CheckReachable(milliseconds(1000));
  EXPECT_FALSE(reachable.ok());
  EXPECT_TRUE(reachable.retriable()) << reachable.ToString();

  auto start = steady_clock::now();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(produce().ok());
  ASSERT_TRUE(producer.Flush(milliseconds(10000)).ok());
  // Observed with librdkafka 2.0.2 and an idempotent producer whose broker went away: messages
  // fail 5.1-5.7 s after produce for a 2 s delivery_timeout (against a never-reachable bootstrap
  // address the bound is delivery_timeout + 1 s, see the unit tests), and 6.0 s on a loaded CI
  // machine. What this test guards is "bounded, never hanging", so the bound is
  // delivery_timeout + 8 s; the ingest API answers 503 at once while the brokers are known down.
  auto elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  std::cout << "all 10 failed after " << elapsed.count() << " ms (delivery_timeout 2000 ms)\n";
  EXPECT_LE(elapsed, milliseconds(10000));
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(failures.size(), 10u);
    for (const Status& s : failures) {
      EXPECT_TRUE(s.code() == StatusCode::kDeadlineExceeded || s.code() == StatusCode::kUnavailable)
          << s.ToString();
    }
  }
  EXPECT_FALSE(producer.Stats().brokers_up);

  ASSERT_TRUE(broker.Start());
  // The same producer must deliver again on its own (reconnect, idempotence state intact).
  auto deadline = steady_clock::now() + milliseconds(60000);
  size_t before = delivered.size();
  while (steady_clock::now() < deadline) {
    ASSERT_TRUE(produce().ok());
    ASSERT_TRUE(producer.Flush(milliseconds(10000)).ok());
    std::lock_guard lock(mu);
    if (delivered.size() > before) break;
  }
  ASSERT_GT(delivered.size(), before) << "producer did not recover after the broker restart";
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(produce().ok());
  ASSERT_TRUE(producer.Flush(milliseconds(30000)).ok());
  EXPECT_TRUE(producer.Stats().brokers_up);
  EXPECT_TRUE(producer.CheckReachable(milliseconds(5000)).ok());

  // Every acknowledged message is in the topic exactly once.
  auto read = testing::ReadTopic(brokers, topic, milliseconds(30000));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::multiset<std::string> in_topic;
  for (const Message& m : *read) in_topic.insert(m.value);
  std::lock_guard lock(mu);
  for (const std::string& v : delivered) EXPECT_EQ(in_topic.count(v), 1u) << v;
  EXPECT_GE(delivered.size(), 10u + 100u + 1u);
}

}  // namespace
}  // namespace pinpipe::kafka

// The ingestion API while the real broker is stopped and restarted: requests get 503 within the
// delivery bound (never hang), the API recovers by itself, and no acknowledged record is missing.
// Runs in its own binary because stopping the broker disturbs every other test.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "testing/ingest_env.h"
#include "testing/kafka_env.h"

namespace pinpipe::testing {
namespace {

using Clock = std::chrono::steady_clock;

TEST(IngestBrokerRestartTest, Answers503WhileDownRecoversAndLosesNothingAcknowledged) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  const std::string ctl = KafkaCtl();
  if (ctl.empty()) GTEST_SKIP() << "PINPIPE_TEST_KAFKA_CTL is not set";
  IngestHarnessOptions options;
  options.delivery_timeout = std::chrono::milliseconds(2000);
  auto h = IngestHarness::Start(brokers, UniqueName("ingest-restart"), options);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  http::Client client = (*h)->NewClient();

  std::set<int> acknowledged;
  int next = 0;
  auto post = [&](int i) {
    auto r = client.Post("/pin/", PinRecord(i));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok() && r->status == 200) acknowledged.insert(i);
    return r.ok() ? r->status : -1;
  };
  for (int i = 0; i < 200; ++i) ASSERT_EQ(post(next++), 200);

  auto stopped = RunCommand(ctl + " stop");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  // While the broker is down: 503 with Retry-After, each within the delivery bound (+ slack).
  int unavailable = 0;
  std::chrono::nanoseconds last_wait{};
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto r = client.Post("/pin/", PinRecord(next));
    auto waited = Clock::now() - t0;
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->status == 200) {
      acknowledged.insert(next);
    } else {
      EXPECT_EQ(r->status, 503) << r->body;
      EXPECT_FALSE(r->Header("Retry-After").empty());
      ++unavailable;
    }
    // Bound: the delivery deadline (2 s; librdkafka alone lagged up to ~4 s more on a dead
    // connection) plus slack; once the producer knows the broker is down, answers come at once.
    EXPECT_LT(waited, std::chrono::milliseconds(2500)) << "request hung past the delivery bound";
    last_wait = waited;
    ++next;
  }
  EXPECT_LT(last_wait, std::chrono::milliseconds(500)) << "known-down broker should fail fast";
  EXPECT_GE(unavailable, 4) << "the broker is stopped; records cannot have been acknowledged";
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 503) << ready->body;

  auto started = RunCommand(ctl + " start");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  // The API recovers by itself: no restart of the API, just keep posting.
  auto deadline = Clock::now() + std::chrono::seconds(90);
  int status = 0;
  while (Clock::now() < deadline && (status = post(next++)) != 200) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_EQ(status, 200) << "API did not recover within 90 s of the broker restart";
  for (int i = 0; i < 200; ++i) ASSERT_EQ(post(next++), 200);

  auto read = ReadTopic(brokers, (*h)->topic(core::RecordKind::kPin), std::chrono::seconds(60));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::set<int> in_topic;
  for (const auto& m : *read) in_topic.insert(std::stoi(*m.key));
  for (int i : acknowledged)
    EXPECT_TRUE(in_topic.count(i)) << "acknowledged record " << i << " lost";
  EXPECT_GE(acknowledged.size(), 401u);
}

}  // namespace
}  // namespace pinpipe::testing

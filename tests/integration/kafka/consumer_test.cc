// The consumer wrapper against a real broker: the fetch waker (ConsumerOptions::fetch_wake_bytes)
// that keeps librdkafka 2.0.2 fetching when its prefetch queue filled up.
#include "kafka/consumer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/admin.h"
#include "testing/kafka_env.h"
#include "testing/stream_env.h"

namespace pinpipe::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct DrainResult {
  int64_t read = 0;
  bool in_order = true;
  double seconds = 0;
  uint64_t wakes = 0;
};

// Reads `count` messages of a one-partition topic with a 1 MiB prefetch queue while spending
// ~200 us per message, so that Kafka delivers faster than the application consumes and the
// queue fills. librdkafka 2.0.2 then stops fetching and looks again only a second later.
DrainResult Drain(const std::string& brokers, const std::string& topic, int64_t count,
                  size_t wake_bytes) {
  ConsumerOptions o;
  o.brokers = brokers;
  o.group_id = testing::UniqueName("waker");
  o.fetch_wake_bytes = wake_bytes;
  o.extra = {{"queued.max.messages.kbytes", "1024"},
             {"message.max.bytes", "524288"},
             {"fetch.max.bytes", "524288"},
             {"max.partition.fetch.bytes", "524288"}};
  DrainResult r;
  auto consumer = Consumer::Create(o);
  EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
  if (!consumer.ok()) return r;
  EXPECT_TRUE((*consumer)->Assign({{topic, 0, kOffsetBeginning}}).ok());
  const auto start = steady_clock::now();
  const auto deadline = start + std::chrono::seconds(60);
  while (r.read < count && steady_clock::now() < deadline) {
    std::optional<Message> m = (*consumer)->Poll(milliseconds(100));
    if (!m || !m->error.ok()) continue;
    if (m->offset != r.read) r.in_order = false;
    ++r.read;
    const auto busy_until = steady_clock::now() + std::chrono::microseconds(200);
    while (steady_clock::now() < busy_until) {
    }
  }
  r.seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  r.wakes = (*consumer)->fetch_wakes();
  EXPECT_TRUE((*consumer)->Close().ok());
  return r;
}

// The waker's effect on throughput is measured by bench/stream_bench.sh (a drain twice as fast);
// here: it runs, once per 256 KiB taken, and delivery stays complete and in order.
TEST(ConsumerIT, FetchWakerWakesPerBytesTakenAndLosesNothing) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  const std::string topic = testing::UniqueName("waker");
  ASSERT_TRUE(EnsureTopics(brokers, {{topic, 1, 1, {}}}, std::chrono::seconds(30)).ok());
  constexpr int kCount = 8000;  // 8 MiB: eight times the prefetch queue
  std::vector<std::pair<std::string, std::string>> records;
  std::mt19937_64 rng(42);  // incompressible values: a fetch's size is then the queue's
  for (int i = 0; i < kCount; ++i) {
    std::string v(1024, ' ');
    for (char& c : v) c = static_cast<char>('a' + rng() % 26);
    records.emplace_back(std::to_string(i), std::move(v));
  }
  ASSERT_TRUE(testing::ProduceAll(brokers, topic, records).ok());

  DrainResult woken = Drain(brokers, topic, kCount, 256 * 1024);
  EXPECT_EQ(woken.read, kCount);
  EXPECT_TRUE(woken.in_order);
  EXPECT_GE(woken.wakes, 8u);  // one per 256 KiB
  std::cout << "[ info     ] 8 MiB through a 1 MiB queue: " << woken.seconds << " s ("
            << woken.wakes << " wakes)\n";
}

}  // namespace
}  // namespace pinpipe::kafka

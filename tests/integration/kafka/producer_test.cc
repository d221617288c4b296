// Producer and consumer against a real broker (PINPIPE_TEST_KAFKA_BROKERS).
#include "kafka/producer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <vector>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "testing/kafka_env.h"
#include "testing/status_matchers.h"

namespace pinpipe::kafka {
namespace {

using std::chrono::milliseconds;
using testing::ReadTopic;
using testing::UniqueName;

constexpr milliseconds kTimeout{30000};

// Thread-safe collector of delivery results, keyed by the test's message index.
class Deliveries {
 public:
  DeliveryCallback For(int index) {
    return [this, index](const DeliveryResult& r) {
      std::lock_guard lock(mu_);
      results_.emplace(index, r);
      ++calls_;
    };
  }
  std::multimap<int, DeliveryResult> Get() {
    std::lock_guard lock(mu_);
    return results_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::multimap<int, DeliveryResult> results_;
  int calls_ = 0;
};

std::string RandomBytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  std::uniform_int_distribution<int> byte(0, 255);
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

std::unique_ptr<Producer> MakeProducer(const std::string& brokers,
                                       std::map<std::string, std::string> extra = {}) {
  ProducerOptions options;
  options.brokers = brokers;
  options.client_id = "pinpipe-test";
  options.extra = std::move(extra);
  auto producer = Producer::Create(options);
  EXPECT_TRUE(producer.ok()) << producer.status().ToString();
  return producer.ok() ? std::move(producer).value() : nullptr;
}

std::string NewTopic(const std::string& brokers, int partitions) {
  std::string topic = UniqueName("pinpipe-test");
  Status s = EnsureTopics(brokers, {{topic, partitions, 1, {}}}, kTimeout);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return topic;
}

TEST(KafkaProducerIT, RoundTripsBytesAndKeysWithStablePartitions) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  std::string topic = NewTopic(brokers, 3);
  std::string other_topic = NewTopic(brokers, 3);
  auto producer = MakeProducer(brokers);
  ASSERT_NE(producer, nullptr);

  std::mt19937 rng(42);
  constexpr int kMessages = 300;
  std::vector<std::string> keys;
  std::vector<std::string> values;
  Deliveries deliveries;
  Deliveries other_deliveries;
  for (int i = 0; i < kMessages; ++i) {
    keys.push_back(std::to_string(i % 100));  // every key three times
    std::string value = RandomBytes(rng, 1 + static_cast<size_t>(i * 7 % 2000));
    value[0] = '\0';  // NUL and arbitrary bytes must survive
    values.push_back(value);
    ASSERT_TRUE(producer->Produce(topic, keys[i], values[i], deliveries.For(i)).ok());
    if (i < 100) {
      ASSERT_TRUE(producer->Produce(other_topic, keys[i], "x", other_deliveries.For(i)).ok());
    }
  }
  ASSERT_TRUE(producer->Flush(kTimeout).ok());
  auto results = deliveries.Get();
  ASSERT_EQ(results.size(), static_cast<size_t>(kMessages));
  std::map<std::string, int32_t> partition_of_key;
  for (const auto& [i, r] : results) {
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    auto [it, inserted] = partition_of_key.emplace(keys[i], r.partition);
    EXPECT_EQ(it->second, r.partition) << "key " << keys[i] << " moved partitions";
  }
  // The same key maps to the same partition number in another topic of equal size.
  for (const auto& [i, r] : other_deliveries.Get()) {
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.partition, partition_of_key.at(keys[i])) << "key " << keys[i];
  }
  std::set<int32_t> used;
  for (const auto& [key, p] : partition_of_key) used.insert(p);
  EXPECT_EQ(used.size(), 3u) << "100 keys should spread over all 3 partitions";

  auto read = ReadTopic(brokers, topic, kTimeout);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), static_cast<size_t>(kMessages));
  // Index each read message by (partition, offset) and compare with what the report said.
  std::map<std::pair<int32_t, int64_t>, const Message*> by_position;
  for (const Message& m : *read) by_position[{m.partition, m.offset}] = &m;
  for (const auto& [i, r] : results) {
    auto it = by_position.find({r.partition, r.offset});
    ASSERT_NE(it, by_position.end()) << "message " << i << " not at its reported offset";
    const Message& m = *it->second;
    ASSERT_TRUE(m.key.has_value());
    EXPECT_EQ(*m.key, keys[i]);
    EXPECT_EQ(m.value, values[i]) << "message " << i << " bytes differ";
    EXPECT_EQ(m.topic, topic);
    EXPECT_GT(m.timestamp_ms, 0);
  }
}

TEST(KafkaProducerIT, TwentyThousandMessagesDeliveredExactlyOnce) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  std::string topic = NewTopic(brokers, 3);
  auto producer = MakeProducer(brokers);
  ASSERT_NE(producer, nullptr);
  constexpr int kMessages = 20000;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < kMessages; ++i) {
    std::string value =
        "{\"ind\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'p') + "\"}";
    Status s = producer->Produce(topic, std::to_string(i), value, [&](const DeliveryResult& r) {
      (r.status.ok() ? ok : failed).fetch_add(1);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_TRUE(producer->Flush(kTimeout).ok());
  EXPECT_EQ(ok.load(), kMessages);
  EXPECT_EQ(failed.load(), 0);
  ProducerStats stats = producer->Stats();
  EXPECT_EQ(stats.delivered, kMessages);
  EXPECT_EQ(stats.in_flight, 0);
  EXPECT_TRUE(stats.brokers_up);

  auto read = ReadTopic(brokers, topic, kTimeout);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), static_cast<size_t>(kMessages));
  std::vector<int> seen(kMessages, 0);
  for (const Message& m : *read) {
    int i = std::stoi(*m.key);
    ASSERT_GE(i, 0);
    ASSERT_LT(i, kMessages);
    ++seen[i];
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kMessages) << "duplicates or losses";
}

TEST(KafkaProducerIT, OversizedMessageIsInvalidArgumentAndOthersStillDeliver) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  std::string topic = NewTopic(brokers, 1);
  std::mt19937 rng(7);
  std::string big = RandomBytes(rng, 1500 * 1000);  // incompressible, > broker's 1 MiB limit

  // Caught by the producer's own limit (message.max.bytes 1 MB): fails fast, no callback.
  auto producer = MakeProducer(brokers);
  ASSERT_NE(producer, nullptr);
  EXPECT_THAT(producer->Produce(topic, "1", big, nullptr), StatusIs(StatusCode::kInvalidArgument));

  // With a larger local limit the broker itself rejects it: reported through the callback.
  auto lenient = MakeProducer(brokers, {{"message.max.bytes", "4000000"}});
  ASSERT_NE(lenient, nullptr);
  Deliveries deliveries;
  ASSERT_TRUE(lenient->Produce(topic, "1", "before", deliveries.For(0)).ok());
  ASSERT_TRUE(lenient->Flush(kTimeout).ok());
  ASSERT_TRUE(lenient->Produce(topic, "2", big, deliveries.For(1)).ok());
  ASSERT_TRUE(lenient->Flush(kTimeout).ok());
  ASSERT_TRUE(lenient->Produce(topic, "3", "after", deliveries.For(2)).ok());
  ASSERT_TRUE(lenient->Flush(kTimeout).ok());
  auto results = deliveries.Get();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results.find(0)->second.status.ok()) << results.find(0)->second.status.ToString();
  EXPECT_THAT(results.find(1)->second.status, StatusIs(StatusCode::kInvalidArgument))
      << results.find(1)->second.status.ToString();
  EXPECT_TRUE(results.find(2)->second.status.ok()) << results.find(2)->second.status.ToString();

  auto read = ReadTopic(brokers, topic, kTimeout);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].value, "before");
  EXPECT_EQ((*read)[1].value, "after");
}

TEST(KafkaProducerIT, CheckReachableAndBrokersUp) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  auto producer = MakeProducer(brokers);
  ASSERT_NE(producer, nullptr);
  EXPECT_TRUE(producer->CheckReachable(milliseconds(5000)).ok());
  EXPECT_TRUE(producer->Stats().brokers_up);
}

// Idempotence and lz4 must really be in effect on the wire, not just configured: read the
// broker's segment file with Kafka's DumpLogSegments.
TEST(KafkaProducerIT, IdempotenceAndCompressionAreOnDisk) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  const std::string log_dir = testing::KafkaLogDir();
  const std::string libs = testing::KafkaLibs();
  if (log_dir.empty() || libs.empty()) {
    GTEST_SKIP() << "PINPIPE_TEST_KAFKA_LOG_DIR and PINPIPE_TEST_KAFKA_LIBS are needed to read "
                    "the broker's segment files";
  }
  std::string topic = NewTopic(brokers, 1);
  auto producer = MakeProducer(brokers);
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(producer->Produce(topic, std::to_string(i), std::string(300, 'a'), nullptr).ok());
  }
  ASSERT_TRUE(producer->Flush(kTimeout).ok());
  ASSERT_EQ(producer->Stats().delivered, 500);

  std::filesystem::path segment =
      std::filesystem::path(log_dir) / (topic + "-0") / "00000000000000000000.log";
  ASSERT_TRUE(std::filesystem::exists(segment)) << segment;
  auto dump = testing::RunCommand("java -cp " + testing::ShellQuote(libs + "/*") +
                                  " kafka.tools.DumpLogSegments --deep-iteration --files " +
                                  testing::ShellQuote(segment.string()));
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  std::regex batch_re(R"(baseOffset: \d+ .*producerId: (-?\d+) .*compresscodec: (\w+))");
  int batches = 0;
  std::istringstream lines(dump.output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, batch_re)) continue;
    ++batches;
    EXPECT_GE(std::stoll(m[1].str()), 0) << "batch without producer id (not idempotent): " << line;
    EXPECT_EQ(m[2].str(), "lz4") << line;
    if (batches == 1) std::cout << "DumpLogSegments: " << line << "\n";
  }
  EXPECT_GT(batches, 0) << dump.output;
}

TEST(KafkaConsumerIT, SubscribeAndCommitResumeAfterCommittedOffset) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  std::string topic = NewTopic(brokers, 1);
  auto producer = MakeProducer(brokers);
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(producer->Produce(topic, std::to_string(i), "v" + std::to_string(i), nullptr).ok());
  }
  ASSERT_TRUE(producer->Flush(kTimeout).ok());

  ConsumerOptions options;
  options.brokers = brokers;
  options.group_id = UniqueName("pinpipe-test-group");
  auto read_some = [&](int count) -> std::vector<Message> {
    auto consumer = Consumer::Create(options);
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    EXPECT_TRUE((*consumer)->Subscribe({topic}).ok());
    std::vector<Message> got;
    auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (static_cast<int>(got.size()) < count && std::chrono::steady_clock::now() < deadline) {
      auto m = (*consumer)->Poll(milliseconds(200));
      if (!m || !m->error.ok()) continue;
      got.push_back(*m);
    }
    if (!got.empty()) {
      EXPECT_TRUE((*consumer)->Commit(got.back()).ok());
    }
    EXPECT_TRUE((*consumer)->Close().ok());
    return got;
  };
  auto first = read_some(4);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0].value, "v0");
  auto second = read_some(6);
  ASSERT_EQ(second.size(), 6u);
  EXPECT_EQ(second[0].value, "v4") << "should resume after the committed offset";
}

}  // namespace
}  // namespace pinpipe::kafka

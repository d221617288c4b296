// EnsureTopics / Describe against a real broker (PINPIPE_TEST_KAFKA_BROKERS).
#include "kafka/admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "testing/kafka_env.h"
#include "testing/status_matchers.h"

namespace pinpipe::kafka {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kTimeout{30000};

const TopicInfo* Find(const ClusterInfo& info, const std::string& name) {
  auto it = std::find_if(info.topics.begin(), info.topics.end(),
                         [&](const TopicInfo& t) { return t.name == name; });
  return it == info.topics.end() ? nullptr : &*it;
}

TEST(KafkaAdminIT, EnsureCreatesThenAcceptsExistingTopics) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  std::string a = testing::UniqueName("pinpipe-test-a");
  std::string b = testing::UniqueName("pinpipe-test-b");
  std::vector<TopicSpec> specs = {{a, 3, 1, {{"retention.ms", "3600000"}}}, {b, 3, 1, {}}};
  Status s = EnsureTopics(brokers, specs, kTimeout);
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = EnsureTopics(brokers, specs, kTimeout);  // again: already there, same partitions
  EXPECT_TRUE(s.ok()) << s.ToString();

  auto info = Describe(brokers, kTimeout);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_FALSE(info->brokers.empty());
  EXPECT_GE(info->brokers[0].id, 0);
  EXPECT_GT(info->brokers[0].port, 0);
  ASSERT_NE(Find(*info, a), nullptr);
  EXPECT_EQ(Find(*info, a)->partitions, 3);
  EXPECT_EQ(Find(*info, a)->replication_factor, 1);
  EXPECT_FALSE(info->cluster_id.empty());
}

TEST(KafkaAdminIT, PartitionMismatchIsFailedPreconditionWithCounts) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  std::string topic = testing::UniqueName("pinpipe-test-few");
  ASSERT_TRUE(EnsureTopics(brokers, {{topic, 1, 1, {}}}, kTimeout).ok());
  Status s = EnsureTopics(brokers, {{topic, 3, 1, {}}}, kTimeout);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(s.message().find("only 1 partitions, 3 requested"), std::string::npos) << s.message();
}

TEST(KafkaAdminIT, ReplicationFactorAboveBrokerCountIsInvalidArgument) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  Status s = EnsureTopics(brokers, {{testing::UniqueName("pinpipe-test-rf"), 1, 5, {}}}, kTimeout);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << s.ToString();
}

TEST(KafkaAdminIT, UnreachableBrokerIsUnavailable) {
  auto info = Describe("127.0.0.1:1", milliseconds(1000));
  EXPECT_THAT(info, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(info.status().message().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::kafka

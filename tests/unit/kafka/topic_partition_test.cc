#include "kafka/topic_partition.h"

#include "kafka/consumer.h"

#include <map>
#include <set>
#include <type_traits>

#include <gtest/gtest.h>

namespace pinpipe::kafka {
namespace {

// The point of the strong types: a partition, an offset and a plain integer do not convert into
// one another, so swapped arguments do not compile; and they cost nothing.
static_assert(!std::is_convertible_v<int32_t, Partition>);
static_assert(!std::is_convertible_v<int64_t, Offset>);
static_assert(!std::is_constructible_v<Partition, Offset>);
static_assert(!std::is_constructible_v<Offset, Partition>);
static_assert(!std::is_convertible_v<Partition, int32_t>);
static_assert(!std::is_convertible_v<Offset, int64_t>);
static_assert(sizeof(Partition) == sizeof(int32_t) && std::is_trivially_copyable_v<Partition>);
static_assert(sizeof(Offset) == sizeof(int64_t) && std::is_trivially_copyable_v<Offset>);
static_assert(Partition(2) == Partition(2) && Partition(1) < Partition(2));
static_assert(Offset(41) < Offset(42) && Offset(42) != Offset(43));

TEST(TopicPartitionTest, OrdersByTopicThenPartition) {
  std::set<TopicPartition> keys = {{"pins", 2}, {"geo", 9}, {"pins", 0}, {"geo", 1}, {"pins", 2}};
  EXPECT_EQ(keys, (std::set<TopicPartition>{{"geo", 1}, {"geo", 9}, {"pins", 0}, {"pins", 2}}));
  EXPECT_EQ(keys.begin()->topic, "geo");
  EXPECT_EQ(keys.begin()->partition, 1);
}

TEST(TopicPartitionTest, IsTheKeyOfAnOffsetPosition) {
  const TopicPartitionOffset at{"pins", 3, 42};
  EXPECT_EQ(at.key(), (TopicPartition{"pins", 3}));
  std::map<TopicPartition, int64_t> lag{{at.key(), 7}};
  EXPECT_EQ(lag.at({"pins", 3}), 7);
  EXPECT_EQ(lag.count({"pins", 4}), 0u);
}

}  // namespace
}  // namespace pinpipe::kafka

// TopicPartition, Partition, Offset: the one {topic, partition} key of the tree and the strong
// types for a partition number and an offset.
//
// TopicPartition is the key of every per-partition map (the consumer's fetch waker, the speed
// layer's offset book and lag, the archiver's partitions and poisoned set); it orders by topic,
// then partition. Partition and Offset wrap the plain integers where a signature would otherwise
// take a partition and an offset (or an offset and a timestamp) side by side, so that a swap does
// not compile: explicit constructors, `.value` to read, the comparisons a key needs, nothing
// else. All are zero-cost (a struct of one integer, trivially copyable).
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace pinpipe::kafka {

struct Partition {
  constexpr explicit Partition(int32_t v) : value(v) {}
  int32_t value;
  friend constexpr auto operator<=>(Partition, Partition) = default;
};

struct Offset {
  constexpr explicit Offset(int64_t v) : value(v) {}
  int64_t value;
  friend constexpr auto operator<=>(Offset, Offset) = default;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the synthesized comparison's 0
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

}  // namespace pinpipe::kafka

// Consumer: RAII owner of a librdkafka high-level KafkaConsumer.
//
// Group membership (Subscribe) or manual assignment (Assign), Poll() returning owned copies of
// messages, optional synchronous Commit(). Used by the speed layer (planned) and by tests to read
// topics back. Thread-safety: one thread at a time (like rd_kafka_consumer_poll); Close() and the
// destructor must not race with Poll().
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "kafka/handles.h"

namespace pinpipe::kafka {

inline constexpr int64_t kOffsetBeginning = -2;  // RD_KAFKA_OFFSET_BEGINNING
inline constexpr int64_t kOffsetEnd = -1;        // RD_KAFKA_OFFSET_END
inline constexpr int64_t kOffsetStored = -1000;  // RD_KAFKA_OFFSET_STORED (committed)

struct ConsumerOptions {
  std::string brokers = "127.0.0.1:19092";
  std::string group_id;  // required
  std::string client_id = "pinpipe-consumer";
  bool enable_auto_commit = false;
  std::string auto_offset_reset = "earliest";  // where to start without a committed offset
  std::map<std::string, std::string> extra;    // more librdkafka properties, applied last
};

// One consumed message, copied out of librdkafka.
struct Message {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;  // nullopt for a null key
  std::string value;
  int64_t timestamp_ms = -1;       // producer CreateTime, -1 if absent
  bool end_of_partition = false;   // only with enable.partition.eof=true in extra
  Status error;                    // non-OK for a consumer error event (then only topic/partition)
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = kOffsetBeginning;
};

class Consumer {
 public:
  // Errors: InvalidArgument for bad configuration (missing group id, unknown property).
  static StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options);
  ~Consumer();

  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Joins the group and consumes `topics` (partitions assigned by the group).
  Status Subscribe(const std::vector<std::string>& topics);

  // Consumes exactly these partitions from these offsets (no group rebalancing).
  Status Assign(const std::vector<TopicPartitionOffset>& partitions);

  // The next message or error event, or nullopt when nothing arrived within `timeout`.
  std::optional<Message> Poll(std::chrono::milliseconds timeout);

  // Synchronously commits `message.offset + 1` for its partition.
  Status Commit(const Message& message);

  // Low and high watermark of a partition, asked from the broker.
  StatusOr<std::pair<int64_t, int64_t>> WatermarkOffsets(const std::string& topic,
                                                         int32_t partition,
                                                         std::chrono::milliseconds timeout);

  // Leaves the group (committing if auto commit is on) and destroys the handle. Idempotent.
  Status Close();

 private:
  explicit Consumer(KafkaHandle rk) : rk_(std::move(rk)) {}

  KafkaHandle rk_;  // null after Close()
};

}  // namespace pinpipe::kafka

// Inspector: a read-only, long-lived view of a Kafka cluster for monitoring (the dashboard):
// partitions and their watermarks, the offsets consumer groups have committed, and the newest
// messages of a partition.
//
// It never joins a consumer group and never commits: committed offsets are read with the Admin
// API (ListConsumerGroupOffsets, as lag tools do); messages are read with the simple consumer API
// (start a partition at an offset, read, stop), so the pipeline's groups and the broker's group
// list are untouched. The client still has a group.id of its own (`client_id`), never joined:
// librdkafka 2.0.2 dereferences the client's (absent) group when an OffsetFetch answer is
// NOT_COORDINATOR, e.g. while the broker creates __consumer_offsets on a fresh cluster, and
// crashed the dashboard (librdkafka issue #5040). Memory is bounded by small fetch
// and queue sizes, and a message's value is copied only up to `max_value_bytes` (its full size
// is reported).
//
// Every call blocks for at most about `timeout` (per request to the broker). Thread-safety: one
// thread at a time (the dashboard's refresher); not copyable.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "kafka/handles.h"

namespace pinpipe::kafka {

struct InspectorOptions {
  std::string brokers = "127.0.0.1:19092";
  std::string client_id = "pinpipe-inspector";
  std::chrono::milliseconds timeout{2000};
  size_t max_value_bytes = 8192;  // copied per message; the rest only counted
  size_t max_key_bytes = 1024;
};

struct PartitionWatermarks {
  std::string topic;
  int32_t partition = 0;
  int64_t low = 0;   // first offset still in the log
  int64_t high = 0;  // next offset to be written
};

struct CommittedOffset {
  std::string topic;
  int32_t partition = 0;
  std::optional<int64_t> offset;  // nullopt: the group has no offset for it
};

struct PeekedMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;  // nullopt for a null key; at most max_key_bytes
  size_t key_bytes = 0;
  std::string value;          // the first max_value_bytes bytes
  size_t value_bytes = 0;     // the value's full size
  int64_t timestamp_ms = -1;  // -1: none
};

class Inspector {
 public:
  // Errors: InvalidArgument for a bad configuration. Connecting happens on first use.
  static StatusOr<std::unique_ptr<Inspector>> Create(const InspectorOptions& options);
  ~Inspector();
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  // The partitions of `topics` (from cluster metadata) with their watermarks, by topic then
  // partition. A topic the cluster does not have is left out and named in *missing.
  // Errors: Unavailable / DeadlineExceeded when the cluster does not answer.
  StatusOr<std::vector<PartitionWatermarks>> Watermarks(const std::vector<std::string>& topics,
                                                        std::vector<std::string>* missing);

  // The offsets `group` has committed for these partitions (one Admin request).
  // Errors: Unavailable / DeadlineExceeded; the broker's error for the group.
  StatusOr<std::vector<CommittedOffset>> Committed(
      const std::string& group, const std::vector<PartitionWatermarks>& partitions);

  // The newest messages of one partition: offsets [max(low, high - limit), high), oldest first,
  // read up to `timeout`. Fewer when the log has fewer or a read times out (then what was read
  // is returned). Errors: the consumer's, when nothing could be read for another reason.
  StatusOr<std::vector<PeekedMessage>> Newest(const PartitionWatermarks& partition, size_t limit);

 private:
  Inspector(InspectorOptions options, KafkaHandle rk);

  InspectorOptions options_;
  KafkaHandle rk_;
};

}  // namespace pinpipe::kafka

// Consumer: RAII owner of a librdkafka high-level KafkaConsumer.
//
// Group membership (Subscribe) or manual assignment (Assign), Poll() returning owned copies of
// messages, optional synchronous Commit(). Used by the speed layer (planned) and by tests to read
// topics back. Thread-safety: one thread at a time (like rd_kafka_consumer_poll); Close() and the
// destructor must not race with Poll().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "kafka/handles.h"
#include "kafka/topic_partition.h"

namespace pinpipe::kafka {

inline constexpr int64_t kOffsetBeginning = -2;  // RD_KAFKA_OFFSET_BEGINNING
inline constexpr int64_t kOffsetEnd = -1;        // RD_KAFKA_OFFSET_END
inline constexpr int64_t kOffsetStored = -1000;  // RD_KAFKA_OFFSET_STORED (committed)

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = kOffsetBeginning;
  TopicPartition key() const { return {topic, partition}; }
};

enum class RebalanceEvent : uint8_t { kAssign, kRevoke };

// Group rebalance hook (eager protocol). Called on the thread that calls Poll(), inside Poll().
// kAssign: `partitions` are the newly assigned partitions; the hook returns them with the offsets
// to start from, and the consumer assigns exactly that list. kRevoke: the hook finishes whatever
// it holds for `partitions` (its return value is ignored); the consumer unassigns after it
// returns. `lost` is true when the assignment was lost (session timeout) rather than revoked.
using RebalanceHook = std::function<std::vector<TopicPartitionOffset>(
    RebalanceEvent event, const std::vector<TopicPartitionOffset>& partitions, bool lost)>;

struct ConsumerOptions {
  std::string brokers = "127.0.0.1:19092";
  std::string group_id;  // required
  std::string client_id = "pinpipe-consumer";
  bool enable_auto_commit = false;
  std::string auto_offset_reset = "earliest";  // where to start without a committed offset
  std::map<std::string, std::string> extra;    // more librdkafka properties, applied last
  RebalanceHook on_rebalance;                  // optional; see RebalanceHook
  // librdkafka 2.0.2 stops fetching once its prefetch queue holds queued.max.messages.kbytes
  // and looks again only after a fixed 1 s (fetch.queue.backoff.ms, which makes that tunable,
  // came in 2.1). A consumer that processes slower than Kafka delivers then gets at most one
  // queue-full per second. With fetch_wake_bytes > 0, every time the application has taken that
  // many bytes out of the queue the consumer wakes the fetchers (a watermark query to the
  // partitions' leaders on a background thread, which makes their broker threads re-decide at
  // once). A good value is a quarter of the queue limit; 0 = off.
  size_t fetch_wake_bytes = 0;
};

// One consumed message, copied out of librdkafka.
struct Message {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;  // nullopt for a null key
  std::string value;
  int64_t timestamp_ms = -1;      // producer CreateTime, -1 if absent
  bool end_of_partition = false;  // only with enable.partition.eof=true in extra
  Status error;                   // non-OK for a consumer error event (then only topic/partition)
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

  // Looks the topics' partition leaders up now (one metadata request), so that partitions
  // assigned later start fetching at once instead of after librdkafka's "no leader yet" retry
  // timer (about a second at startup). Optional; errors only mean that head start is lost.
  Status PrefetchMetadata(const std::vector<std::string>& topics,
                          std::chrono::milliseconds timeout);

  // Consumes exactly these partitions from these offsets (no group rebalancing).
  Status Assign(const std::vector<TopicPartitionOffset>& partitions);

  // The next message or error event, or nullopt when nothing arrived within `timeout`.
  std::optional<Message> Poll(std::chrono::milliseconds timeout);

  // Synchronously commits `message.offset + 1` for its partition.
  Status Commit(const Message& message);

  // Commits the given next offsets for the group without waiting for the answer (errors are
  // dropped: for callers that keep offsets elsewhere and commit only for visibility).
  Status CommitAsync(const std::vector<TopicPartitionOffset>& offsets);

  // The high watermark last seen in a fetch response (no broker round trip); -1 if unknown.
  int64_t CachedHighWatermark(const std::string& topic, int32_t partition) const;

  // Low and high watermark of a partition, asked from the broker.
  StatusOr<std::pair<int64_t, int64_t>> WatermarkOffsets(const std::string& topic,
                                                         int32_t partition,
                                                         std::chrono::milliseconds timeout);

  // Leaves the group (committing if auto commit is on) and destroys the handle. Idempotent.
  Status Close();

  // How many times the fetchers were woken (see ConsumerOptions::fetch_wake_bytes).
  uint64_t fetch_wakes() const;

  // True after librdkafka reported that all brokers are down, until the next message arrives.
  // Any thread.
  bool all_brokers_down() const { return hook_->all_brokers_down.load(); }

 private:
  struct Hook {
    RebalanceHook fn;
    std::atomic<bool> all_brokers_down{false};
  };
  Consumer(KafkaHandle rk, std::unique_ptr<Hook> hook, size_t fetch_wake_bytes);
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  // Waker thread: waits for a request, then asks each partition in it for its watermarks.
  void WakerLoop(std::stop_token stop);
  void StopWaker();

  std::unique_ptr<Hook> hook_;       // the conf opaque; outlives rk_ (declared first)
  KafkaHandle rk_;                   // null after Close()
  std::vector<TopicHandle> topics_;  // from PrefetchMetadata; released before rk_

  // Poll() thread only.
  const size_t fetch_wake_bytes_;
  size_t bytes_since_wake_ = 0;
  std::set<TopicPartition> polled_since_wake_;
  TopicPartition last_polled_{"", -1};

  // Shared between Poll() and the waker thread.
  mutable core::Mutex wake_mu_;
  std::condition_variable_any wake_cv_;
  std::set<TopicPartition> wake_request_ GUARDED_BY(wake_mu_);
  uint64_t fetch_wakes_ GUARDED_BY(wake_mu_) = 0;
  std::jthread waker_;  // only with fetch_wake_bytes_ > 0; stopped before rk_ is destroyed
};

}  // namespace pinpipe::kafka

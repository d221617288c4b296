#include "kafka/consumer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/mutex.h"
#include "kafka/client_config.h"
#include "kafka/client_properties.h"
#include "kafka/errors.h"

namespace pinpipe::kafka {
StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options) {
  if (options.group_id.empty()) return InvalidArgument("kafka consumer: group id is required");
  ASSIGN_OR_RETURN(ConfHandle conf, NewConf(options.brokers, options.client_id));
  RETURN_IF_ERROR(
      SetConf(conf.get(), {
                              {"group.id", options.group_id},
                              {"enable.auto.commit", options.enable_auto_commit ? "true" : "false"},
                              {"auto.offset.reset", options.auto_offset_reset},
                          }));
  RETURN_IF_ERROR(SetConf(conf.get(), options.extra));
  RETURN_IF_ERROR(ApplyClientProperties(conf.get()));
  auto hook = std::make_unique<Hook>();
  rd_kafka_conf_set_opaque(conf.get(), hook.get());
  rd_kafka_conf_set_error_cb(conf.get(), &Consumer::ErrorCallback);
  if (options.on_rebalance) {
    hook->fn = options.on_rebalance;
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::RebalanceCallback);
  }
  ASSIGN_OR_RETURN(KafkaHandle rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  // All events (including errors) through rd_kafka_consumer_poll.
  RETURN_IF_ERROR(KafkaError(rd_kafka_poll_set_consumer(rk.get()), "kafka consumer setup"));
  return std::unique_ptr<Consumer>(
      new Consumer(std::move(rk), std::move(hook), options.fetch_wake_bytes));
}

Consumer::Consumer(KafkaHandle rk, std::unique_ptr<Hook> hook, size_t fetch_wake_bytes)
    : hook_(std::move(hook)), rk_(std::move(rk)), fetch_wake_bytes_(fetch_wake_bytes) {
  if (fetch_wake_bytes_ > 0) waker_ = std::jthread([this](std::stop_token st) { WakerLoop(st); });
}

void Consumer::WakerLoop(std::stop_token stop) {
  while (true) {
    std::set<TopicPartition> request;
    {
      core::MutexLock lock(wake_mu_);
      if (!lock.Wait(wake_cv_, stop,
                     [this]() REQUIRES(wake_mu_) { return !wake_request_.empty(); }))
        return;
      request.swap(wake_request_);
      ++fetch_wakes_;
    }
    // A ListOffsets request is an op on the leader's broker thread: serving it makes that thread
    // re-run its fetch decision now instead of at its next 1 s wake-up. The answer is not needed.
    for (const auto& [topic, partition] : request) {
      if (stop.stop_requested()) return;
      int64_t low = -1;
      int64_t high = -1;
      rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition, &low, &high, 1000);
    }
  }
}

void Consumer::StopWaker() {
  if (!waker_.joinable()) return;
  waker_.request_stop();
  waker_.join();
}

uint64_t Consumer::fetch_wakes() const {
  core::MutexLock lock(wake_mu_);
  return fetch_wakes_;
}

void Consumer::RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* hook = static_cast<Hook*>(opaque);
  std::vector<TopicPartitionOffset> list;
  list.reserve(static_cast<size_t>(partitions->cnt));
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = partitions->elems[i];
    list.push_back({p.topic, p.partition, p.offset});
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<TopicPartitionOffset> start = hook->fn(RebalanceEvent::kAssign, list, false);
    PartitionListHandle assign(rd_kafka_topic_partition_list_new(static_cast<int>(start.size())));
    for (const TopicPartitionOffset& p : start) {
      rd_kafka_topic_partition_list_add(assign.get(), p.topic.c_str(), p.partition)->offset =
          p.offset;
    }
    rd_kafka_assign(rk, assign.get());
  } else {
    hook->fn(RebalanceEvent::kRevoke, list, rd_kafka_assignment_lost(rk) != 0);
    rd_kafka_assign(rk, nullptr);
  }
}

// Called inside Poll() (rd_kafka_consumer_poll serves error events).
void Consumer::ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* hook = static_cast<Hook*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) hook->all_brokers_down.store(true);
  LogClientError(rk, code, reason);
}

Consumer::~Consumer() { Close().IgnoreError(); }

Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  PartitionListHandle list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& t : topics) {
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  return KafkaError(rd_kafka_subscribe(rk_.get(), list.get()), "kafka subscribe");
}

Status Consumer::PrefetchMetadata(const std::vector<std::string>& topics,
                                  std::chrono::milliseconds timeout) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  for (const std::string& t : topics) {
    TopicHandle handle(rd_kafka_topic_new(rk_.get(), t.c_str(), nullptr));
    if (handle != nullptr) topics_.push_back(std::move(handle));
  }
  const rd_kafka_metadata_t* md = nullptr;
  // all_topics=0, only_rkt=null: the topics this client knows, i.e. the ones just added.
  RETURN_IF_ERROR(KafkaError(rd_kafka_metadata(rk_.get(), 0, nullptr, &md, TimeoutMs(timeout)),
                             "kafka metadata"));
  MetadataHandle owned(md);
  return Status::Ok();
}

Status Consumer::Assign(const std::vector<TopicPartitionOffset>& partitions) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  PartitionListHandle list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartitionOffset& p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  return KafkaError(rd_kafka_assign(rk_.get(), list.get()), "kafka assign");
}

std::optional<Message> Consumer::Poll(std::chrono::milliseconds timeout) {
  if (rk_ == nullptr) return std::nullopt;
  MessageHandle raw(rd_kafka_consumer_poll(rk_.get(), TimeoutMs(timeout)));
  if (raw == nullptr) return std::nullopt;
  Message m;
  if (raw->rkt != nullptr) m.topic = rd_kafka_topic_name(raw->rkt);
  m.partition = raw->partition;
  m.offset = raw->offset;
  if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    m.end_of_partition = true;
    return m;
  }
  if (raw->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    m.error = KafkaError(raw->err, "kafka consume", rd_kafka_message_errstr(raw.get()));
    return m;
  }
  if (hook_->all_brokers_down.load(std::memory_order_relaxed)) hook_->all_brokers_down.store(false);
  if (raw->key != nullptr) m.key.emplace(static_cast<const char*>(raw->key), raw->key_len);
  if (raw->payload != nullptr) m.value.assign(static_cast<const char*>(raw->payload), raw->len);
  if (fetch_wake_bytes_ > 0) {
    bytes_since_wake_ += raw->len + raw->key_len;
    // Records come in runs per partition: only a change of partition costs a set insert.
    if (polled_since_wake_.size() < 64 &&
        (m.partition != last_polled_.partition || m.topic != last_polled_.topic)) {
      last_polled_ = {m.topic, m.partition};
      polled_since_wake_.insert(last_polled_);
    }
    if (bytes_since_wake_ >= fetch_wake_bytes_) {
      bytes_since_wake_ = 0;
      {
        core::MutexLock lock(wake_mu_);
        wake_request_.merge(polled_since_wake_);
      }
      polled_since_wake_.clear();
      last_polled_ = {"", -1};
      wake_cv_.notify_one();
    }
  }
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(raw.get(), &type);
  m.timestamp_ms = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
  return m;
}

Status Consumer::Commit(const Message& message) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), message.topic.c_str(), message.partition)->offset =
      message.offset + 1;
  return KafkaError(rd_kafka_commit(rk_.get(), list.get(), 0), "kafka commit");
}

Status Consumer::CommitAsync(const std::vector<TopicPartitionOffset>& offsets) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  if (offsets.empty()) return Status::Ok();
  PartitionListHandle list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const TopicPartitionOffset& p : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  return KafkaError(rd_kafka_commit(rk_.get(), list.get(), 1), "kafka commit");
}

int64_t Consumer::CachedHighWatermark(const std::string& topic, int32_t partition) const {
  if (rk_ == nullptr) return -1;
  int64_t low = -1;
  int64_t high = -1;
  if (rd_kafka_get_watermark_offsets(rk_.get(), topic.c_str(), partition, &low, &high) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  return high;
}

StatusOr<std::pair<int64_t, int64_t>> Consumer::WatermarkOffsets(
    const std::string& topic, int32_t partition, std::chrono::milliseconds timeout) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  int64_t low = -1;
  int64_t high = -1;
  RETURN_IF_ERROR(KafkaError(rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition,
                                                              &low, &high, TimeoutMs(timeout)),
                             fmt::format("kafka watermarks of {}[{}]", topic, partition)));
  return std::make_pair(low, high);
}

Status Consumer::Close() {
  if (rk_ == nullptr) return Status::Ok();
  StopWaker();
  Status s = KafkaError(rd_kafka_consumer_close(rk_.get()), "kafka consumer close");
  topics_.clear();
  rk_.reset();
  return s;
}

}  // namespace pinpipe::kafka

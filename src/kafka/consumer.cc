#include "kafka/consumer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include <fmt/format.h>

#include "kafka/client_config.h"
#include "kafka/errors.h"

namespace pinpipe::kafka {
namespace {

int ToMillis(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<int64_t>(d.count(), 0, 24LL * 3600 * 1000));
}

}  // namespace

StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options) {
  if (options.group_id.empty()) return InvalidArgument("kafka consumer: group id is required");
  ASSIGN_OR_RETURN(ConfHandle conf, NewConf(options.brokers, options.client_id));
  RETURN_IF_ERROR(SetConf(conf.get(), {
                                          {"group.id", options.group_id},
                                          {"enable.auto.commit",
                                           options.enable_auto_commit ? "true" : "false"},
                                          {"auto.offset.reset", options.auto_offset_reset},
                                      }));
  RETURN_IF_ERROR(SetConf(conf.get(), options.extra));
  ASSIGN_OR_RETURN(KafkaHandle rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  // All events (including errors) through rd_kafka_consumer_poll.
  RETURN_IF_ERROR(KafkaError(rd_kafka_poll_set_consumer(rk.get()), "kafka consumer setup"));
  return std::unique_ptr<Consumer>(new Consumer(std::move(rk)));
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

Status Consumer::Assign(const std::vector<TopicPartitionOffset>& partitions) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  PartitionListHandle list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartitionOffset& p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset =
        p.offset;
  }
  return KafkaError(rd_kafka_assign(rk_.get(), list.get()), "kafka assign");
}

std::optional<Message> Consumer::Poll(std::chrono::milliseconds timeout) {
  if (rk_ == nullptr) return std::nullopt;
  MessageHandle raw(rd_kafka_consumer_poll(rk_.get(), ToMillis(timeout)));
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
  if (raw->key != nullptr) m.key.emplace(static_cast<const char*>(raw->key), raw->key_len);
  if (raw->payload != nullptr) m.value.assign(static_cast<const char*>(raw->payload), raw->len);
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(raw.get(), &type);
  m.timestamp_ms = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
  return m;
}

Status Consumer::Commit(const Message& message) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), message.topic.c_str(), message.partition)
      ->offset = message.offset + 1;
  return KafkaError(rd_kafka_commit(rk_.get(), list.get(), 0), "kafka commit");
}

StatusOr<std::pair<int64_t, int64_t>> Consumer::WatermarkOffsets(
    const std::string& topic, int32_t partition, std::chrono::milliseconds timeout) {
  if (rk_ == nullptr) return Cancelled("kafka consumer is closed");
  int64_t low = -1;
  int64_t high = -1;
  RETURN_IF_ERROR(KafkaError(rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition,
                                                              &low, &high, ToMillis(timeout)),
                             fmt::format("kafka watermarks of {}[{}]", topic, partition)));
  return std::make_pair(low, high);
}

Status Consumer::Close() {
  if (rk_ == nullptr) return Status::Ok();
  Status s = KafkaError(rd_kafka_consumer_close(rk_.get()), "kafka consumer close");
  rk_.reset();
  return s;
}

}  // namespace pinpipe::kafka

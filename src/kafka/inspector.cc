#include "kafka/inspector.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "kafka/client_config.h"
#include "kafka/client_properties.h"
#include "kafka/errors.h"

namespace pinpipe::kafka {
StatusOr<std::unique_ptr<Inspector>> Inspector::Create(const InspectorOptions& options) {
  ASSIGN_OR_RETURN(ConfHandle conf, NewConf(options.brokers, options.client_id));
  // It never subscribes, so it never joins its group.id (see the header: the id only keeps
  // librdkafka from crashing on a NOT_COORDINATOR answer) and commits nothing: no offset is
  // stored. Small fetches and queues: it reads a few messages now and then, never a stream.
  RETURN_IF_ERROR(SetConf(conf.get(), {
                                          {"group.id", options.client_id},
                                          {"enable.auto.commit", "false"},
                                          {"enable.auto.offset.store", "false"},
                                          {"enable.partition.eof", "true"},
                                          {"fetch.message.max.bytes", "1048576"},
                                          {"fetch.max.bytes", "2097152"},
                                          {"receive.message.max.bytes", "4194304"},
                                          {"queued.min.messages", "100"},
                                          {"queued.max.messages.kbytes", "2048"},
                                          {"fetch.wait.max.ms", "50"},
                                      }));
  RETURN_IF_ERROR(ApplyClientProperties(conf.get()));
  ASSIGN_OR_RETURN(KafkaHandle rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  return std::unique_ptr<Inspector>(new Inspector(options, std::move(rk)));
}

Inspector::Inspector(InspectorOptions options, KafkaHandle rk)
    : options_(std::move(options)), rk_(std::move(rk)) {}

Inspector::~Inspector() = default;

StatusOr<std::vector<PartitionWatermarks>> Inspector::Watermarks(
    const std::vector<std::string>& topics, std::vector<std::string>* missing) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk_.get(), 1, nullptr, &raw, TimeoutMs(options_.timeout));
  MetadataHandle metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, fmt::format("kafka metadata from {}", options_.brokers));
  }
  std::map<std::string, int> partition_counts;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic& t = metadata->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) partition_counts[t.topic] = t.partition_cnt;
  }
  std::vector<PartitionWatermarks> out;
  for (const std::string& topic : topics) {
    auto it = partition_counts.find(topic);
    if (it == partition_counts.end()) {
      if (missing != nullptr) missing->push_back(topic);
      continue;
    }
    for (int32_t p = 0; p < it->second; ++p) {
      PartitionWatermarks w{topic, p, 0, 0};
      RETURN_IF_ERROR(
          KafkaError(rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), p, &w.low, &w.high,
                                                      TimeoutMs(options_.timeout)),
                     fmt::format("kafka watermarks of {}[{}]", topic, p)));
      out.push_back(std::move(w));
    }
  }
  return out;
}

StatusOr<std::vector<CommittedOffset>> Inspector::Committed(
    const std::string& group, const std::vector<PartitionWatermarks>& partitions) {
  std::vector<CommittedOffset> out;
  if (partitions.empty()) return out;
  PartitionListHandle list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const PartitionWatermarks& p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
  }
  ListGroupOffsetsHandle request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list.get()));
  QueueHandle queue(rd_kafka_queue_new(rk_.get()));
  AdminOptionsHandle admin(
      rd_kafka_AdminOptions_new(rk_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  char errstr[512];
  RETURN_IF_ERROR(KafkaError(rd_kafka_AdminOptions_set_request_timeout(
                                 admin.get(), TimeoutMs(options_.timeout), errstr, sizeof(errstr)),
                             "admin request timeout", errstr));
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_ListConsumerGroupOffsets(rk_.get(), requests, 1, admin.get(), queue.get());
  EventHandle event(rd_kafka_queue_poll(queue.get(), TimeoutMs(options_.timeout) + 1000));
  if (event == nullptr) {
    return DeadlineExceeded(
        fmt::format("kafka: no answer for the offsets of group '{}' within {} ms", group,
                    options_.timeout.count()));
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(rd_kafka_event_error(event.get()),
                      fmt::format("kafka: offsets of group '{}'", group),
                      rd_kafka_event_error_string(event.get()));
  }
  const rd_kafka_ListConsumerGroupOffsets_result_t* result =
      rd_kafka_event_ListConsumerGroupOffsets_result(event.get());
  size_t count = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(result, &count);
  if (count != 1) {
    return Internal(fmt::format("kafka: {} results for the offsets of one group", count));
  }
  if (const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[0]); error != nullptr) {
    return KafkaError(rd_kafka_error_code(error),
                      fmt::format("kafka: offsets of group '{}'", group),
                      rd_kafka_error_string(error));
  }
  const rd_kafka_topic_partition_list_t* offsets = rd_kafka_group_result_partitions(groups[0]);
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = offsets->elems[i];
    CommittedOffset c;
    c.topic = p.topic;
    c.partition = p.partition;
    // RD_KAFKA_OFFSET_INVALID (-1001) or a per-partition error: nothing committed.
    if (p.err == RD_KAFKA_RESP_ERR_NO_ERROR && p.offset >= 0) c.offset = p.offset;
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const CommittedOffset& a, const CommittedOffset& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return out;
}

StatusOr<std::vector<PeekedMessage>> Inspector::Newest(const PartitionWatermarks& partition,
                                                       size_t limit) {
  std::vector<PeekedMessage> out;
  const int64_t start = std::max(
      partition.low, partition.high - static_cast<int64_t>(std::min<size_t>(limit, 1 << 20)));
  if (limit == 0 || start >= partition.high) return out;
  TopicHandle topic(rd_kafka_topic_new(rk_.get(), partition.topic.c_str(), nullptr));
  if (topic == nullptr) {
    return KafkaError(rd_kafka_last_error(), fmt::format("kafka topic {}", partition.topic));
  }
  if (rd_kafka_consume_start(topic.get(), partition.partition, start) == -1) {
    return KafkaError(rd_kafka_last_error(),
                      fmt::format("kafka: reading {}[{}]", partition.topic, partition.partition));
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  Status error;
  int64_t next = start;
  while (next < partition.high) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    MessageHandle m(rd_kafka_consume(topic.get(), partition.partition, TimeoutMs(left)));
    if (m == nullptr) break;  // timed out
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      error = KafkaError(m->err,
                         fmt::format("kafka: reading {}[{}]", partition.topic, partition.partition),
                         rd_kafka_message_errstr(m.get()));
      break;
    }
    PeekedMessage p;
    p.topic = partition.topic;
    p.partition = partition.partition;
    p.offset = m->offset;
    if (m->key != nullptr) {
      p.key_bytes = m->key_len;
      p.key.emplace(static_cast<const char*>(m->key), std::min(m->key_len, options_.max_key_bytes));
    }
    p.value_bytes = m->len;
    if (m->payload != nullptr) {
      p.value.assign(static_cast<const char*>(m->payload),
                     std::min(m->len, options_.max_value_bytes));
    }
    rd_kafka_timestamp_type_t type;
    const int64_t ts = rd_kafka_message_timestamp(m.get(), &type);
    p.timestamp_ms = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
    next = m->offset + 1;
    out.push_back(std::move(p));
  }
  rd_kafka_consume_stop(topic.get(), partition.partition);
  if (!error.ok() && out.empty()) return error;
  return out;
}

}  // namespace pinpipe::kafka

#include "dashboard/kafka_source.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace pinpipe::dashboard {

StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Create(KafkaSourceOptions options) {
  kafka::InspectorOptions io;
  io.brokers = options.brokers;
  io.client_id = "pinpipe-dashboard";
  io.timeout = options.timeout;
  io.max_value_bytes = 4096 * 2;  // enough for the 4096 bytes shown after U+FFFD replacement
  ASSIGN_OR_RETURN(std::unique_ptr<kafka::Inspector> inspector, kafka::Inspector::Create(io));
  return std::unique_ptr<KafkaSource>(new KafkaSource(std::move(options), std::move(inspector)));
}

void KafkaSource::Refresh(double now, SeriesStore* store) {
  std::vector<std::string> missing;
  StatusOr<std::vector<kafka::PartitionWatermarks>> partitions =
      inspector_->Watermarks(options_.topics, &missing);
  if (!partitions.ok()) {
    ok_ = false;
    error_ = partitions.status().ToString();
    return;
  }
  std::vector<ConsumerLag> consumers;
  Status group_error;
  for (const std::string& group : options_.groups) {
    StatusOr<std::vector<kafka::CommittedOffset>> committed =
        inspector_->Committed(group, *partitions);
    if (!committed.ok()) {
      if (group_error.ok()) group_error = committed.status();
      continue;
    }
    int64_t total = 0;
    for (const kafka::PartitionWatermarks& p : *partitions) {
      ConsumerLag c{group, p.topic, p.partition, std::nullopt, p.high - p.low};
      for (const kafka::CommittedOffset& o : *committed) {
        if (o.topic == p.topic && o.partition == p.partition && o.offset) {
          c.committed = o.offset;
          c.lag = std::max<int64_t>(0, p.high - *o.offset);
        }
      }
      total += c.lag;
      consumers.push_back(std::move(c));
    }
    store->Set("kafka.lag|" + group, SeriesKind::kGauge, static_cast<double>(total)).IgnoreError();
  }
  double produced = 0;
  for (const kafka::PartitionWatermarks& p : *partitions) {
    produced += static_cast<double>(p.high);
    store
        ->Set(fmt::format("kafka.hw|{}|{}", p.topic, p.partition), SeriesKind::kCounter,
              static_cast<double>(p.high))
        .IgnoreError();
  }
  store->Set("kafka.produced", SeriesKind::kCounter, produced).IgnoreError();
  partitions_ = std::move(*partitions);
  consumers_ = std::move(consumers);
  missing_ = std::move(missing);
  ok_ = group_error.ok();
  error_ = group_error.ok() ? "" : group_error.ToString();
  if (!missing_.empty() && ok_) {
    std::string list;
    for (const std::string& t : missing_) list += (list.empty() ? "" : ", ") + t;
    error_ = "topics not found: " + list;
  }
  last_ok_ = now;
}

StatusOr<std::vector<kafka::PeekedMessage>> KafkaSource::Peek(const std::string& topic,
                                                              std::optional<int32_t> partition,
                                                              size_t limit) {
  // Fresh watermarks: the refresh's may be an interval old, and the newest messages are asked.
  std::vector<std::string> missing;
  ASSIGN_OR_RETURN(std::vector<kafka::PartitionWatermarks> partitions,
                   inspector_->Watermarks({topic}, &missing));
  if (!missing.empty()) return NotFound(fmt::format("topic {} does not exist", topic));
  std::vector<kafka::PeekedMessage> out;
  bool found = false;
  for (const kafka::PartitionWatermarks& p : partitions) {
    if (partition && p.partition != *partition) continue;
    found = true;
    ASSIGN_OR_RETURN(std::vector<kafka::PeekedMessage> newest, inspector_->Newest(p, limit));
    for (kafka::PeekedMessage& m : newest) out.push_back(std::move(m));
  }
  if (!found) {
    return NotFound(fmt::format("partition: topic {} has {} partition(s), numbered from 0", topic,
                                partitions.size()));
  }
  std::sort(out.begin(), out.end(),
            [](const kafka::PeekedMessage& a, const kafka::PeekedMessage& b) {
              return std::tie(a.timestamp_ms, a.offset, a.partition) >
                     std::tie(b.timestamp_ms, b.offset, b.partition);
            });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace pinpipe::dashboard

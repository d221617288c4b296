// LagGauge: a consumer's lag per partition as a {topic, partition} labeled gauge in the metrics
// registry (the speed layer's pinpipe_stream_lag, the archiver's pinpipe_archive_lag).
//
// A partition's lag is its high watermark as last seen in a fetch (Consumer::CachedHighWatermark,
// no broker round trip) minus the worker's next offset, at least 0; the whole high watermark while
// the worker has no position there yet. Partitions whose high watermark is not known yet are left
// out. Each Update() replaces the previous set. Thread-safety: Update() and Forget() from one
// thread (the consumer's); the registry renders the gauge from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "kafka/consumer.h"
#include "kafka/topic_partition.h"

namespace pinpipe::kafka {

class LagGauge {
 public:
  // Adds the gauge family `name` (labels topic, partition) to `registry`, which must outlive it.
  LagGauge(core::Registry* registry, std::string name, std::string help);

  // `next`: each held partition's next offset to consume (nullopt: nothing consumed yet).
  void Update(const Consumer& consumer,
              const std::map<TopicPartition, std::optional<int64_t>>& next);
  // Takes `partitions` (revoked) out of the gauge now rather than at the next Update().
  void Forget(const std::vector<TopicPartition>& partitions);

  // The lag of one partition by the rule above (-1: high watermark unknown). For tests.
  static int64_t Lag(int64_t high_watermark, std::optional<int64_t> next);

 private:
  void Publish();

  core::GaugeFamily* family_;
  std::map<TopicPartition, int64_t> lag_;
};

}  // namespace pinpipe::kafka

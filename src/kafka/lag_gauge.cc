#include "kafka/lag_gauge.h"

#include <algorithm>
#include <utility>

namespace pinpipe::kafka {

LagGauge::LagGauge(core::Registry* registry, std::string name, std::string help)
    : family_(registry->AddGaugeFamily(std::move(name), std::move(help), {"topic", "partition"})) {}

int64_t LagGauge::Lag(int64_t high_watermark, std::optional<int64_t> next) {
  if (high_watermark < 0) return -1;
  return next ? std::max<int64_t>(high_watermark - *next, 0) : high_watermark;
}

void LagGauge::Update(const Consumer& consumer,
                      const std::map<TopicPartition, std::optional<int64_t>>& next) {
  lag_.clear();
  for (const auto& [key, offset] : next) {
    const int64_t lag = Lag(consumer.CachedHighWatermark(key.topic, key.partition), offset);
    if (lag >= 0) lag_[key] = lag;
  }
  Publish();
}

void LagGauge::Forget(const std::vector<TopicPartition>& partitions) {
  for (const TopicPartition& key : partitions) lag_.erase(key);
  Publish();
}

void LagGauge::Publish() {
  std::vector<core::GaugeFamily::Sample> samples;
  samples.reserve(lag_.size());
  for (const auto& [key, n] : lag_) {
    samples.push_back({{key.topic, std::to_string(key.partition)}, static_cast<double>(n)});
  }
  family_->Replace(std::move(samples));
}

}  // namespace pinpipe::kafka

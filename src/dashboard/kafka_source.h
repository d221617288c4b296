// KafkaSource: what the dashboard reads from Kafka, through kafka::Inspector (no consumer group,
// no commit). Each refresh: the partitions of the pipeline's topics with their watermarks and
// the offsets each of the pipeline's consumer groups committed, recorded as
//   kafka.hw|<topic>|<partition>   high watermark (a counter: its rate is the production rate)
//   kafka.produced                 the sum over the topics
//   kafka.lag|<group>              the group's total lag (gauge)
// A partition a group has not committed yet counts its whole retained log (high - low) as lag:
// the pipeline's consumers start from the earliest offset. On request (not per refresh), the
// newest messages of a topic (Peek).
//
// Thread-safety: the refresher thread only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dashboard/time_series.h"
#include "kafka/inspector.h"

namespace pinpipe::dashboard {

struct KafkaSourceOptions {
  std::string brokers = "127.0.0.1:19092";
  std::vector<std::string> topics;  // pin, geo, user
  std::vector<std::string> groups;  // the speed layer's and the archiver's
  std::chrono::milliseconds timeout{2000};
};

struct ConsumerLag {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  std::optional<int64_t> committed;
  int64_t lag = 0;
};

class KafkaSource {
 public:
  // Errors: InvalidArgument for a bad client configuration.
  static StatusOr<std::unique_ptr<KafkaSource>> Create(KafkaSourceOptions options);

  // Reads the watermarks and committed offsets; records them at the store's current sample.
  // Keeps the last good answer on failure (see ok()/error()).
  void Refresh(double now, SeriesStore* store);

  const std::vector<kafka::PartitionWatermarks>& partitions() const { return partitions_; }
  const std::vector<ConsumerLag>& consumers() const { return consumers_; }
  const std::vector<std::string>& missing_topics() const { return missing_; }
  const std::vector<std::string>& groups() const { return options_.groups; }
  const std::vector<std::string>& topics() const { return options_.topics; }
  bool ok() const { return ok_; }
  bool ever_ok() const { return last_ok_.has_value(); }
  const std::string& error() const { return error_; }
  std::optional<double> last_ok() const { return last_ok_; }

  // The newest `limit` messages of `topic` (one partition, or all), newest first (by timestamp,
  // then offset). Errors: NotFound for a partition the topic does not have; the inspector's.
  StatusOr<std::vector<kafka::PeekedMessage>> Peek(const std::string& topic,
                                                   std::optional<int32_t> partition, size_t limit);

 private:
  KafkaSource(KafkaSourceOptions options, std::unique_ptr<kafka::Inspector> inspector)
      : options_(std::move(options)), inspector_(std::move(inspector)) {}

  KafkaSourceOptions options_;
  std::unique_ptr<kafka::Inspector> inspector_;
  std::vector<kafka::PartitionWatermarks> partitions_;
  std::vector<ConsumerLag> consumers_;
  std::vector<std::string> missing_;
  bool ok_ = false;
  std::string error_ = "not read yet";
  std::optional<double> last_ok_;
};

}  // namespace pinpipe::dashboard

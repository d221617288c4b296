// Topic administration and cluster description over the librdkafka Admin API.
//
// Each call creates a short-lived client, does its work within `timeout` and destroys it; these are
// setup-time operations (`pinpipe topics`, tests), not hot-path ones. Thread-safe (no shared
// state).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pinpipe::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication_factor = 1;
  std::map<std::string, std::string> configs;  // topic configs, e.g. retention.ms
};

struct BrokerInfo {
  int32_t id = -1;
  std::string host;
  int port = 0;
};

struct TopicInfo {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;    // replicas of partition 0
  std::vector<int32_t> leaders;  // per partition: the leading broker's id, -1 for none
  Status error;                  // per-topic metadata error, if any
};

struct ClusterInfo {
  std::string cluster_id;  // empty if the broker did not report one
  int32_t controller_id = -1;
  std::vector<BrokerInfo> brokers;  // sorted by id
  std::vector<TopicInfo> topics;    // sorted by name
};

// Creates the topics that do not exist yet. A topic that already exists is fine if it has exactly
// the requested partition count; otherwise FailedPrecondition says how many it has and that
// partitions must be equal in every topic (keys map to the same partition number everywhere).
// Errors: Unavailable / DeadlineExceeded when no broker answers within `timeout`,
// InvalidArgument for bad specs (replication factor above the broker count, bad config).
Status EnsureTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                    std::chrono::milliseconds timeout);

// Brokers and topics (with partition counts) from cluster metadata.
// Errors: Unavailable when no broker answers within `timeout`.
StatusOr<ClusterInfo> Describe(const std::string& brokers, std::chrono::milliseconds timeout);

// One topic configuration entry as the broker reports it (DescribeConfigs).
struct TopicConfigEntry {
  std::string value;
  bool is_default = true;  // the broker's default, not set on the topic
};

// The topic's configuration (every entry the broker reports, by name).
// Errors: NotFound for an unknown topic, Unavailable / DeadlineExceeded as above.
StatusOr<std::map<std::string, TopicConfigEntry>> DescribeTopicConfigs(
    const std::string& brokers, const std::string& topic, std::chrono::milliseconds timeout);

// Sets `configs` on an existing topic and keeps the other settings made on it. librdkafka 2.0
// has only the non-incremental AlterConfigs, which resets every setting it is not given to the
// broker's default, so the topic's own (non-default) settings are read first and sent along.
// Errors: as DescribeTopicConfigs; InvalidArgument for a value the broker refuses.
Status AlterTopicConfigs(const std::string& brokers, const std::string& topic,
                         const std::map<std::string, std::string>& configs,
                         std::chrono::milliseconds timeout);

// What `pinpipe topics ensure` does to an existing topic's retention.ms: a topic that keeps
// records for less than `min_retention_ms` (and not forever, -1) is raised to it; a longer one is
// left alone. Returns the old value when it was raised, nullopt when nothing changed. A topic
// that a broker of a cluster does not know yet (just created) is asked for again until
// `timeout`, then NotFound. After a raise it returns once the broker's DescribeConfigs shows the
// new value (the controller applies it a moment later: a command run right after, such as
// `emulate --history` checking the retention, must see it), DeadlineExceeded if not by `timeout`.
StatusOr<std::optional<int64_t>> EnsureMinRetention(const std::string& brokers,
                                                    const std::string& topic,
                                                    int64_t min_retention_ms,
                                                    std::chrono::milliseconds timeout);

// A consumer group's position in one partition (what lag tools show).
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;       // the group's committed offset; -1: none
  int64_t high_watermark = -1;  // the partition's end
  int64_t lag = -1;             // high_watermark - committed (all of it when nothing committed)
};

// The committed offsets of `group` in every partition of `topics` and the partitions' high
// watermarks (OffsetFetch + ListOffsets; the group is not joined). Topics that do not exist are
// left out. Errors: Unavailable / DeadlineExceeded when the cluster does not answer in time.
StatusOr<std::vector<PartitionLag>> GroupLag(const std::string& brokers, const std::string& group,
                                             const std::vector<std::string>& topics,
                                             std::chrono::milliseconds timeout);

}  // namespace pinpipe::kafka

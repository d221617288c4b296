// Topic administration and cluster description over the librdkafka Admin API.
//
// Each call creates a short-lived client, does its work within `timeout` and destroys it; these are
// setup-time operations (`pinpipe topics`, tests), not hot-path ones. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
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
  int replication_factor = 0;  // replicas of partition 0
  Status error;                // per-topic metadata error, if any
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

}  // namespace pinpipe::kafka

#include "kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "kafka/client_config.h"
#include "kafka/client_properties.h"
#include "kafka/errors.h"
#include "kafka/handles.h"

namespace pinpipe::kafka {
namespace {

StatusOr<KafkaHandle> NewAdminClient(const std::string& brokers) {
  ASSIGN_OR_RETURN(ConfHandle conf, NewConf(brokers, "pinpipe-admin"));
  RETURN_IF_ERROR(ApplyClientProperties(conf.get()));
  return NewClient(RD_KAFKA_PRODUCER, std::move(conf));
}

StatusOr<ClusterInfo> DescribeWith(rd_kafka_t* rk, const std::string& brokers,
                                   std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, TimeoutMs(timeout));
  MetadataHandle metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable(fmt::format("no kafka broker at {} answered within {} ms: {} ({})", brokers,
                                   timeout.count(), rd_kafka_err2str(err), rd_kafka_err2name(err)));
  }
  ClusterInfo info;
  for (int i = 0; i < metadata->broker_cnt; ++i) {
    const rd_kafka_metadata_broker& b = metadata->brokers[i];
    info.brokers.push_back({b.id, b.host != nullptr ? b.host : "", b.port});
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic& t = metadata->topics[i];
    TopicInfo topic;
    topic.name = t.topic;
    topic.partitions = t.partition_cnt;
    topic.replication_factor = t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0;
    topic.leaders.assign(static_cast<size_t>(std::max(t.partition_cnt, 0)), -1);
    for (int p = 0; p < t.partition_cnt; ++p) {
      const int32_t id = t.partitions[p].id;
      if (id >= 0 && id < t.partition_cnt)
        topic.leaders[static_cast<size_t>(id)] = t.partitions[p].leader;
    }
    topic.error = KafkaError(t.err, fmt::format("topic '{}'", t.topic));
    info.topics.push_back(std::move(topic));
  }
  std::sort(info.brokers.begin(), info.brokers.end(),
            [](const BrokerInfo& a, const BrokerInfo& b) { return a.id < b.id; });
  std::sort(info.topics.begin(), info.topics.end(),
            [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
  if (char* id = rd_kafka_clusterid(rk, 0); id != nullptr) {
    info.cluster_id = id;
    rd_kafka_mem_free(rk, id);
  }
  info.controller_id = rd_kafka_controllerid(rk, 0);
  return info;
}

// FailedPrecondition unless an existing topic has the requested partition count.
Status CheckExisting(const TopicInfo& existing, const TopicSpec& spec) {
  if (!existing.error.ok()) return existing.error;
  if (existing.partitions == spec.partitions) return Status::Ok();
  if (existing.partitions < spec.partitions) {
    return FailedPrecondition(fmt::format(
        "topic '{}' already exists with only {} partitions, {} requested; add partitions with "
        "kafka-topics.sh --alter --topic {} --partitions {} (note: this remaps keys), or recreate "
        "it",
        spec.name, existing.partitions, spec.partitions, spec.name, spec.partitions));
  }
  return FailedPrecondition(fmt::format(
      "topic '{}' already exists with {} partitions, more than the {} requested; every pinpipe "
      "topic needs the same partition count so that a key maps to the same partition number in "
      "all of them: pass --partitions {}",
      spec.name, existing.partitions, spec.partitions, existing.partitions));
}

// Joins several failures into one Status with the first failure's code.
Status Combine(const std::vector<Status>& errors) {
  if (errors.empty()) return Status::Ok();
  std::string message;
  for (const Status& e : errors) {
    if (!message.empty()) message += "; ";
    message += e.message();
  }
  return Status(errors.front().code(), message);
}

}  // namespace

StatusOr<ClusterInfo> Describe(const std::string& brokers, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(KafkaHandle rk, NewAdminClient(brokers));
  return DescribeWith(rk.get(), brokers, timeout);
}

Status EnsureTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                    std::chrono::milliseconds timeout) {
  std::set<std::string> names;
  for (const TopicSpec& spec : topics) {
    if (spec.name.empty()) return InvalidArgument("topic name is empty");
    if (spec.partitions < 1 || spec.replication_factor < 1) {
      return InvalidArgument(
          fmt::format("topic '{}': partitions and replication factor must be "
                      ">= 1 (got {} and {})",
                      spec.name, spec.partitions, spec.replication_factor));
    }
    if (!names.insert(spec.name).second) {
      return InvalidArgument(fmt::format("topic '{}' listed twice", spec.name));
    }
  }
  ASSIGN_OR_RETURN(KafkaHandle rk, NewAdminClient(brokers));
  ASSIGN_OR_RETURN(ClusterInfo cluster, DescribeWith(rk.get(), brokers, timeout));

  std::vector<Status> errors;
  std::vector<NewTopicHandle> to_create;
  std::vector<const TopicSpec*> to_create_specs;
  for (const TopicSpec& spec : topics) {
    auto it = std::find_if(cluster.topics.begin(), cluster.topics.end(),
                           [&](const TopicInfo& t) { return t.name == spec.name; });
    if (it != cluster.topics.end() && it->error.ok()) {
      Status s = CheckExisting(*it, spec);
      if (!s.ok()) errors.push_back(s);
      continue;
    }
    char errstr[512];
    NewTopicHandle new_topic(rd_kafka_NewTopic_new(
        spec.name.c_str(), spec.partitions, spec.replication_factor, errstr, sizeof(errstr)));
    if (new_topic == nullptr) {
      return InvalidArgument(fmt::format("topic '{}': {}", spec.name, errstr));
    }
    for (const auto& [key, value] : spec.configs) {
      RETURN_IF_ERROR(
          KafkaError(rd_kafka_NewTopic_set_config(new_topic.get(), key.c_str(), value.c_str()),
                     fmt::format("topic '{}' config {}={}", spec.name, key, value)));
    }
    to_create.push_back(std::move(new_topic));
    to_create_specs.push_back(&spec);
  }
  if (to_create.empty()) return Combine(errors);

  QueueHandle queue(rd_kafka_queue_new(rk.get()));
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  char errstr[512];
  RETURN_IF_ERROR(KafkaError(rd_kafka_AdminOptions_set_request_timeout(
                                 options.get(), TimeoutMs(timeout), errstr, sizeof(errstr)),
                             "admin request timeout", errstr));
  RETURN_IF_ERROR(KafkaError(rd_kafka_AdminOptions_set_operation_timeout(
                                 options.get(), TimeoutMs(timeout), errstr, sizeof(errstr)),
                             "admin operation timeout", errstr));
  std::vector<rd_kafka_NewTopic_t*> raw_topics;
  for (auto& t : to_create) raw_topics.push_back(t.get());
  rd_kafka_CreateTopics(rk.get(), raw_topics.data(), raw_topics.size(), options.get(), queue.get());
  // The admin request has its own timeout; the margin covers the result's trip to the queue.
  EventHandle event(rd_kafka_queue_poll(queue.get(), TimeoutMs(timeout) + 2000));
  if (event == nullptr) {
    return DeadlineExceeded(
        fmt::format("creating topics: no answer from {} within {} ms", brokers, timeout.count()));
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(rd_kafka_event_error(event.get()), "creating topics",
                      rd_kafka_event_error_string(event.get()));
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  bool raced = false;
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      raced = true;  // created by someone else since we looked: check it below
      continue;
    }
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    const char* name = rd_kafka_topic_result_name(results[i]);
    Status s = KafkaError(err, fmt::format("creating topic '{}'", name),
                          detail != nullptr ? detail : rd_kafka_err2str(err));
    if (!s.ok()) {
      errors.push_back(s);
      std::erase_if(to_create_specs, [&](const TopicSpec* spec) { return spec->name == name; });
    }
  }
  // Metadata lags topic creation a little (KRaft propagates it asynchronously): wait until every
  // topic is visible, so callers can produce at once, and so that a topic someone else created
  // meanwhile (TOPIC_ALREADY_EXISTS) is checked like the others.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    ASSIGN_OR_RETURN(ClusterInfo now, DescribeWith(rk.get(), brokers, timeout));
    std::vector<Status> checks;
    bool all_visible = true;
    for (const TopicSpec* spec : to_create_specs) {
      auto it = std::find_if(now.topics.begin(), now.topics.end(), [&](const TopicInfo& t) {
        return t.name == spec->name && t.error.ok() && t.partitions > 0;
      });
      if (it == now.topics.end()) {
        all_visible = false;
        continue;
      }
      if (raced) {
        Status s = CheckExisting(*it, *spec);
        if (!s.ok()) checks.push_back(s);
      }
    }
    if (all_visible) {
      errors.insert(errors.end(), checks.begin(), checks.end());
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      errors.push_back(DeadlineExceeded(
          fmt::format("created topics do not show up in the metadata of {} within {} ms", brokers,
                      timeout.count())));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Combine(errors);
}

namespace {

// Options for one admin request of `op` with `timeout`.
StatusOr<AdminOptionsHandle> AdminOptionsFor(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                             std::chrono::milliseconds timeout) {
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(rk, op));
  char errstr[512];
  RETURN_IF_ERROR(KafkaError(rd_kafka_AdminOptions_set_request_timeout(
                                 options.get(), TimeoutMs(timeout), errstr, sizeof(errstr)),
                             "admin request timeout", errstr));
  return options;
}

// Waits for the answer of an admin request sent to `queue`.
StatusOr<EventHandle> AwaitAdminResult(rd_kafka_queue_t* queue, const std::string& what,
                                       const std::string& brokers,
                                       std::chrono::milliseconds timeout) {
  EventHandle event(rd_kafka_queue_poll(queue, TimeoutMs(timeout) + 2000));
  if (event == nullptr) {
    return DeadlineExceeded(
        fmt::format("{}: no answer from {} within {} ms", what, brokers, timeout.count()));
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(rd_kafka_event_error(event.get()), what,
                      rd_kafka_event_error_string(event.get()));
  }
  return event;
}

StatusOr<std::map<std::string, TopicConfigEntry>> DescribeTopicConfigsWith(
    rd_kafka_t* rk, const std::string& brokers, const std::string& topic,
    std::chrono::milliseconds timeout) {
  const std::string what = fmt::format("describing the configuration of topic '{}'", topic);
  ConfigResourceHandle resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  ASSIGN_OR_RETURN(AdminOptionsHandle options,
                   AdminOptionsFor(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout));
  QueueHandle queue(rd_kafka_queue_new(rk));
  rd_kafka_ConfigResource_t* raw = resource.get();
  rd_kafka_DescribeConfigs(rk, &raw, 1, options.get(), queue.get());
  ASSIGN_OR_RETURN(EventHandle event, AwaitAdminResult(queue.get(), what, brokers, timeout));
  const rd_kafka_DescribeConfigs_result_t* result =
      rd_kafka_event_DescribeConfigs_result(event.get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_DescribeConfigs_result_resources(result, &count);
  if (count != 1) return Internal(fmt::format("{}: {} resources in the answer", what, count));
  const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[0]);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return NotFound(fmt::format("topic '{}' does not exist on {}", topic, brokers));
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* detail = rd_kafka_ConfigResource_error_string(resources[0]);
    return KafkaError(err, what, detail != nullptr ? detail : rd_kafka_err2str(err));
  }
  std::map<std::string, TopicConfigEntry> out;
  size_t entries = 0;
  const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(resources[0], &entries);
  for (size_t i = 0; i < entries; ++i) {
    const char* value = rd_kafka_ConfigEntry_value(configs[i]);
    TopicConfigEntry entry;
    entry.value = value != nullptr ? value : "";
    entry.is_default =
        rd_kafka_ConfigEntry_source(configs[i]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
    out[rd_kafka_ConfigEntry_name(configs[i])] = std::move(entry);
  }
  return out;
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

StatusOr<std::map<std::string, TopicConfigEntry>> DescribeTopicConfigs(
    const std::string& brokers, const std::string& topic, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(KafkaHandle rk, NewAdminClient(brokers));
  return DescribeTopicConfigsWith(rk.get(), brokers, topic, timeout);
}

Status AlterTopicConfigs(const std::string& brokers, const std::string& topic,
                         const std::map<std::string, std::string>& configs,
                         std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(KafkaHandle rk, NewAdminClient(brokers));
  ASSIGN_OR_RETURN(auto current, DescribeTopicConfigsWith(rk.get(), brokers, topic, timeout));
  std::map<std::string, std::string> all;
  for (const auto& [name, entry] : current) {
    if (!entry.is_default) all[name] = entry.value;
  }
  for (const auto& [name, value] : configs) all[name] = value;
  const std::string what = fmt::format("altering the configuration of topic '{}'", topic);
  ConfigResourceHandle resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  for (const auto& [name, value] : all) {
    RETURN_IF_ERROR(
        KafkaError(rd_kafka_ConfigResource_set_config(resource.get(), name.c_str(), value.c_str()),
                   fmt::format("{}: {}={}", what, name, value)));
  }
  ASSIGN_OR_RETURN(AdminOptionsHandle options,
                   AdminOptionsFor(rk.get(), RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout));
  QueueHandle queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_ConfigResource_t* raw = resource.get();
  rd_kafka_AlterConfigs(rk.get(), &raw, 1, options.get(), queue.get());
  ASSIGN_OR_RETURN(EventHandle event, AwaitAdminResult(queue.get(), what, brokers, timeout));
  const rd_kafka_AlterConfigs_result_t* result = rd_kafka_event_AlterConfigs_result(event.get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_AlterConfigs_result_resources(result, &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* detail = rd_kafka_ConfigResource_error_string(resources[i]);
      return KafkaError(err, what, detail != nullptr ? detail : rd_kafka_err2str(err));
    }
  }
  return Status::Ok();
}

StatusOr<std::optional<int64_t>> EnsureMinRetention(const std::string& brokers,
                                                    const std::string& topic,
                                                    int64_t min_retention_ms,
                                                    std::chrono::milliseconds timeout) {
  // On a cluster, a topic EnsureTopics just saw in one broker's metadata can still be unknown to
  // the broker that answers DescribeConfigs: ask again until `timeout`.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  StatusOr<std::map<std::string, TopicConfigEntry>> described =
      DescribeTopicConfigs(brokers, topic, timeout);
  while (!described.ok() && described.status().code() == StatusCode::kNotFound &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    described = DescribeTopicConfigs(brokers, topic, timeout);
  }
  ASSIGN_OR_RETURN(auto configs, std::move(described));
  auto it = configs.find("retention.ms");
  if (it == configs.end()) {
    return FailedPrecondition(fmt::format("topic '{}': the broker reports no retention.ms", topic));
  }
  std::optional<int64_t> current = ParseInt64(it->second.value);
  if (!current) {
    return Internal(
        fmt::format("topic '{}': retention.ms '{}' is not a number", topic, it->second.value));
  }
  if (*current < 0 || *current >= min_retention_ms) return std::optional<int64_t>();
  RETURN_IF_ERROR(AlterTopicConfigs(brokers, topic,
                                    {{"retention.ms", std::to_string(min_retention_ms)}}, timeout));
  // Visible to the next reader: the broker answering DescribeConfigs shows the new value.
  while (true) {
    StatusOr<std::map<std::string, TopicConfigEntry>> now =
        DescribeTopicConfigs(brokers, topic, timeout);
    if (now.ok()) {
      auto at = now->find("retention.ms");
      if (at != now->end() && at->second.value == std::to_string(min_retention_ms)) break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded(fmt::format(
          "topic '{}': retention.ms was raised to {} but the broker still shows the old value "
          "after {} ms",
          topic, min_retention_ms, timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::optional<int64_t>(*current);
}

StatusOr<std::vector<PartitionLag>> GroupLag(const std::string& brokers, const std::string& group,
                                             const std::vector<std::string>& topics,
                                             std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(ConfHandle conf, NewConf(brokers, "pinpipe-status"));
  char errstr[512];
  if (rd_kafka_conf_set(conf.get(), "group.id", group.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return InvalidArgument(fmt::format("group.id '{}': {}", group, errstr));
  }
  // Never commits: this client only reads the group's offsets (it does not join the group).
  rd_kafka_conf_set(conf.get(), "enable.auto.commit", "false", errstr, sizeof(errstr));
  RETURN_IF_ERROR(ApplyClientProperties(conf.get()));
  ASSIGN_OR_RETURN(KafkaHandle rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  ASSIGN_OR_RETURN(ClusterInfo cluster, DescribeWith(rk.get(), brokers, timeout));
  PartitionListHandle list(rd_kafka_topic_partition_list_new(16));
  for (const std::string& topic : topics) {
    auto it = std::find_if(cluster.topics.begin(), cluster.topics.end(),
                           [&](const TopicInfo& t) { return t.name == topic && t.error.ok(); });
    if (it == cluster.topics.end()) continue;
    for (int p = 0; p < it->partitions; ++p) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
    }
  }
  std::vector<PartitionLag> out;
  if (list->cnt == 0) {
    rd_kafka_consumer_close(rk.get());
    return out;
  }
  const rd_kafka_resp_err_t err = rd_kafka_committed(rk.get(), list.get(), TimeoutMs(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_consumer_close(rk.get());
    return KafkaError(err, fmt::format("committed offsets of group '{}'", group));
  }
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    PartitionLag lag;
    lag.topic = tp.topic;
    lag.partition = tp.partition;
    lag.committed = tp.offset >= 0 ? tp.offset : -1;
    int64_t low = 0;
    int64_t high = 0;
    const rd_kafka_resp_err_t werr = rd_kafka_query_watermark_offsets(
        rk.get(), tp.topic, tp.partition, &low, &high, TimeoutMs(timeout));
    if (werr != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_consumer_close(rk.get());
      return KafkaError(werr, fmt::format("high watermark of {}/{}", tp.topic, tp.partition));
    }
    lag.high_watermark = high;
    lag.lag = high - (lag.committed >= 0 ? lag.committed : low);
    out.push_back(std::move(lag));
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace pinpipe::kafka

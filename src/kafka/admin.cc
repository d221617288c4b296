#include "kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "kafka/client_config.h"
#include "kafka/errors.h"
#include "kafka/handles.h"

namespace pinpipe::kafka {
namespace {

int ToMillis(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<int64_t>(d.count(), 0, 24LL * 3600 * 1000));
}

StatusOr<KafkaHandle> NewAdminClient(const std::string& brokers) {
  ASSIGN_OR_RETURN(ConfHandle conf, NewConf(brokers, "pinpipe-admin"));
  return NewClient(RD_KAFKA_PRODUCER, std::move(conf));
}

StatusOr<ClusterInfo> DescribeWith(rd_kafka_t* rk, const std::string& brokers,
                                   std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, ToMillis(timeout));
  MetadataHandle metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable(fmt::format("no kafka broker at {} answered within {} ms: {} ({})",
                                   brokers, timeout.count(), rd_kafka_err2str(err),
                                   rd_kafka_err2name(err)));
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
      return InvalidArgument(fmt::format("topic '{}': partitions and replication factor must be "
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
    NewTopicHandle new_topic(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                                   spec.replication_factor, errstr,
                                                   sizeof(errstr)));
    if (new_topic == nullptr) {
      return InvalidArgument(fmt::format("topic '{}': {}", spec.name, errstr));
    }
    for (const auto& [key, value] : spec.configs) {
      RETURN_IF_ERROR(KafkaError(
          rd_kafka_NewTopic_set_config(new_topic.get(), key.c_str(), value.c_str()),
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
                                 options.get(), ToMillis(timeout), errstr, sizeof(errstr)),
                             "admin request timeout", errstr));
  RETURN_IF_ERROR(KafkaError(rd_kafka_AdminOptions_set_operation_timeout(
                                 options.get(), ToMillis(timeout), errstr, sizeof(errstr)),
                             "admin operation timeout", errstr));
  std::vector<rd_kafka_NewTopic_t*> raw_topics;
  for (auto& t : to_create) raw_topics.push_back(t.get());
  rd_kafka_CreateTopics(rk.get(), raw_topics.data(), raw_topics.size(), options.get(),
                        queue.get());
  // The admin request has its own timeout; the margin covers the result's trip to the queue.
  EventHandle event(rd_kafka_queue_poll(queue.get(), ToMillis(timeout) + 2000));
  if (event == nullptr) {
    return DeadlineExceeded(fmt::format("creating topics: no answer from {} within {} ms",
                                        brokers, timeout.count()));
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
      errors.push_back(DeadlineExceeded(fmt::format(
          "created topics do not show up in the metadata of {} within {} ms", brokers,
          timeout.count())));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Combine(errors);
}

}  // namespace pinpipe::kafka

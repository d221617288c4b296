// `pinpipe topics ensure|describe`: creates the pipeline's Kafka topics / shows the cluster.
//
// Exit codes: 0 ok, 1 error (message on stderr), 2 usage (CLI11).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "command.h"
#include "core/duration.h"
#include "core/record_schema.h"
#include "kafka/admin.h"
#include "kafka_flags.h"
#include "log/logger.h"
#include "topic_flags.h"

namespace pinpipe::app {
namespace {

const log::Logger kTopicsLog("topics");

struct TopicsFlags {
  KafkaClientFlags kafka;  // --kafka-option, --kafka-config
  std::string brokers = "127.0.0.1:19092";
  std::string topic_pin = core::DefaultTopic(core::RecordKind::kPin);
  std::string topic_geo = core::DefaultTopic(core::RecordKind::kGeo);
  std::string topic_user = core::DefaultTopic(core::RecordKind::kUser);
  int partitions = 3;
  int replication_factor = 1;
  int timeout_ms = 15000;
  std::string retention = "14d";
};

// --retention: the duration, or 0 for the broker's default (retention.ms is then not set).
StatusOr<int64_t> RetentionMs(const std::string& text) {
  if (text == "0") return int64_t{0};
  ASSIGN_OR_RETURN(std::chrono::seconds d, core::ParseDuration(text));
  if (d.count() <= 0) return InvalidArgument("--retention must be positive (or 0)");
  return static_cast<int64_t>(d.count()) * 1000;
}

int RunEnsure(const TopicsFlags& flags) {
  StatusOr<int64_t> retention_ms = RetentionMs(flags.retention);
  if (!retention_ms.ok()) {
    kTopicsLog.Error("ensure: {}", retention_ms.status().ToString());
    return 2;
  }
  const auto timeout = std::chrono::milliseconds(flags.timeout_ms);
  std::vector<kafka::TopicSpec> specs;
  for (const std::string& name : {flags.topic_pin, flags.topic_geo, flags.topic_user}) {
    kafka::TopicSpec spec{name, flags.partitions, flags.replication_factor, {}};
    if (*retention_ms > 0) spec.configs["retention.ms"] = std::to_string(*retention_ms);
    specs.push_back(std::move(spec));
  }
  Status s = kafka::EnsureTopics(flags.brokers, specs, timeout);
  if (!s.ok()) {
    kTopicsLog.Error("ensure: {}", s.ToString());
    return 1;
  }
  for (const auto& spec : specs) {
    std::string retention = "broker default retention";
    if (*retention_ms > 0) {
      // A topic that existed before may keep records for less: raise it (never lower it).
      auto raised = kafka::EnsureMinRetention(flags.brokers, spec.name, *retention_ms, timeout);
      if (!raised.ok()) {
        kTopicsLog.Error("ensure: {}", raised.status().ToString());
        return 1;
      }
      retention = raised->has_value()
                      ? fmt::format("retention.ms raised from {} to {}", **raised, *retention_ms)
                      : fmt::format("retention at least {}", flags.retention);
    }
    std::cout << fmt::format("topic {} ok ({} partitions, replication factor {}, {})\n", spec.name,
                             spec.partitions, spec.replication_factor, retention);
  }
  return 0;
}

int RunDescribe(const TopicsFlags& flags) {
  auto info = kafka::Describe(flags.brokers, std::chrono::milliseconds(flags.timeout_ms));
  if (!info.ok()) {
    kTopicsLog.Error("describe: {}", info.status().ToString());
    return 1;
  }
  std::cout << fmt::format("cluster {} (controller {})\n",
                           info->cluster_id.empty() ? "?" : info->cluster_id, info->controller_id);
  std::cout << fmt::format("brokers ({}):\n", info->brokers.size());
  for (const auto& b : info->brokers) {
    std::cout << fmt::format("  {:>4}  {}:{}\n", b.id, b.host, b.port);
  }
  std::cout << fmt::format("topics ({}):\n", info->topics.size());
  const std::vector<std::string> pipeline = {flags.topic_pin, flags.topic_geo, flags.topic_user};
  for (const auto& t : info->topics) {
    bool ours = std::find(pipeline.begin(), pipeline.end(), t.name) != pipeline.end();
    std::cout << fmt::format("  {:<40} partitions={:<3} replication={}{}{}\n", t.name, t.partitions,
                             t.replication_factor, ours ? "  (pipeline)" : "",
                             t.error.ok() ? "" : "  error: " + t.error.ToString());
  }
  for (const std::string& name : pipeline) {
    bool found = std::any_of(info->topics.begin(), info->topics.end(),
                             [&](const kafka::TopicInfo& t) { return t.name == name; });
    if (!found) {
      std::cout << fmt::format("missing pipeline topic {} (run `pinpipe topics ensure`)\n", name);
    }
  }
  return 0;
}

CommandRegistration kTopics(
    "topics", "Create (ensure) or describe the pipeline's Kafka topics", [](CLI::App& sub) {
      auto flags = std::make_shared<TopicsFlags>();  // shared: outlives setup, used by run
      sub.require_subcommand(1);
      sub.add_option("--kafka-brokers", flags->brokers, "Kafka bootstrap servers")
          ->envname("PINPIPE_KAFKA_BROKERS")
          ->capture_default_str();
      AddKafkaClientFlags(sub, &flags->kafka);
      AddTopicFlags(sub, {&flags->topic_pin, &flags->topic_geo, &flags->topic_user},
                    "Topic for {} records");
      sub.add_option("--partitions", flags->partitions,
                     "Partitions per topic (the same for all, so keys line up)")
          ->envname("PINPIPE_PARTITIONS")
          ->check(CLI::Range(1, 10000))
          ->capture_default_str();
      sub.add_option("--replication-factor", flags->replication_factor, "Replicas per partition")
          ->envname("PINPIPE_REPLICATION_FACTOR")
          ->check(CLI::Range(1, 100))
          ->capture_default_str();
      sub.add_option("--timeout-ms", flags->timeout_ms, "Timeout for broker requests")
          ->envname("PINPIPE_KAFKA_TIMEOUT_MS")
          ->check(CLI::Range(1, 3600000))
          ->capture_default_str();
      sub.add_option("--retention", flags->retention,
                     "ensure: keep records at least this long (retention.ms of new topics; an "
                     "existing topic that keeps them for less is raised, never lowered); 0 = the "
                     "broker's default. Back-dated history (`pinpipe emulate --history`) falls "
                     "under retention by its own timestamps, so this must exceed its span")
          ->envname("PINPIPE_TOPICS_RETENTION")
          ->capture_default_str();
      CLI::App* ensure = sub.add_subcommand(
          "ensure", "Create the pin/geo/user topics if missing; check existing partition counts");
      CLI::App* describe = sub.add_subcommand("describe", "Show brokers and topics");
      ensure->fallthrough();
      describe->fallthrough();
      return CommandRunner([flags, ensure, describe] {
        return RunWithKafkaClientFlags(flags->kafka, "topics", [&] {
          if (ensure->parsed()) return RunEnsure(*flags);
          if (describe->parsed()) return RunDescribe(*flags);
          return 2;
        });
      });
    });

}  // namespace
}  // namespace pinpipe::app

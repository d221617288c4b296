// `pinpipe stream`: the speed layer (Kafka -> transform -> PostgreSQL, exactly once).
#include <iostream>

#include "command.h"
#include "core/metrics.h"
#include "event_time_flags.h"
#include "kafka_flags.h"
#include "log/logger.h"
#include "stream/stream_worker.h"
#include "topic_flags.h"
#include "transform/transform.h"
#include "worker_process.h"

namespace pinpipe::app {
namespace {

struct StreamFlags {
  KafkaClientFlags kafka;  // --kafka-option, --kafka-config
  stream::StreamOptions options;
  std::string transform_file;
  uint16_t metrics_port = 0;
  std::string metrics_host = "127.0.0.1";
  int chunk_max_records = 20000;
  int chunk_max_ms = 25;
  std::string dedup = "direct";
  std::string instance_id;
  int session_timeout_ms = 10000;
};

int RunStream(StreamFlags f) {
  // First, before any thread (librdkafka's, the HTTP server's) exists: they inherit its mask.
  StopSignals signals("stream", "finishing the current chunk");

  std::shared_ptr<const transform::Transform> transform = transform::Transform::Default();
  if (!f.transform_file.empty()) {
    auto loaded = transform::Transform::FromFile(f.transform_file);
    if (!loaded.ok()) {
      log::Logger("stream").Error("{}", loaded.status().ToString());
      return 2;
    }
    transform = *loaded;
  }
  f.options.limits.max_records = static_cast<size_t>(f.chunk_max_records);
  f.options.limits.max_age = std::chrono::milliseconds(f.chunk_max_ms);
  f.options.kafka_extra["session.timeout.ms"] = std::to_string(f.session_timeout_ms);
  f.options.kafka_extra["heartbeat.interval.ms"] =
      std::to_string(std::max(f.session_timeout_ms / 5, 100));
  if (!f.instance_id.empty()) f.options.kafka_extra["group.instance.id"] = f.instance_id;
  f.options.dedup_mode =
      f.dedup == "staging" ? stream::DedupMode::kStaging : stream::DedupMode::kDirectFirst;

  core::Registry registry;
  stream::StreamWorker worker(f.options, transform, &registry);

  WorkerProcess process;
  process.name = "stream";
  process.metrics_host = f.metrics_host;
  process.metrics_port = f.metrics_port;
  process.render_metrics = [&registry] { return registry.Render(); };
  return RunWorkerProcess(process, signals,
                          [&worker](std::stop_token stop) { return worker.Run(stop); });
}

CommandRegistration kStream(
    "stream",
    "Run the speed layer: consume the topics, clean the records, write them to PostgreSQL exactly "
    "once",
    [](CLI::App& sub) {
      auto f = std::make_shared<StreamFlags>();
      stream::StreamOptions& o = f->options;
      sub.add_option("--kafka-brokers", o.brokers, "Kafka bootstrap servers (host:port,...)")
          ->envname("PINPIPE_KAFKA_BROKERS")
          ->capture_default_str();
      AddKafkaClientFlags(sub, &f->kafka);
      AddTopicFlags(sub, {&o.topics[0], &o.topics[1], &o.topics[2]});
      sub.add_option("--pg-dsn", o.pg_dsn,
                     "PostgreSQL conninfo of the streaming database (created if missing)")
          ->envname("PINPIPE_STREAM_PG_DSN")
          ->capture_default_str();
      sub.add_option("--group", o.group,
                     "Kafka consumer group (and the key of the offsets in PostgreSQL)")
          ->envname("PINPIPE_STREAM_GROUP")
          ->capture_default_str();
      sub.add_option("--chunk-max-records,--batch-max-records", f->chunk_max_records,
                     "Cut a chunk (one transaction per writer lane) at this many records; "
                     "--batch-max-records: the old spelling")
          ->envname("PINPIPE_STREAM_BATCH_MAX_RECORDS")
          ->check(CLI::Range(1, 1000000))
          ->capture_default_str();
      sub.add_option(
             "--chunk-max-ms,--batch-max-ms", f->chunk_max_ms,
             "Cut a chunk this long after its first record; --batch-max-ms: the old spelling")
          ->envname("PINPIPE_STREAM_BATCH_MAX_MS")
          ->check(CLI::Range(1, 60000))
          ->capture_default_str();
      sub.add_option("--writers", o.writers,
                     "Writer lanes: PostgreSQL connections writing in parallel, partitions spread "
                     "over them by partition number (each lane commits its partitions' rows and "
                     "offsets in its own transaction)")
          ->envname("PINPIPE_STREAM_WRITERS")
          ->check(CLI::Range(1, 64))
          ->capture_default_str();
      sub.add_option(
             "--dedup", f->dedup,
             "Pin dedup path: direct (COPY, staging only after a conflict) or staging (always)")
          ->envname("PINPIPE_STREAM_DEDUP")
          ->check(CLI::IsMember({"direct", "staging"}))
          ->capture_default_str();
      sub.add_option("--instance-id", f->instance_id,
                     "Static group membership id (group.instance.id): a restarted worker with the "
                     "same id takes its partitions back without a rebalance")
          ->envname("PINPIPE_STREAM_INSTANCE_ID");
      sub.add_option(
             "--session-timeout-ms", f->session_timeout_ms,
             "After this long without heartbeats a dead worker's partitions go to the others")
          ->envname("PINPIPE_STREAM_SESSION_TIMEOUT_MS")
          ->check(CLI::Range(1000, 300000))
          ->capture_default_str();
      AddEventTimeFlags(sub, &o.event_time);
      sub.add_option("--transform-file", f->transform_file,
                     "Transform rules (TOML); default: the built-in transforms/pinterest.toml")
          ->envname("PINPIPE_TRANSFORM_FILE");
      sub.add_option("--metrics-port", f->metrics_port,
                     "Serve GET /metrics and /healthz on this port (0 = off)")
          ->envname("PINPIPE_STREAM_METRICS_PORT")
          ->capture_default_str();
      sub.add_option("--metrics-host", f->metrics_host, "Address of the metrics server")
          ->envname("PINPIPE_STREAM_METRICS_HOST")
          ->capture_default_str();
      return CommandRunner([f] {
        return RunWithKafkaClientFlags(f->kafka, "stream", [f] { return RunStream(*f); });
      });
    });

}  // namespace
}  // namespace pinpipe::app

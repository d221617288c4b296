// `pinpipe archive`: the archiver (Kafka -> the lake as zstd JSONL by event date and hour,
// exactly once, offsets kept in the lake).
#include <iostream>

#include "archive/archiver.h"
#include "command.h"
#include "core/metrics.h"
#include "event_time_flags.h"
#include "kafka_flags.h"
#include "lake/object_store.h"
#include "s3_flags.h"
#include "topic_flags.h"
#include "worker_process.h"

namespace pinpipe::app {
namespace {

struct ArchiveFlags {
  KafkaClientFlags kafka;  // --kafka-option, --kafka-config
  archive::ArchiverOptions options;
  std::string lake = ".pinpipe/lake";
  std::string layout = "hourly";
  std::string codec = "zstd";
  int64_t rotate_records = 100000;
  int64_t rotate_bytes = 64LL << 20;
  int64_t rotate_idle_ms = 30000;
  int64_t rotate_max_age_ms = 300000;
  int64_t rotate_max_hours = 24;
  int64_t frame_bytes = 1 << 20;
  int64_t lateness_ms = 3600LL * 1000;
  int64_t watermark_idle_ms = 60000;
  int64_t stop_timeout_ms = 30000;
  bool seal = true;
  S3Flags s3;
  uint16_t metrics_port = 0;
  std::string metrics_host = "127.0.0.1";
  std::string instance_id;
  int session_timeout_ms = 10000;
};

int FailArchive(const std::string& message) { return CommandError("archive", message, 2); }

int RunArchive(ArchiveFlags f) {
  // First, before any thread (librdkafka's, the HTTP server's) exists: they inherit its mask.
  StopSignals signals("archive", "writing the open segments");

  archive::ArchiverOptions& o = f.options;
  auto layout = archive::ParseLayout(f.layout);
  if (!layout) return FailArchive("--layout must be hourly or original");
  o.layout = *layout;
  auto codec = archive::ParseCodec(f.codec);
  if (!codec) return FailArchive("--codec must be zstd or gzip");
  o.codec = *codec;
  o.rotation.max_records = f.rotate_records;
  o.rotation.max_bytes = f.rotate_bytes;
  o.rotation.idle = std::chrono::milliseconds(f.rotate_idle_ms);
  o.rotation.max_age = std::chrono::milliseconds(f.rotate_max_age_ms);
  o.rotation.max_hours = static_cast<size_t>(f.rotate_max_hours);
  o.frame_bytes = f.frame_bytes;
  o.lateness = std::chrono::milliseconds(f.lateness_ms);
  o.watermark_idle = std::chrono::milliseconds(f.watermark_idle_ms);
  o.stop_timeout = std::chrono::milliseconds(f.stop_timeout_ms);
  o.seal = f.seal;
  o.kafka_extra["session.timeout.ms"] = std::to_string(f.session_timeout_ms);
  o.kafka_extra["heartbeat.interval.ms"] = std::to_string(std::max(f.session_timeout_ms / 5, 100));
  if (!f.instance_id.empty()) o.kafka_extra["group.instance.id"] = f.instance_id;

  auto store = lake::OpenObjectStore(f.lake, f.s3.ToOptions());
  if (!store.ok()) return FailArchive("--lake " + f.lake + ": " + store.status().ToString());

  core::Registry registry;
  archive::Archiver archiver(o, store->get(), &registry);

  WorkerProcess process;
  process.name = "archive";
  process.metrics_host = f.metrics_host;
  process.metrics_port = f.metrics_port;
  process.render_metrics = [&registry] { return registry.Render(); };
  return RunWorkerProcess(process, signals,
                          [&archiver](std::stop_token stop) { return archiver.Run(stop); });
}

CommandRegistration kArchive(
    "archive",
    "Run the archiver: consume the topics and write them to the lake (zstd JSONL by event date "
    "and hour) exactly once",
    [](CLI::App& sub) {
      auto f = std::make_shared<ArchiveFlags>();
      archive::ArchiverOptions& o = f->options;
      sub.add_option("--kafka-brokers", o.brokers, "Kafka bootstrap servers (host:port,...)")
          ->envname("PINPIPE_KAFKA_BROKERS")
          ->capture_default_str();
      AddKafkaClientFlags(sub, &f->kafka);
      AddTopicFlags(sub, {&o.topics[0], &o.topics[1], &o.topics[2]});
      sub.add_option("--lake", f->lake,
                     "Where the archive goes: a directory (file:///abs/dir or a path) or "
                     "s3://bucket[/prefix]")
          ->envname("PINPIPE_LAKE")
          ->capture_default_str();
      sub.add_option("--group", o.group,
                     "Kafka consumer group (and the folder of the archiver's manifests in the "
                     "lake, _archiver/<group>/)")
          ->envname("PINPIPE_ARCHIVE_GROUP")
          ->capture_default_str();
      sub.add_option("--layout", f->layout,
                     "hourly: <topic>/dt=YYYY-MM-DD/hr=HH/<partition>-<first offset>.jsonl.zst; "
                     "original: one object per record (pinterest_data_<unique_id>.json, as the "
                     "original project; slow: one request per record)")
          ->envname("PINPIPE_ARCHIVE_LAYOUT")
          ->check(CLI::IsMember({"hourly", "original"}))
          ->capture_default_str();
      sub.add_option("--rotate-records", f->rotate_records,
                     "Close a partition's segment (its objects) at this many records")
          ->envname("PINPIPE_ARCHIVE_ROTATE_RECORDS")
          ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
          ->capture_default_str();
      sub.add_option("--rotate-bytes", f->rotate_bytes,
                     "... or at this many raw record bytes (64MiB, 512KiB, ...)")
          ->envname("PINPIPE_ARCHIVE_ROTATE_BYTES")
          ->transform(CLI::AsSizeValue(false))
          ->default_str("64MiB");
      sub.add_option("--rotate-idle", f->rotate_idle_ms,
                     "... or when the partition delivered nothing for this long (ms, or 500ms, "
                     "30s, 5min, 1h)")
          ->envname("PINPIPE_ARCHIVE_ROTATE_IDLE")
          ->transform(DurationMs())
          ->default_str("30s");
      sub.add_option("--rotate-max-age", f->rotate_max_age_ms,
                     "... or this long after the segment's first record")
          ->envname("PINPIPE_ARCHIVE_ROTATE_MAX_AGE")
          ->transform(DurationMs())
          ->default_str("5min");
      sub.add_option("--rotate-max-hours", f->rotate_max_hours,
                     "... or before a record would add an event hour (object) beyond this many")
          ->envname("PINPIPE_ARCHIVE_ROTATE_MAX_HOURS")
          ->check(CLI::Range(int64_t{1}, int64_t{100000}))
          ->capture_default_str();
      sub.add_option("--codec", f->codec,
                     "Codec of the record objects: zstd (*.jsonl.zst; the default, fastest) or "
                     "gzip (*.jsonl.gz, for readers without zstd such as Hadoop/Spark without "
                     "native libhadoop); pinpipe batch and the scheduler read both")
          ->envname("PINPIPE_ARCHIVE_CODEC")
          ->check(CLI::IsMember({"zstd", "gzip"}))
          ->capture_default_str();
      sub.add_option("--gzip-level", o.gzip_level, "gzip compression level with --codec gzip")
          ->envname("PINPIPE_ARCHIVE_GZIP_LEVEL")
          ->check(CLI::Range(1, 9))
          ->capture_default_str();
      sub.add_option(
             "--zstd-level", o.zstd_level,
             "zstd compression level (1: fastest with a good ratio; 3: ~25% smaller, ~40% slower)")
          ->envname("PINPIPE_ARCHIVE_ZSTD_LEVEL")
          ->check(CLI::Range(-7, 19))
          ->capture_default_str();
      sub.add_option(
             "--compress-threads", o.compress_threads,
             "Threads compressing zstd frames besides the one consuming Kafka (0: compress inline)")
          ->envname("PINPIPE_ARCHIVE_COMPRESS_THREADS")
          ->check(CLI::Range(0, 64))
          ->capture_default_str();
      sub.add_option("--frame-bytes", f->frame_bytes,
                     "Uncompressed bytes per zstd frame (objects are concatenated frames)")
          ->envname("PINPIPE_ARCHIVE_FRAME_BYTES")
          ->transform(CLI::AsSizeValue(false))
          ->default_str("1MiB");
      AddEventTimeFlags(sub, &o.event_time);
      sub.add_option("--seal", f->seal,
                     "Write <topic>/dt=YYYY-MM-DD/_SUCCESS once a day is complete (hourly layout)")
          ->envname("PINPIPE_ARCHIVE_SEAL")
          ->capture_default_str();
      sub.add_option("--lateness", f->lateness_ms,
                     "Seal a day when the event-time watermark is this far past its end")
          ->envname("PINPIPE_ARCHIVE_LATENESS")
          ->transform(DurationMs())
          ->default_str("1h");
      sub.add_option("--watermark-idle", f->watermark_idle_ms,
                     "A partition without records for this long does not hold the watermark back")
          ->envname("PINPIPE_ARCHIVE_WATERMARK_IDLE")
          ->transform(DurationMs())
          ->default_str("60s");
      sub.add_option("--manifest-keep", o.manifest_keep,
                     "Keep the manifests of this many finished segments per partition (older ones "
                     "are pruned)")
          ->envname("PINPIPE_ARCHIVE_MANIFEST_KEEP")
          ->check(CLI::Range(size_t{1}, size_t{100000000}))
          ->capture_default_str();
      sub.add_option("--stop-timeout", f->stop_timeout_ms,
                     "On SIGTERM, wait this long for the lake to take the open segments")
          ->envname("PINPIPE_ARCHIVE_STOP_TIMEOUT")
          ->transform(DurationMs())
          ->default_str("30s");
      AddS3Flags(sub, &f->s3);
      sub.add_option("--instance-id", f->instance_id,
                     "Static group membership id (group.instance.id)")
          ->envname("PINPIPE_ARCHIVE_INSTANCE_ID");
      sub.add_option(
             "--session-timeout-ms", f->session_timeout_ms,
             "After this long without heartbeats a dead archiver's partitions go to the others")
          ->envname("PINPIPE_ARCHIVE_SESSION_TIMEOUT_MS")
          ->check(CLI::Range(1000, 300000))
          ->capture_default_str();
      sub.add_option("--metrics-port", f->metrics_port,
                     "Serve GET /metrics and /healthz on this port (0 = off)")
          ->envname("PINPIPE_ARCHIVE_METRICS_PORT")
          ->capture_default_str();
      sub.add_option("--metrics-host", f->metrics_host, "Address of the metrics server")
          ->envname("PINPIPE_ARCHIVE_METRICS_HOST")
          ->capture_default_str();
      return CommandRunner([f] {
        return RunWithKafkaClientFlags(f->kafka, "archive", [f] { return RunArchive(*f); });
      });
    });

}  // namespace
}  // namespace pinpipe::app

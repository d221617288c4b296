// `pinpipe emulate`: the user posting emulator (replay mode by default, load mode with --rate,
// --count, --duration, --concurrency or --bulk-size), or with --history a back-dated past
// produced straight into Kafka (emulate/history.h), after which it exits.
#include <atomic>
#include <charconv>
#include <iostream>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "core/duration.h"
#include "core/record_schema.h"
#include "kafka_flags.h"

#include "command.h"
#include "emulate/distinct_ids.h"
#include "emulate/emulator.h"
#include "emulate/history.h"
#include "kafka/admin.h"
#include "log/line_stream.h"
#include "log/logger.h"
#include "pg/connection.h"
#include "stop_signals.h"
#include "topic_flags.h"

namespace pinpipe::app {
namespace {

const log::Logger kEmulateLog("emulate");

struct EmulateFlags {
  KafkaClientFlags kafka;  // --kafka-option, --kafka-config
  std::string api_url = "http://127.0.0.1:8000";
  std::string dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest";
  uint64_t seed = 42;
  std::string bearer_token;
  double rate = -1;  // <0: not given (replay mode unless another load flag is given)
  int concurrency = 0;
  int64_t count = 0;
  double duration = 0;
  int bulk_size = 0;
  int64_t distinct_from = -1;
  bool no_progress = false;
  // Retries (both modes): see emulate/retry_policy.h.
  bool no_retry = false;
  int retry_max = emulate::RetryOptions{}.max_retries;
  double retry_max_wait = 120;  // seconds
  double retry_max_delay = 30;  // seconds
  // --history: straight into Kafka.
  std::string history;
  double history_posts_per_hour = 400;
  double history_daily_swing = 0.5;
  std::string brokers = "127.0.0.1:19092";
  std::string topic_pin = core::DefaultTopic(core::RecordKind::kPin);
  std::string topic_geo = core::DefaultTopic(core::RecordKind::kGeo);
  std::string topic_user = core::DefaultTopic(core::RecordKind::kUser);
};

std::optional<int64_t> ConfigInt(const std::map<std::string, kafka::TopicConfigEntry>& configs,
                                 const std::string& name) {
  auto it = configs.find(name);
  if (it == configs.end()) return std::nullopt;
  int64_t value = 0;
  const std::string& text = it->second.value;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The topics must keep the history: their retention (by the records' own, back-dated
// timestamps) must outlast its oldest record by a day, CreateTime must be kept (not replaced by
// the broker's append time), and the broker must accept timestamps that old.
Status CheckTopicsKeepHistory(const EmulateFlags& flags, const emulate::HistoryPeriod& period) {
  const int64_t age_ms = period.end_ms - period.start_ms;
  const int64_t needed_ms = age_ms + 24 * 3600 * 1000LL;
  for (const std::string& topic : {flags.topic_pin, flags.topic_geo, flags.topic_user}) {
    ASSIGN_OR_RETURN(auto configs,
                     kafka::DescribeTopicConfigs(flags.brokers, topic, std::chrono::seconds(15)));
    auto type = configs.find("message.timestamp.type");
    if (type != configs.end() && type->second.value != "CreateTime") {
      return FailedPrecondition(fmt::format(
          "topic {} has message.timestamp.type={}: the broker would replace the history's "
          "timestamps with the time it appends them; set it to CreateTime",
          topic, type->second.value));
    }
    std::optional<int64_t> retention = ConfigInt(configs, "retention.ms");
    if (retention && *retention >= 0 && *retention < needed_ms) {
      return FailedPrecondition(fmt::format(
          "topic {} keeps records for {} ms (retention.ms), but a history of {} needs more than "
          "{} ms (its oldest record plus a day), or Kafka deletes it by its back-dated "
          "timestamps: run `pinpipe topics ensure --retention 14d` (or longer), or shorten "
          "--history",
          topic, *retention, flags.history, needed_ms));
    }
    for (const char* name :
         {"message.timestamp.before.max.ms", "message.timestamp.difference.max.ms"}) {
      std::optional<int64_t> limit = ConfigInt(configs, name);
      if (limit && *limit < age_ms) {
        return FailedPrecondition(fmt::format(
            "topic {} refuses records more than {} ms older than now ({}); the history's oldest "
            "is {} ms old: raise it or shorten --history",
            topic, *limit, name, age_ms));
      }
    }
  }
  return Status::Ok();
}

int RunHistory(const EmulateFlags& flags, const std::vector<emulate::SourcePost>& posts,
               std::stop_token stop) {
  StatusOr<std::chrono::seconds> span = core::ParseDuration(flags.history);
  if (!span.ok()) {
    kEmulateLog.Error("--history: {}", span.status().message());
    return 2;
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto period = emulate::HistoryPeriodOf(now_ms, *span);
  if (!period.ok()) {
    kEmulateLog.Error("{}", period.status().message());
    return 2;
  }
  emulate::HistoryOptions options;
  options.period = *period;
  options.posts_per_hour = flags.history_posts_per_hour;
  options.daily_swing = flags.history_daily_swing;
  options.seed = flags.seed;
  auto schedule = emulate::HistorySchedule::Create(options, posts.size());
  if (!schedule.ok()) {
    kEmulateLog.Error("{}", schedule.status().message());
    return 2;
  }
  if (Status s = CheckTopicsKeepHistory(flags, *period); !s.ok()) {
    kEmulateLog.Error("{}", s.ToString());
    return 1;
  }
  kEmulateLog.Info("history: {} posts from {} to {} into {} ({}, {}, {})", schedule->total_posts(),
                   core::IsoTime(period->start_ms), core::IsoTime(period->end_ms), flags.brokers,
                   flags.topic_pin, flags.topic_geo, flags.topic_user);
  kafka::ProducerOptions producer_options;
  producer_options.brokers = flags.brokers;
  producer_options.client_id = "pinpipe-history";
  producer_options.delivery_timeout = std::chrono::seconds(30);
  producer_options.linger = std::chrono::milliseconds(5);
  auto producer = kafka::Producer::Create(producer_options);
  if (!producer.ok()) {
    kEmulateLog.Error("{}", producer.status().ToString());
    return 1;
  }
  emulate::HistoryTopics topics{flags.topic_pin, flags.topic_geo, flags.topic_user};
  log::LineStream progress(kEmulateLog, log::Level::kInfo);
  auto stats = emulate::LoadHistory(posts, *schedule, topics, **producer, stop,
                                    std::chrono::seconds(60), &progress);
  (*producer)->Close(std::chrono::seconds(5));
  if (!stats.ok()) {
    kEmulateLog.Error("{}", stats.status().ToString());
    return 1;
  }
  std::cout << emulate::FormatHistorySummary(options, *schedule, *stats) << "\n";
  if (stop.stop_requested()) {
    kEmulateLog.Error("stopped before the history was complete");
    return 1;
  }
  return stats->records_failed() == 0 ? 0 : 1;
}

emulate::RetryOptions RetryOptionsOf(const EmulateFlags& flags) {
  emulate::RetryOptions retry;
  retry.enabled = !flags.no_retry;
  retry.max_retries = flags.retry_max;
  retry.max_wait = std::chrono::milliseconds(static_cast<int64_t>(flags.retry_max_wait * 1000));
  retry.max_delay = std::chrono::milliseconds(static_cast<int64_t>(flags.retry_max_delay * 1000));
  return retry;
}

int Run(const EmulateFlags& flags) {
  // Before any thread (the producer's, the load's connections) exists: they inherit its mask.
  StopSignals signals("emulate", "stopping");
  auto url = http::ParseHttpUrl(flags.api_url);
  if (!url.ok()) {
    kEmulateLog.Error("{}", url.status().ToString());
    return 2;
  }
  std::vector<emulate::SourcePost> posts;
  {
    auto conn = pg::Connection::Open(flags.dsn);
    if (!conn.ok()) {
      kEmulateLog.Error("{}", conn.status().ToString());
      return 1;
    }
    auto loaded = emulate::LoadSourcePosts(*conn);
    if (!loaded.ok()) {
      kEmulateLog.Error("loading source rows: {}", loaded.status().ToString());
      return 1;
    }
    posts = std::move(loaded).value();
  }
  kEmulateLog.Info("loaded {} source posts", posts.size());

  if (!flags.history.empty()) return RunHistory(flags, posts, signals.token());

  const bool load_mode = flags.rate >= 0 || flags.concurrency > 0 || flags.count > 0 ||
                         flags.duration > 0 || flags.bulk_size > 0;
  if (!load_mode) {
    emulate::ReplayOptions options;
    options.api = *url;
    options.bearer_token = flags.bearer_token;
    options.seed = flags.seed;
    options.distinct_from = flags.distinct_from;
    options.retry = RetryOptionsOf(flags);
    // One log line per posted record, as the original printed one per post (replay is paced
    // like a user: a few records a second, so this is no hot path).
    emulate::ReplayStats stats;
    {
      log::LineStream records(kEmulateLog, log::Level::kInfo);
      stats = emulate::RunReplay(posts, options, signals.token(), records);
    }
    kEmulateLog.Info("posted {} posts: {} records accepted, {} not (gave up {}); retried {}",
                     stats.posts, stats.records_ok, stats.records_failed, stats.gave_up,
                     stats.retried);
    return stats.records_ok + stats.records_failed > 0 && stats.records_ok == 0 ? 1 : 0;
  }
  emulate::LoadOptions options;
  options.api = *url;
  options.bearer_token = flags.bearer_token;
  options.seed = flags.seed;
  options.rate = flags.rate < 0 ? 0 : flags.rate;
  options.concurrency = flags.concurrency > 0 ? flags.concurrency : 8;
  options.count = flags.count;
  options.duration_s = flags.duration;
  options.bulk_size = flags.bulk_size;
  options.distinct_from = flags.distinct_from;
  options.progress = !flags.no_progress;
  options.retry = RetryOptionsOf(flags);
  log::LineStream progress(kEmulateLog, log::Level::kInfo);
  auto summary = emulate::RunLoad(posts, options, signals.token(), progress);
  std::cout << emulate::FormatSummary(summary) << "\n";
  // Exit 0 unless nothing could be sent at all.
  return summary.accepted + summary.rejected > 0 ? 0 : 1;
}

CommandRegistration kEmulate(
    "emulate", "Post source rows to the ingest API (replay like the original, or generate load)",
    [](CLI::App& sub) {
      auto flags = std::make_shared<EmulateFlags>();  // shared: outlives setup, used by the runner
      sub.add_option("--api-url", flags->api_url, "ingest API base URL")
          ->envname("PINPIPE_API_URL")
          ->capture_default_str();
      sub.add_option("--pg-dsn", flags->dsn, "libpq conninfo of the source database")
          ->envname("PINPIPE_SOURCE_PG_DSN")
          ->capture_default_str();
      sub.add_option("--seed", flags->seed, "random seed for picking posts")
          ->envname("PINPIPE_EMULATE_SEED")
          ->capture_default_str();
      sub.add_option("--bearer-token", flags->bearer_token, "sent as Authorization: Bearer")
          ->envname("PINPIPE_API_TOKEN");
      sub.add_option("--rate", flags->rate, "load mode: records/s target (0 = as fast as possible)")
          ->envname("PINPIPE_EMULATE_RATE")
          ->check(CLI::NonNegativeNumber);
      sub.add_option("--concurrency", flags->concurrency, "load mode: connections (default 8)")
          ->envname("PINPIPE_EMULATE_CONCURRENCY")
          ->check(CLI::Range(1, 10000));
      sub.add_option("--count", flags->count, "load mode: records to send")
          ->envname("PINPIPE_EMULATE_COUNT")
          ->check(CLI::NonNegativeNumber);
      sub.add_option("--duration", flags->duration, "load mode: seconds to run")
          ->envname("PINPIPE_EMULATE_DURATION")
          ->check(CLI::NonNegativeNumber);
      sub.add_option("--bulk-size,--batch-size", flags->bulk_size,
                     "load mode: bulk requests (NDJSON) of this many records to /batch/<kind>; "
                     "--batch-size: the old spelling")
          ->envname("PINPIPE_EMULATE_BATCH_SIZE")
          ->check(CLI::Range(0, 100000));
      sub.add_option("--distinct-from", flags->distinct_from,
                     "send every post as a new one: the n-th post drawn gets index/ind N+n and a "
                     "unique_id derived from it (the rest of its records from the source post), "
                     "so nothing is de-duplicated downstream; for exact accounting in benchmarks")
          ->envname("PINPIPE_EMULATE_DISTINCT_FROM")
          ->check(CLI::Range(int64_t{0}, emulate::kMaxDistinctIndex));
      sub.add_option("--history", flags->history,
                     "instead of posting to the API: produce the past straight into Kafka with "
                     "back-dated timestamps, then exit. A whole number of days (3d) covers those "
                     "UTC days before today and today until now; another span (6h) the last "
                     "span. Posts are new (index/ind from 1000000000, unique_id derived), "
                     "validated like the API does (invalid records are counted, not produced). "
                     "No environment variable on purpose: scripts/run's live emulator inherits "
                     "the environment (scripts/run takes PINPIPE_RUN_HISTORY)");
      sub.add_option("--history-posts-per-hour", flags->history_posts_per_hour,
                     "history: posts per hour on average (each is a pin, a geo and a user "
                     "record)")
          ->envname("PINPIPE_EMULATE_HISTORY_POSTS_PER_HOUR")
          ->check(CLI::Range(0.0, 1e7))
          ->capture_default_str();
      sub.add_option("--history-daily-swing", flags->history_daily_swing,
                     "history: the daily cycle's amplitude relative to the mean (peak 20:00 UTC, "
                     "low 08:00; 0 = flat)")
          ->envname("PINPIPE_EMULATE_HISTORY_DAILY_SWING")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      sub.add_option("--kafka-brokers", flags->brokers, "history: Kafka bootstrap servers")
          ->envname("PINPIPE_KAFKA_BROKERS")
          ->capture_default_str();
      AddKafkaClientFlags(sub, &flags->kafka);
      AddTopicFlags(sub, {&flags->topic_pin, &flags->topic_geo, &flags->topic_user},
                    "history: topic for {} records");
      sub.add_flag("--no-progress", flags->no_progress, "load mode: no progress line in the log");
      sub.add_flag("--no-retry", flags->no_retry,
                   "do not send a record again after 503/429 or a connection error (the "
                   "original's fire-and-forget behaviour)")
          ->envname("PINPIPE_EMULATE_NO_RETRY");
      sub.add_option("--retry-max", flags->retry_max,
                     "retries per record at most (503/429 after Retry-After, connection errors "
                     "after 1 s); then the record is given up")
          ->envname("PINPIPE_EMULATE_RETRY_MAX")
          ->check(CLI::Range(0, 1000000))
          ->capture_default_str();
      sub.add_option("--retry-max-wait", flags->retry_max_wait,
                     "seconds of retry delays per record at most; then the record is given up")
          ->envname("PINPIPE_EMULATE_RETRY_MAX_WAIT")
          ->check(CLI::Range(0.0, 86400.0))
          ->capture_default_str();
      sub.add_option("--retry-max-delay", flags->retry_max_delay,
                     "seconds one retry delay may last at most (caps Retry-After; jitter included)")
          ->envname("PINPIPE_EMULATE_RETRY_MAX_DELAY")
          ->check(CLI::Range(0.0, 86400.0))
          ->capture_default_str();
      return CommandRunner([flags] {
        return RunWithKafkaClientFlags(flags->kafka, "emulate", [flags] { return Run(*flags); });
      });
    });

}  // namespace
}  // namespace pinpipe::app

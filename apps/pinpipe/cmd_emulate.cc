// `pinpipe emulate`: the user posting emulator (replay mode by default, load mode with --rate,
// --count, --duration, --concurrency or --batch-size).
#include <csignal>
#include <iostream>

#include "command.h"
#include "emulate/distinct_ids.h"
#include "emulate/emulator.h"
#include "pg/connection.h"

namespace pinpipe::app {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnSigint(int) { g_stop.store(true); }

struct EmulateFlags {
  std::string api_url = "http://127.0.0.1:8000";
  std::string dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest";
  uint64_t seed = 42;
  std::string bearer_token;
  double rate = -1;  // <0: not given (replay mode unless another load flag is given)
  int concurrency = 0;
  int64_t count = 0;
  double duration = 0;
  int batch_size = 0;
  int64_t distinct_from = -1;
  bool no_progress = false;
  // Retries (both modes): see emulate/retry_policy.h.
  bool no_retry = false;
  int retry_max = emulate::RetryOptions{}.max_retries;
  double retry_max_wait = 120;   // seconds
  double retry_max_delay = 30;   // seconds
};

emulate::RetryOptions RetryOptionsOf(const EmulateFlags& flags) {
  emulate::RetryOptions retry;
  retry.enabled = !flags.no_retry;
  retry.max_retries = flags.retry_max;
  retry.max_wait = std::chrono::milliseconds(static_cast<int64_t>(flags.retry_max_wait * 1000));
  retry.max_delay = std::chrono::milliseconds(static_cast<int64_t>(flags.retry_max_delay * 1000));
  return retry;
}

int Run(const EmulateFlags& flags) {
  auto url = http::ParseHttpUrl(flags.api_url);
  if (!url.ok()) {
    std::cerr << "emulate: " << url.status().ToString() << "\n";
    return 2;
  }
  std::vector<emulate::SourcePost> posts;
  {
    auto conn = pg::Connection::Open(flags.dsn);
    if (!conn.ok()) {
      std::cerr << "emulate: " << conn.status().ToString() << "\n";
      return 1;
    }
    auto loaded = emulate::LoadSourcePosts(*conn);
    if (!loaded.ok()) {
      std::cerr << "emulate: loading source rows: " << loaded.status().ToString() << "\n";
      return 1;
    }
    posts = std::move(loaded).value();
  }
  std::cerr << "loaded " << posts.size() << " source posts\n";

  struct sigaction action {};
  action.sa_handler = OnSigint;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  const bool load_mode = flags.rate >= 0 || flags.concurrency > 0 || flags.count > 0 ||
                         flags.duration > 0 || flags.batch_size > 0;
  if (!load_mode) {
    emulate::ReplayOptions options;
    options.api = *url;
    options.bearer_token = flags.bearer_token;
    options.seed = flags.seed;
    options.distinct_from = flags.distinct_from;
    options.retry = RetryOptionsOf(flags);
    auto stats = emulate::RunReplay(posts, options, g_stop, std::cout);
    std::cerr << "posted " << stats.posts << " posts: " << stats.records_ok << " records accepted, "
              << stats.records_failed << " not (gave up " << stats.gave_up << "); retried "
              << stats.retried << "\n";
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
  options.batch_size = flags.batch_size;
  options.distinct_from = flags.distinct_from;
  options.progress = !flags.no_progress;
  options.retry = RetryOptionsOf(flags);
  auto summary = emulate::RunLoad(posts, options, g_stop, std::cerr);
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
      sub.add_option("--batch-size", flags->batch_size,
                     "load mode: NDJSON batches of this many records to /batch/<kind>")
          ->envname("PINPIPE_EMULATE_BATCH_SIZE")
          ->check(CLI::Range(0, 100000));
      sub.add_option("--distinct-from", flags->distinct_from,
                     "send every post as a new one: the n-th post drawn gets index/ind N+n and a "
                     "unique_id derived from it (the rest of its records from the source post), "
                     "so nothing is de-duplicated downstream; for exact accounting in benchmarks")
          ->envname("PINPIPE_EMULATE_DISTINCT_FROM")
          ->check(CLI::Range(int64_t{0}, emulate::kMaxDistinctIndex));
      sub.add_flag("--no-progress", flags->no_progress, "load mode: no progress line on stderr");
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
      return CommandRunner([flags] { return Run(*flags); });
    });

}  // namespace
}  // namespace pinpipe::app

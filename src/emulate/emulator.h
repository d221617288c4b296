// The user posting emulator: replays source posts against the ingest API.
//
// Two modes:
//  * RunReplay reproduces the original user_posting_emulation.py: forever (or `count` posts),
//    sleep a random 0..max_sleep, pick a random post (with replacement, so posts repeat) and POST
//    its pin, geo and user records to /pin/, /geo/, /user/ over one keep-alive connection,
//    printing each briefly.
//  * RunLoad drives a target rate of records (each pin, geo or user record counts as one) over
//    many connections (async Asio, at most two I/O threads), optionally as bulk requests (NDJSON)
//    to /batch/<kind>, and reports counts, achieved rate and latency percentiles.
// Both are deterministic in which posts they pick for a given seed. Both return when stop is
// requested on `stop` (SIGINT) and are otherwise self-contained; run one at a time per process.
// Both send a record again when the API answers 503 or 429 or the connection fails, after the
// answer's Retry-After (emulate/retry_policy.h: capped, with jitter, bounded per record, counted
// as retried and gave_up); a 422 or any other answer is final. RetryOptions::enabled = false is
// the original's fire-and-forget behaviour.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <stop_token>
#include <string>
#include <vector>

#include "core/status.h"
#include "emulate/retry_policy.h"
#include "emulate/source_posts.h"
#include "http/client.h"

namespace pinpipe::emulate {

struct ReplayOptions {
  http::HttpUrl api;
  std::string bearer_token;  // sent as "Authorization: Bearer <token>" when not empty
  uint64_t seed = 42;
  int64_t max_sleep_ms = 2000;  // sleep uniform in [0, max_sleep_ms) before each post
  int64_t count = 0;            // posts to send; 0 = until stopped
  int64_t distinct_from = -1;   // >=0: the n-th post gets index distinct_from + n (distinct_ids.h)
  RetryOptions retry;
};

struct ReplayStats {
  int64_t posts = 0;
  int64_t records_ok = 0;      // 2xx
  int64_t records_failed = 0;  // non-2xx or transport error, after any retries
  int64_t retried = 0;         // requests sent again (a record sent 3 times counts 2)
  int64_t gave_up = 0;         // records failed after retries ran out (part of records_failed)
};

// Errors: none; every answer and transport error is printed and counted, retried when
// retriable (see above), and the loop goes on.
ReplayStats RunReplay(const std::vector<SourcePost>& posts, const ReplayOptions& options,
                      std::stop_token stop, std::ostream& out);

struct LoadOptions {
  http::HttpUrl api;
  std::string bearer_token;
  uint64_t seed = 42;
  double rate = 0;             // records per second; 0 = as fast as possible
  int concurrency = 8;         // connections
  int64_t count = 0;           // records to send; 0 = no limit
  double duration_s = 0;       // seconds to run; 0 = no limit
  int bulk_size = 0;           // >0: bulk requests (NDJSON) of this many records to /batch/<kind>
  int64_t distinct_from = -1;  // >=0: the n-th post gets index distinct_from + n (distinct_ids.h)
  bool progress = true;        // live line on the progress stream once per second
  std::chrono::milliseconds request_timeout{30000};
  // A session retries its own request (a bulk request: only the items answered 503/429) before it
  // takes the next one, so an outage slows the load down instead of losing records.
  RetryOptions retry;
};

struct LoadSummary {
  int64_t sent = 0;      // records sent (attempted; each record once, however often retried)
  int64_t accepted = 0;  // 2xx
  int64_t rejected = 0;  // 4xx other than 429
  int64_t failed = 0;    // the rest: 5xx or transport error after any retries, or cut off by stop
  int64_t retried = 0;   // records sent again (a record sent 3 times counts 2)
  int64_t gave_up = 0;   // records failed after retries ran out (part of `failed`)
  int64_t requests = 0;  // HTTP requests completed (with any outcome)
  double seconds = 0;
  double rate = 0;  // records sent per second
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  std::string first_error;  // the first transport error, for the summary
};

LoadSummary RunLoad(const std::vector<SourcePost>& posts, const LoadOptions& options,
                    std::stop_token stop, std::ostream& progress);

// "sent=... accepted=... ..." one-line summary.
std::string FormatSummary(const LoadSummary& summary);

// The post picked for draw `n` under `seed` (shared by both modes, exposed for tests).
size_t PickPost(uint64_t seed, uint64_t n, size_t post_count);

}  // namespace pinpipe::emulate

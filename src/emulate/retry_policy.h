// RetryPolicy: when the emulator sends a record again, and after how long.
//
// The ingest API answers 503 when it cannot store a record now (Kafka unreachable, producer
// queue full, shutting down), with `Retry-After: <seconds>`: nothing was stored and the client
// should come back. The original emulator logged the answer and moved on, so a 20 s Kafka outage
// lost 72 records (issue 11, item 8). Both emulator modes now send such a record again:
//   * retried: 503 and 429 (of a request, or of one item of a /batch/ answer), and transport
//     errors (connection refused or reset, timeout: an API that restarts looks like this), as if
//     Retry-After were 1 s. A transport error after the request was written may hit a record the
//     API did store: that retry makes the delivery at-least-once (a second copy in Kafka), which
//     both layers de-duplicate (pins by unique_id, geo and user by ind).
//   * never retried: 2xx; any other 4xx (a 422 means the record itself is wrong); other 5xx.
//   * delay: Retry-After in delta-seconds (absent or an HTTP date: 1 s), d, plus a jitter
//     uniform in [0, d/4 + 100 ms], so that many connections told the same Retry-After do not
//     come back in lock-step. No delay exceeds `max_delay`: one that would is drawn uniformly
//     from [3/4 max_delay, max_delay] instead (capped waits are spread too).
//   * bounds, per record: at most `max_retries` retries and `max_wait` of summed delays; past
//     either the record is given up (counted as gave_up, and as failed).
// `enabled = false` is the original's fire-and-forget behaviour (`pinpipe emulate --no-retry`).
//
// A RetryBudget is one record's (or one batch's pending items', which have failed every attempt
// together) state. Not thread-safe; one per session.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "emulate/prng.h"

namespace pinpipe::emulate {

struct RetryOptions {
  bool enabled = true;
  int max_retries = 50;                         // per record
  std::chrono::milliseconds max_wait{120'000};  // summed delays per record
  std::chrono::milliseconds max_delay{30'000};  // one delay at most (caps Retry-After)
};

// The delay assumed when the server gave none (a transport error, or no usable Retry-After).
inline constexpr std::chrono::seconds kDefaultRetryAfter{1};

// Whether an HTTP status asks the client to send the same request again later: 503 and 429.
bool IsRetriableStatus(int status);

// Retry-After as delta-seconds ("0", "17"); nullopt when absent, an HTTP date or not a number.
// Values beyond a day are clamped to a day (the caller caps them far lower anyway).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

class RetryBudget {
 public:
  RetryBudget(const RetryOptions& options, uint64_t seed) : options_(options), jitter_(seed) {}

  // After a retriable failure: the delay before the next attempt (and it counts as one retry),
  // or nullopt when the record is to be given up (retries disabled, or `max_retries` or
  // `max_wait` reached). `retry_after` is the server's (nullopt: kDefaultRetryAfter).
  std::optional<std::chrono::milliseconds> Next(std::optional<std::chrono::seconds> retry_after);

  // Starts over for the next record.
  void Reset() {
    retries_ = 0;
    waited_ = std::chrono::milliseconds(0);
  }
  int retries() const { return retries_; }
  std::chrono::milliseconds waited() const { return waited_; }

 private:
  RetryOptions options_;
  Prng jitter_;
  int retries_ = 0;
  std::chrono::milliseconds waited_{0};
};

}  // namespace pinpipe::emulate

// Backoff: an exponential retry schedule (the speed layer's PostgreSQL reconnects, the
// supervisor's worker restarts).
//
// Next() returns initial, initial*2, initial*4, ... capped at `max`; Reset() after a success
// starts over. Deterministic (no jitter): each user is a single loop with nobody to stampede
// with, and tests can assert the exact schedule. Not thread-safe.
#pragma once

#include <chrono>

namespace pinpipe::core {

class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds initial = std::chrono::milliseconds(100),
                   std::chrono::milliseconds max = std::chrono::milliseconds(5000))
      : initial_(initial), max_(max), next_(initial) {}

  // The delay before the next attempt; advances the schedule.
  std::chrono::milliseconds Next();
  void Reset() {
    next_ = initial_;
    attempts_ = 0;
  }
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds next_;
  int attempts_ = 0;
};

}  // namespace pinpipe::core

// Refresher: the dashboard's one worker thread. Every `interval` it runs a cycle: the source
// refresh steps (scrape metrics, read Kafka, query PostgreSQL, ...), then it recomputes the
// answer of every query asked for within the cache's `keep_for` (but the on-demand ones, which
// requests compute: answer_cache.h), forgets the others, and reports
// the cycle (the live-update events). Between cycles, and between the steps of a cycle, it
// computes the first answer of new queries as soon as they are asked (AnswerCache::TakePending),
// so a new query waits for at most one step, not for the next interval.
//
// So the work done per interval depends on which queries are live, not on how many clients ask
// them: ten browsers polling the same endpoints cost what one costs.
//
// All source state is touched by this thread only (steps and Compute run here), so sources need
// no locks. Start() starts the thread; Stop() (and the destructor) stops it after the current
// step. Thread-safety: Start/Stop from one thread; stats() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "dashboard/answer_cache.h"

namespace pinpipe::dashboard {

// Computes one query's answer; `generated_at` (RFC 3339, now) goes into the body.
using ComputeFn = std::function<Answer(const Query&, const std::string& generated_at)>;

struct RefresherOptions {
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds keep_for{60000};  // as the cache's
};

struct RefreshStep {
  std::string name;  // for metrics ("metrics", "kafka", "postgres", ...)
  std::function<void()> run;
};

struct RefresherHooks {
  std::vector<RefreshStep> steps;  // run in order each cycle
  // Computes one query's answer from the current source state; `generated_at` (RFC 3339, now)
  // goes into the body. The refresher sets Answer::generated_at to it.
  ComputeFn compute;
  // After each cycle: its number (1, 2, ...) and when it finished (RFC 3339).
  std::function<void(uint64_t cycle, const std::string& generated_at)> after_cycle;
};

class Refresher {
 public:
  Refresher(RefresherOptions options, AnswerCache* cache, RefresherHooks hooks);
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  void Start();
  void Stop();

  struct StepStats {
    std::string name;
    uint64_t runs = 0;
    double last_seconds = 0;
    double total_seconds = 0;
  };
  struct Stats {
    uint64_t cycles = 0;
    uint64_t computations = 0;  // answers computed (first answers and recomputations)
    double last_cycle_seconds = 0;
    std::vector<StepStats> steps;
  };
  Stats stats() const;

 private:
  void Run(std::stop_token stop);
  void Cycle(std::stop_token stop);
  // Computes and publishes what waits for a first answer.
  void ServePending();
  void ComputeAndPublish(const Query& query);

  const RefresherOptions options_;
  AnswerCache* cache_;
  RefresherHooks hooks_;

  mutable core::Mutex stats_mu_;
  Stats stats_ GUARDED_BY(stats_mu_);

  std::jthread thread_;  // last: stopped before the members it uses go
};

// Computes one answer with `compute`, now: its generated_at set, and a 500 answer instead of an
// exception (a bug in one answer must not take down the thread that computes it). Used by the
// refresher and by the requests that compute on-demand answers (answer_cache.h).
Answer ComputeAnswer(const ComputeFn& compute, const Query& query);

// "2024-01-31T05:00:00.123Z" for a time point of the system clock.
std::string Rfc3339(std::chrono::system_clock::time_point t);

}  // namespace pinpipe::dashboard

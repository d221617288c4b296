// DeadlineQueue: bounds how long a request waits for Kafka. Each request handed to the producer
// is added with the same timeout (the delivery timeout), so deadlines expire in the order they
// were added: one FIFO swept by one thread, with no timer and no allocation per request beyond
// the deque's blocks. When an entry's deadline passes and it is still unanswered, the sweeper
// calls its Expire(), which answers 503; whichever of Expire() and the delivery report comes
// first answers, the other only updates metrics (the Expirable makes that exactly-once, e.g. with
// an atomic flag). Answered entries are dropped from the front as the sweeper passes them (at
// least every kPurgeInterval while the queue is not empty), so memory stays about rate x
// (purge interval + the oldest unanswered wait).
//
// Thread-safety: Add() from any thread; Expire() runs on the queue's own thread, never under its
// lock. The destructor stops and joins that thread; entries not yet expired are then dropped
// without Expire() (their owners answer them or drop them at shutdown).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <thread>

#include "core/mutex.h"

namespace pinpipe::ingest {

class Expirable {
 public:
  virtual ~Expirable() = default;
  // True once the request has been answered (the entry may be dropped). Any thread.
  virtual bool Answered() const = 0;
  // The deadline passed before Answered(): answer now unless the normal answer wins the race.
  virtual void Expire() = 0;
};

class DeadlineQueue {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kPurgeInterval{100};

  explicit DeadlineQueue(std::chrono::milliseconds timeout);
  ~DeadlineQueue();
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;

  // Expires `item` at now + timeout unless it is answered before.
  void Add(std::shared_ptr<Expirable> item);

  // Entries not yet dropped (for tests and metrics).
  size_t size() const;
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  struct Entry {
    Clock::time_point deadline;
    std::shared_ptr<Expirable> item;
  };

  void Run(const std::stop_token& stop);

  const std::chrono::milliseconds timeout_;

  mutable core::Mutex mu_;
  std::condition_variable_any wake_;
  std::deque<Entry> entries_ GUARDED_BY(mu_);  // deadlines non-decreasing

  std::jthread thread_;  // last: started after, and joined before, the state above
};

}  // namespace pinpipe::ingest

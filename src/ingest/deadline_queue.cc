#include "ingest/deadline_queue.h"

#include <algorithm>
#include <vector>

namespace pinpipe::ingest {

DeadlineQueue::DeadlineQueue(std::chrono::milliseconds timeout)
    : timeout_(timeout), thread_([this](std::stop_token stop) { Run(stop); }) {}

DeadlineQueue::~DeadlineQueue() {
  thread_.request_stop();  // wakes the condition_variable_any wait
  thread_.join();
}

void DeadlineQueue::Add(std::shared_ptr<Expirable> item) {
  const Clock::time_point deadline = Clock::now() + timeout_;
  core::MutexLock lock(mu_);
  const bool was_empty = entries_.empty();
  entries_.push_back({deadline, std::move(item)});
  // Only an empty queue has the sweeper waiting without a wake-up time of its own.
  if (was_empty) wake_.notify_one();
}

size_t DeadlineQueue::size() const {
  core::MutexLock lock(mu_);
  return entries_.size();
}

void DeadlineQueue::Run(const std::stop_token& stop) {
  std::vector<std::shared_ptr<Expirable>> expired;
  std::vector<std::shared_ptr<Expirable>> done;
  core::MutexLock lock(mu_);
  while (!stop.stop_requested()) {
    if (entries_.empty()) {
      lock.Wait(wake_, stop, [this]() REQUIRES(mu_) { return !entries_.empty(); });
      continue;
    }
    const Clock::time_point now = Clock::now();
    while (!entries_.empty()) {
      Entry& front = entries_.front();
      if (front.item->Answered()) {
        done.push_back(std::move(front.item));
      } else if (front.deadline <= now) {
        expired.push_back(std::move(front.item));
      } else {
        break;
      }
      entries_.pop_front();
    }
    if (!expired.empty() || !done.empty()) {
      // Answers and destructors (which free responders and buffers) run without the lock, so
      // Add() on the I/O threads never waits for them.
      lock.Unlock();
      for (auto& item : expired) item->Expire();
      expired.clear();
      done.clear();
      lock.Lock();
      continue;
    }
    const Clock::time_point wake_at = std::min(entries_.front().deadline, now + kPurgeInterval);
    lock.WaitUntil(wake_, stop, wake_at, [] { return false; });
  }
}

}  // namespace pinpipe::ingest

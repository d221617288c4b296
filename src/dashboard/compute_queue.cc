#include "dashboard/compute_queue.h"
#include "core/mutex.h"

#include <algorithm>
#include <utility>

namespace pinpipe::dashboard {

ComputeQueue::ComputeQueue(size_t threads) {
  const size_t n = std::max<size_t>(1, threads);
  workers_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    workers_.emplace_back([this](const std::stop_token& stop) { Work(stop); });
  }
}

ComputeQueue::~ComputeQueue() { Stop(); }

bool ComputeQueue::Post(std::function<void()> task) {
  {
    core::MutexLock lock(mu_);
    if (stopped_) return false;
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

size_t ComputeQueue::pending() const {
  core::MutexLock lock(mu_);
  return tasks_.size();
}

void ComputeQueue::Stop() {
  std::deque<std::function<void()>> dropped;
  {
    core::MutexLock lock(mu_);
    stopped_ = true;
    dropped.swap(tasks_);
  }
  for (std::jthread& worker : workers_) worker.request_stop();
  for (std::jthread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  // `dropped` goes here, outside the lock: a task's captures may take time to destroy.
}

void ComputeQueue::Work(const std::stop_token& stop) {
  while (true) {
    std::function<void()> task;
    {
      core::MutexLock lock(mu_);
      if (!lock.Wait(ready_, stop, [this]() REQUIRES(mu_) { return !tasks_.empty(); }))
        return;  // stopped
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace pinpipe::dashboard

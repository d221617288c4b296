#include "dashboard/compute_queue.h"

#include <algorithm>
#include <utility>

namespace pinpipe::dashboard {

ComputeQueue::ComputeQueue(size_t threads) {
  const size_t n = std::max<size_t>(1, threads);
  workers_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
}

ComputeQueue::~ComputeQueue() { Stop(); }

bool ComputeQueue::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return false;
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

size_t ComputeQueue::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

void ComputeQueue::Stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    dropped.swap(tasks_);
  }
  for (std::jthread& worker : workers_) worker.request_stop();
  for (std::jthread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  // `dropped` goes here, outside the lock: a task's captures may take time to destroy.
}

void ComputeQueue::Work(std::stop_token stop) {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!ready_.wait(lock, stop, [this] { return !tasks_.empty(); })) return;  // stopped
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace pinpipe::dashboard

// ComputeQueue: the worker threads that compute on-demand answers (answer_cache.h, "On-demand
// entries") off the HTTP server's I/O threads. An I/O thread serves many connections and must
// not block (http/server.h): a computation run there held every request of its other
// connections, cached answers included, for as long as it took. Posted here, it leaves the I/O
// thread free, and the request is answered from the worker when its answer is ready.
//
// Tasks run in the order they were posted, on `threads` workers (one by default: an analytics
// computation spreads over the cores itself, analytics_answers.h "Parallelism", so a second
// worker would only interleave two computations and finish both later). The queue needs no bound
// of its own: a task is posted only by the request that claimed a key's computation, so the
// answer cache's max_entries bounds the tasks waiting.
//
// Stop() (and the destructor) waits for the running tasks and drops the pending ones unrun; the
// owner stops the HTTP server first, so no request waits for them. Post() after Stop() returns
// false and drops the task.
//
// Thread-safety: Post, pending and Stop may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/mutex.h"

namespace pinpipe::dashboard {

class ComputeQueue {
 public:
  explicit ComputeQueue(size_t threads = 1);
  ~ComputeQueue();
  ComputeQueue(const ComputeQueue&) = delete;
  ComputeQueue& operator=(const ComputeQueue&) = delete;

  // Queues `task` to run on a worker; false (task dropped) once stopped.
  bool Post(std::function<void()> task);
  // Tasks posted and not started yet.
  size_t pending() const;
  void Stop();

 private:
  void Work(const std::stop_token& stop);

  mutable core::Mutex mu_;
  std::condition_variable_any ready_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
  std::vector<std::jthread> workers_;  // last: joined before the members they use go
};

}  // namespace pinpipe::dashboard

// LaneThread: one long-lived thread of a writer lane, started once and fed one task at a time.
//
// The speed layer writes each chunk as one PostgreSQL transaction per lane, all lanes in
// parallel, while its Run() thread builds the next chunk. Each lane's transactions run on the
// lane's own LaneThread (a std::jthread started by the constructor and joined by the
// destructor, after the task in progress if any), not on a thread started per chunk. Protocol,
// on the owner's thread: Submit() a task, then Wait() for it (Done() tells without blocking);
// one task at a time. What the task wrote is visible to the owner after Wait() returns. An
// exception thrown by the task is rethrown by Wait(), as std::future::get() would.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <stop_token>
#include <thread>

#include "core/mutex.h"

namespace pinpipe::stream {

class LaneThread {
 public:
  LaneThread();
  // Joins the thread; a task already submitted runs to its end first.
  ~LaneThread() = default;
  LaneThread(const LaneThread&) = delete;
  LaneThread& operator=(const LaneThread&) = delete;

  // Runs `task` on the lane's thread. Precondition: idle (nothing submitted since the last Wait).
  void Submit(std::function<void()> task);
  // True once the submitted task has finished (false while it runs and while idle).
  bool Done() const;
  // Blocks until the submitted task has finished; the lane is idle again. Rethrows the task's
  // exception. Precondition: a task was submitted.
  void Wait();

 private:
  enum class State : unsigned char { kIdle, kSubmitted, kRunning, kDone };
  void Loop(std::stop_token stop);

  mutable core::Mutex mu_;
  std::condition_variable_any submitted_;  // Loop waits here (and for its stop token)
  std::condition_variable done_;           // Wait() waits here
  State state_ GUARDED_BY(mu_) = State::kIdle;
  std::function<void()> task_ GUARDED_BY(mu_);
  std::exception_ptr error_ GUARDED_BY(mu_);
  // state_ == kDone, readable without the lock: Done() is asked once per polled record.
  std::atomic<bool> done_flag_{false};
  std::jthread thread_;  // last: stopped and joined before the members above go away
};

}  // namespace pinpipe::stream

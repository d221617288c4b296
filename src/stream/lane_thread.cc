#include "stream/lane_thread.h"

#include <utility>

namespace pinpipe::stream {

LaneThread::LaneThread() : thread_([this](std::stop_token stop) { Loop(stop); }) {}

void LaneThread::Submit(std::function<void()> task) {
  {
    core::MutexLock lock(mu_);
    task_ = std::move(task);
    state_ = State::kSubmitted;
  }
  submitted_.notify_one();
}

bool LaneThread::Done() const { return done_flag_.load(std::memory_order_acquire); }

void LaneThread::Wait() {
  std::exception_ptr error;
  {
    core::MutexLock lock(mu_);
    lock.Wait(done_, [this]() REQUIRES(mu_) { return state_ == State::kDone; });
    state_ = State::kIdle;
    done_flag_.store(false, std::memory_order_relaxed);
    error = std::exchange(error_, nullptr);
  }
  if (error) std::rethrow_exception(error);
}

void LaneThread::Loop(std::stop_token stop) {
  core::MutexLock lock(mu_);
  while (
      lock.Wait(submitted_, stop, [this]() REQUIRES(mu_) { return state_ == State::kSubmitted; })) {
    std::function<void()> task = std::move(task_);
    task_ = nullptr;
    state_ = State::kRunning;
    lock.Unlock();
    std::exception_ptr error;
    try {
      task();
    } catch (...) {
      error = std::current_exception();
    }
    lock.Lock();
    error_ = error;
    state_ = State::kDone;
    done_flag_.store(true, std::memory_order_release);
    done_.notify_all();
  }
}

}  // namespace pinpipe::stream

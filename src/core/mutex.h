// core::Mutex, core::SharedMutex and their scoped locks: std::mutex / std::shared_mutex with the
// clang thread-safety attributes (core/thread_annotations.h), so that -Wthread-safety checks
// every GUARDED_BY field. Mutex is Lockable (lock/unlock/try_lock), SharedMutex also has the
// shared forms. MutexLock holds a Mutex for its scope; Unlock()/Lock() drop and take it again
// inside the scope. Its Wait/WaitFor/WaitUntil take a std::condition_variable or a
// std::condition_variable_any with the arguments of the matching std member (predicate, time,
// std::stop_token) and return what it returns; the lock is held again on return. A predicate
// runs under the lock, so a lambda that reads guarded fields says so: [this]() REQUIRES(mu_) {..}.
// ReaderMutexLock / WriterMutexLock hold a SharedMutex shared / exclusively. None is copyable.
#pragma once

#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "core/thread_annotations.h"

namespace pinpipe::core {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() {
    mu_.unlock();
    held_ = false;
  }
  void Lock() ACQUIRE() {
    mu_.lock();
    held_ = true;
  }

  template <class... Args>
  decltype(auto) Wait(std::condition_variable& cv, Args&&... args) NO_THREAD_SAFETY_ANALYSIS {
    return Native([&](std::unique_lock<std::mutex>& lock) -> decltype(auto) {
      return cv.wait(lock, std::forward<Args>(args)...);
    });
  }
  template <class... Args>
  decltype(auto) WaitFor(std::condition_variable& cv, Args&&... args) NO_THREAD_SAFETY_ANALYSIS {
    return Native([&](std::unique_lock<std::mutex>& lock) -> decltype(auto) {
      return cv.wait_for(lock, std::forward<Args>(args)...);
    });
  }
  template <class... Args>
  decltype(auto) WaitUntil(std::condition_variable& cv, Args&&... args) NO_THREAD_SAFETY_ANALYSIS {
    return Native([&](std::unique_lock<std::mutex>& lock) -> decltype(auto) {
      return cv.wait_until(lock, std::forward<Args>(args)...);
    });
  }
  template <class... Args>
  decltype(auto) Wait(std::condition_variable_any& cv, Args&&... args) NO_THREAD_SAFETY_ANALYSIS {
    return cv.wait(mu_, std::forward<Args>(args)...);
  }
  template <class... Args>
  decltype(auto) WaitFor(std::condition_variable_any& cv,
                         Args&&... args) NO_THREAD_SAFETY_ANALYSIS {
    return cv.wait_for(mu_, std::forward<Args>(args)...);
  }
  template <class... Args>
  decltype(auto) WaitUntil(std::condition_variable_any& cv,
                           Args&&... args) NO_THREAD_SAFETY_ANALYSIS {
    return cv.wait_until(mu_, std::forward<Args>(args)...);
  }

 private:
  // Lends the held std::mutex to a std::unique_lock for one std::condition_variable call; the
  // lock stays held (and owned by this MutexLock) afterwards.
  template <class Fn>
  decltype(auto) Native(Fn&& fn) {
    std::unique_lock<std::mutex> lock(mu_.mu_, std::adopt_lock);
    struct Keep {
      std::unique_lock<std::mutex>& lock;
      ~Keep() { lock.release(); }
    } keep{lock};
    return fn(lock);
  }

  Mutex& mu_;
  bool held_ = true;
};

class CAPABILITY("mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  void lock_shared() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

class SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterMutexLock() RELEASE() { mu_.unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

class SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderMutexLock() RELEASE() { mu_.unlock_shared(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace pinpipe::core

#include "stop_signals.h"

#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <utility>

namespace pinpipe::app {

StopSignals::StopSignals(std::string name, std::string on_stop)
    : log_(std::move(name)), on_stop_(std::move(on_stop)) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  thread_ = std::jthread([this] {
    int sig = 0;
    sigwait(&set_, &sig);
    if (source_.stop_requested()) return;  // RequestStop() or the destructor woke us
    log_.Info("{}, {}", sig == SIGINT ? "SIGINT" : "SIGTERM", on_stop_);
    signal_.store(sig);
    source_.request_stop();
  });
}

StopSignals::~StopSignals() {
  if (!source_.stop_requested()) RequestStop();
}

int StopSignals::Wait() {
  std::mutex mutex;
  std::condition_variable_any stopped;
  std::unique_lock lock(mutex);
  // Nothing notifies `stopped`: the stop request on the token wakes it.
  stopped.wait(lock, source_.get_token(), [] { return false; });
  return signal_.load();
}

void StopSignals::RequestStop() {
  if (!source_.request_stop()) return;  // already requested
  // Wakes the signal thread (the signal is blocked everywhere, so it goes to the one sigwait).
  pthread_kill(thread_.native_handle(), SIGTERM);
}

}  // namespace pinpipe::app

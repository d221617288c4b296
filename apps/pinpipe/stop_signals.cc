#include "stop_signals.h"

#include <pthread.h>

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
    if (flag_.load()) return;  // RequestStop() or the destructor woke us
    log_.Info("{}, {}", sig == SIGINT ? "SIGINT" : "SIGTERM", on_stop_);
    signal_.store(sig);
    flag_.store(true);
    flag_.notify_all();
    source_.request_stop();
  });
}

StopSignals::~StopSignals() {
  if (!flag_.load()) RequestStop();
}

int StopSignals::Wait() {
  flag_.wait(false);
  return signal_.load();
}

void StopSignals::RequestStop() {
  if (flag_.exchange(true)) return;
  flag_.notify_all();
  source_.request_stop();
  // Wakes the signal thread (the signal is blocked everywhere, so it goes to the one sigwait).
  pthread_kill(thread_.native_handle(), SIGTERM);
}

}  // namespace pinpipe::app

// StopSignals: how every subcommand takes SIGINT and SIGTERM (one helper instead of a sigwait()
// block, a signal thread class and two async handlers, each written per command).
//
// Construct it first in the command, before any thread exists (librdkafka's, an HTTP server's):
// it blocks both signals in the calling thread, so every thread started afterwards inherits the
// mask, and starts one thread that waits for either (sigwait), logs
// "SIGTERM, <on_stop>" (component <name>) and requests stop. Child processes get a clean mask from
// process::Child. Stop is then seen through token() (every stoppable loop takes a
// std::stop_token) or Wait() (a command whose main thread has nothing else to do).
// RequestStop() ends the same way without a signal (a fatal error elsewhere). The destructor
// ends the signal thread if no signal came. One per process.
#pragma once

#include <atomic>
#include <csignal>
#include <stop_token>
#include <string>
#include <thread>

#include "log/logger.h"

namespace pinpipe::app {

class StopSignals {
 public:
  StopSignals(std::string name, std::string on_stop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  std::stop_token token() const { return source_.get_token(); }
  bool stop_requested() const { return source_.stop_requested(); }
  // Blocks until stop is requested; returns the signal (SIGINT or SIGTERM), 0 for RequestStop().
  int Wait();
  void RequestStop();

 private:
  log::Logger log_;
  std::string on_stop_;
  sigset_t set_;
  std::stop_source source_;
  std::atomic<int> signal_{0};  // written before source_'s stop request, read after it
  std::jthread thread_;
};

}  // namespace pinpipe::app

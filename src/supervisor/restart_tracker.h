// RestartTracker: the supervisor's decision when one worker's process exits without being asked
// to: restart it after a back-off, leave it finished, or give up. One per worker; pure (the
// caller measures the uptime), not thread-safe.
//
//   * exit status 0 of an on-failure worker: finished, not restarted;
//   * otherwise restart after the back-off (RestartOptions: 1 s doubling to 30 s by default),
//     which starts over once a process ran for `healthy_after`;
//   * an exit within `startup_window` of the start (also a start that could not exec) is a failed
//     start; `max_failed_starts` of them in a row: give up. A process that outlived the window
//     ends the row.
#pragma once

#include <chrono>

#include "core/backoff.h"
#include "supervisor/worker_spec.h"

namespace pinpipe::supervisor {

class RestartTracker {
 public:
  RestartTracker(RestartPolicy policy, const RestartOptions& options);

  enum class Action { kRestart, kFinished, kGiveUp };
  struct Decision {
    Action action = Action::kRestart;
    std::chrono::milliseconds delay{0};  // kRestart: wait this long first
  };

  // A process of the worker exited by itself after `uptime`; `success`: exit status 0.
  Decision OnExit(std::chrono::milliseconds uptime, bool success);

  // Restarts decided so far.
  int restarts() const { return restarts_; }
  // Failed starts in a row (0 once a process outlived the start-up window).
  int failed_starts() const { return failed_starts_; }

 private:
  RestartPolicy policy_;
  RestartOptions options_;
  core::Backoff backoff_;
  int restarts_ = 0;
  int failed_starts_ = 0;
};

}  // namespace pinpipe::supervisor
